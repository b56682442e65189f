/**
 * Best share difficulty per worker, kept across restarts (what solo-pool users ask for most).
 * An append-only JSON-lines file like the found-blocks journal: a line is appended (and
 * fsynced) only when a worker beats its own best, so it grows by a handful of lines a day; a
 * torn last line (a crash mid-write) is ignored at the next start; at start-up the file is read
 * and the best per worker kept. Writes never hold up share handling: they are queued, and a
 * failure is reported once through `warn` while the bests stay in memory.
 * @module
 */
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

interface Line {
  readonly worker: string;
  readonly difficulty: number;
  readonly time: string;
}

export class BestShareStore {
  private readonly best = new Map<string, number>();
  private tail: Promise<void> = Promise.resolve();
  private failing = false;

  private constructor(
    readonly path: string,
    private fh: FileHandle | undefined,
    private readonly warn: (message: string) => void,
    private readonly now: () => number,
  ) {}

  static async open(path: string, warn: (message: string) => void, now: () => number = Date.now): Promise<BestShareStore> {
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warn(`best shares: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}); starting from none`);
    }
    let fh: FileHandle | undefined;
    try {
      await mkdir(dirname(path), { recursive: true });
      fh = await open(path, 'a');
    } catch (err) {
      warn(`best shares: cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}); bests are kept in memory only`);
    }
    const store = new BestShareStore(path, fh, warn, now);
    const lines = text.split('\n');
    // A torn write leaves a last line without '\n' that may not parse: skipped like any bad line.
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        const v = JSON.parse(line) as Partial<Line>;
        if (typeof v.worker === 'string' && typeof v.difficulty === 'number' && Number.isFinite(v.difficulty)) {
          if (v.difficulty > (store.best.get(v.worker) ?? 0)) store.best.set(v.worker, v.difficulty);
        }
      } catch {
        // a torn or foreign line
      }
    }
    // A file that ended without '\n' gets one, so the next line starts clean.
    if (fh && text.length > 0 && !text.endsWith('\n')) store.enqueue('\n');
    return store;
  }

  get(worker: string): number | null {
    return this.best.get(worker) ?? null;
  }

  /** The best share of every worker seen. */
  all(): ReadonlyMap<string, number> {
    return this.best;
  }

  /** A share of `difficulty` by `worker`: recorded when it beats the worker's best. */
  offer(worker: string, difficulty: number): boolean {
    if (!Number.isFinite(difficulty) || difficulty <= (this.best.get(worker) ?? 0)) return false;
    this.best.set(worker, difficulty);
    const line: Line = { worker, difficulty, time: new Date(this.now()).toISOString() };
    this.enqueue(`${JSON.stringify(line)}\n`);
    return true;
  }

  private enqueue(text: string): void {
    this.tail = this.tail.then(async () => {
      const fh = this.fh;
      if (!fh) return;
      try {
        await fh.write(text);
        await fh.sync();
        this.failing = false;
      } catch (err) {
        if (!this.failing) this.warn(`best shares: cannot write ${this.path} (${(err as NodeJS.ErrnoException).code ?? 'error'}); kept in memory`);
        this.failing = true;
      }
    });
  }

  /** Waits for queued writes, then closes the file. */
  async close(): Promise<void> {
    await this.tail;
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }
}
