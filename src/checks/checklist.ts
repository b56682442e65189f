// The checklist `check`, `mine --smoke-test` and `mine --smoke-network` print: one line per
// item, `ok`, `warn`, `fail` or `skip` (not checked because something it depends on failed),
// then one final line. A `fail` is a blocking problem; a `warn` is worth knowing but not one.
export type ItemStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface ChecklistItem {
  readonly status: ItemStatus;
  readonly label: string;
  readonly detail: string;
}

/** `ok   cpu back end: avx512(16way) (also ...)`: the status padded to five columns. */
export function formatItem(item: ChecklistItem): string {
  return `${item.status.padEnd(5)}${item.label}: ${item.detail}`;
}

export class Checklist {
  readonly items: ChecklistItem[] = [];

  /** `onLine` sees every item's line the moment it is decided (a smoke test takes seconds). */
  constructor(private readonly onLine?: (line: string) => void) {}

  add(status: ItemStatus, label: string, detail: string): ChecklistItem {
    // One line each, whatever an error message held.
    const item = { status, label, detail: detail.replace(/\s*\n\s*/g, ' ').trim() };
    this.items.push(item);
    this.onLine?.(formatItem(item));
    return item;
  }

  ok(label: string, detail: string): ChecklistItem {
    return this.add('ok', label, detail);
  }
  warn(label: string, detail: string): ChecklistItem {
    return this.add('warn', label, detail);
  }
  fail(label: string, detail: string): ChecklistItem {
    return this.add('fail', label, detail);
  }
  skip(label: string, detail: string): ChecklistItem {
    return this.add('skip', label, detail);
  }

  count(status: ItemStatus): number {
    return this.items.filter((i) => i.status === status).length;
  }

  get failed(): boolean {
    return this.count('fail') > 0;
  }

  /** `<what>: passed (12 ok, 1 warn)` or `<what>: FAILED (1 fail: node; 11 ok, 1 skip)`. */
  summary(what: string): string {
    const counts = (['ok', 'warn', 'skip'] as const)
      .map((s) => [s, this.count(s)] as const)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ');
    if (!this.failed) return `${what}: passed (${counts})`;
    const failed = this.items.filter((i) => i.status === 'fail').map((i) => i.label);
    return `${what}: FAILED (${failed.length} fail: ${failed.join(', ')}${counts ? `; ${counts}` : ''})`;
  }
}

/**
 * The items of one of several nodes: `node` becomes `node 2`, `chain` becomes `node 2 chain`, in
 * the parent list (which counts them and prints them).
 */
export class ScopedChecklist extends Checklist {
  constructor(
    private readonly parent: Checklist,
    private readonly prefix: string,
  ) {
    super();
  }

  override add(status: ItemStatus, label: string, detail: string): ChecklistItem {
    return this.parent.add(status, label === 'node' ? this.prefix : `${this.prefix} ${label}`, detail);
  }
}
