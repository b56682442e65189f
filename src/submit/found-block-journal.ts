// The found-blocks journal: an append-only JSON-lines file that holds every solved block before
// it is handed to the node. A block is worth a block reward; the journal is what makes "a found
// block is never lost" true across crashes, node outages and restarts (it is replayed at
// start-up). Every append is fsynced before its promise resolves.
//
// Since the block tracker (block-tracker.ts), the same file also holds what became of each
// block on the chain: `status` lines (confirmed, mature, orphaned) and `tip` lines (the tip at
// which the confirmed blocks were last seen in the active chain), so `solominer blocks` can tell
// a block's fate with the miner stopped. Readers skip record types they do not know, so a
// journal of a later version still reads, and a found record without the fields added since
// (payout address, coinbase value) still reads: they can be recovered from its block hex.
//
// Since several nodes: `answer` lines (what each node said of a block, also when it was handed
// back to a node that forgot it), `propagation` lines (which of the configured nodes know it, and
// how many of their peers took it) and `notified` lines (which events were announced, so a
// restart announces what it had not yet and nothing twice).
import { mkdir, open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

import type { BlockReward } from '../bitcoin/subsidy.js';

export const DEFAULT_JOURNAL_NAME = 'found-blocks.jsonl';

/** Outcomes after which a block is never submitted again. */
export type FinalOutcome = 'accepted' | 'duplicate' | 'rejected' | 'stale';
/** `inconclusive` and `unconfirmed` leave the block pending: replay looks at it again. */
export type Outcome = FinalOutcome | 'inconclusive' | 'unconfirmed';

const OUTCOMES: ReadonlySet<string> = new Set<Outcome>([
  'accepted',
  'duplicate',
  'rejected',
  'stale',
  'inconclusive',
  'unconfirmed',
]);
const FINAL: ReadonlySet<string> = new Set<FinalOutcome>(['accepted', 'duplicate', 'rejected', 'stale']);

export function isFinalOutcome(outcome: Outcome): outcome is FinalOutcome {
  return FINAL.has(outcome);
}

/** The reward fields (payout address, coinbase value, subsidy, fees) are absent in journals of earlier versions. */
export interface FoundBlockRecord extends BlockReward {
  readonly type: 'found';
  /** ISO 8601 time the block was solved. */
  readonly time: string;
  readonly network: string;
  readonly height: number;
  /** Block hash in display order (leading zeros first). */
  readonly hash: string;
  readonly previousblockhash: string;
  /** The whole serialized block, as submitblock takes it. */
  readonly blockHex: string;
  readonly engine?: string;
  readonly backend?: string;
  /** The header's version, unsigned (a rolled one when version rolling found the block; absent in earlier journals). */
  readonly version?: number;
  /** The Stratum worker whose share solved the block (absent for the miner's own engines). */
  readonly worker?: string;
  /**
   * Nodes configured when it was found (absent before several nodes). Its events are accounted
   * by `notified` lines (announcements.ts).
   */
  readonly nodes?: number;
}

export interface OutcomeRecord {
  readonly type: 'outcome';
  readonly time: string;
  readonly hash: string;
  readonly outcome: Outcome;
  readonly reason?: string;
}

/** What one node said of a block (the outcome line says what that makes of it). */
export interface AnswerRecord {
  readonly type: 'answer';
  readonly time: string;
  readonly hash: string;
  /** The node's RPC URL. */
  readonly node: string;
  readonly outcome: Outcome;
  readonly reason?: string;
  /** Submitted again at start-up (replay). */
  readonly replayed?: boolean;
  /** Handed back to a node that had forgotten it (block-restorer.ts). */
  readonly handedBack?: boolean;
}

/** Which configured nodes know a block, and how many of their peers took it from them. */
export interface PropagationRecord {
  readonly type: 'propagation';
  readonly time: string;
  readonly hash: string;
  /** The RPC URLs of the configured nodes that have it. */
  readonly nodes: readonly string[];
  /** Configured nodes in all. */
  readonly of: number;
  /** Peers of those nodes that were sent the block (null when not known). */
  readonly peers: number | null;
}

/** An event of a block that was announced (handed to the notifications, delivered or not). */
export interface NotifiedRecord {
  readonly type: 'notified';
  readonly time: string;
  readonly hash: string;
  /** found, accepted, rejected, orphaned, restored, matured, isolated. */
  readonly event: string;
}

/** Where a block stands on the chain, as the tracker last saw it. */
export type ChainStatus = 'confirmed' | 'mature' | 'orphaned';
const CHAIN_STATUSES: ReadonlySet<string> = new Set<ChainStatus>(['confirmed', 'mature', 'orphaned']);

/** A block's move to a new chain status (block-tracker.ts writes it). */
export interface StatusRecord {
  readonly type: 'status';
  readonly time: string;
  readonly hash: string;
  readonly status: ChainStatus;
  /** In the active chain: 1 for the tip, more below it; -1 when not in it (orphaned). */
  readonly confirmations: number;
  /** Height of the tip the confirmations were counted at (null when not known). */
  readonly tipHeight: number | null;
  readonly reason?: string;
  /** Back in the active chain because the miner handed it to a node that had forgotten it. */
  readonly restored?: boolean;
}

/**
 * A new tip at which every block last recorded as confirmed was seen still in the active chain:
 * their confirmations follow from its height without one line per block per tip.
 */
export interface TipRecord {
  readonly type: 'tip';
  readonly time: string;
  readonly height: number;
  readonly hash: string;
}

export type JournalRecord = FoundBlockRecord | OutcomeRecord | StatusRecord | TipRecord | AnswerRecord | PropagationRecord | NotifiedRecord;

/** What one read of the file found. */
export interface JournalScan {
  /** Found records (first per hash, file order) with no final outcome. */
  readonly pending: FoundBlockRecord[];
  readonly records: JournalRecord[];
  /** The last line had no newline and did not parse: a crash in the middle of a write. */
  readonly tornTail: boolean;
  /** 1-based numbers of complete lines that were not a valid record and were skipped. */
  readonly corruptLines: number[];
  /** 1-based numbers of lines of a record type this version does not know (a later version's). */
  readonly unknownLines: number[];
}

export interface JournalOptions {
  /** Where torn-tail and corrupt-line warnings go (default: console.warn). */
  readonly warn?: (message: string) => void;
}

/** The journal cannot be created, written or synced. The message is one line for the user. */
export class JournalError extends Error {
  override readonly name = 'JournalError';
  constructor(
    readonly path: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export class FoundBlockJournal {
  // Appends (and reads) run one after another on this chain, so concurrent callers never
  // interleave bytes and lines land in call order.
  private tail: Promise<unknown> = Promise.resolve();
  private fh: FileHandle | undefined;
  private closed = false;
  // Set when the file may not end in '\n' (a torn line from a crash, or a failed write):
  // the next record then starts on a fresh line instead of being glued onto the fragment.
  private needsNewline: boolean;
  private tornReported = false;
  private corruptReported = 0;
  private readonly warn: (message: string) => void;
  /** Records that may wait for the next write (or a second): one fsync for many. */
  private deferred: JournalRecord[] = [];
  private deferTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly path: string,
    fh: FileHandle,
    needsNewline: boolean,
    options: JournalOptions,
  ) {
    this.fh = fh;
    this.needsNewline = needsNewline;
    this.warn = options.warn ?? ((m) => console.warn(m));
  }

  /**
   * Creates the parent folders and the file if needed, opens it for appending and proves it
   * can be written and synced, so a bad path fails at start-up rather than when a block is found.
   */
  static async open(path: string, options: JournalOptions = {}): Promise<FoundBlockJournal> {
    let fh: FileHandle | undefined;
    try {
      const dir = dirname(path);
      const firstCreated = await makeDirectories(dir);
      const existed = await fileExists(path);
      // a+: appends go to the end (O_APPEND) and the last byte can still be read.
      fh = await open(path, 'a+');
      const st = await fh.stat();
      // /dev/null and friends would swallow found blocks without a sign.
      if (!st.isFile()) throw new JournalError(path, undefined, `journal: cannot write ${path} (not a regular file)`);
      let needsNewline = false;
      if (st.size > 0) {
        const last = Buffer.alloc(1);
        await fh.read(last, 0, 1, st.size - 1);
        needsNewline = last[0] !== 0x0a;
      }
      await fh.sync();
      // A new file (and new folders) exist only in their directory's entries: sync those too,
      // or a crash could leave an fsynced file that no directory points at.
      if (!existed) await syncDirectories(dir, firstCreated);
      return new FoundBlockJournal(path, fh, needsNewline, options);
    } catch (err) {
      await fh?.close().catch(() => undefined);
      throw journalError(path, err);
    }
  }

  /** Resolves once the lines are written and fsynced: several records, one write and one fsync. */
  append(...records: JournalRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    const all = this.takeDeferred(records);
    return this.enqueue(() => this.writeLines(all));
  }

  /**
   * A record that need not cost an fsync of its own (what was announced): written with the next
   * append, or within `ms`, or at close. A crash before then loses it, which only means the next
   * start announces that event again rather than never.
   */
  defer(record: JournalRecord, ms = 1000): void {
    if (this.closed) return;
    this.deferred.push(record);
    this.deferTimer ??= setTimeout(() => {
      this.deferTimer = undefined;
      if (this.deferred.length > 0 && !this.closed) this.append().catch((err: unknown) => this.warn(`journal: ${(err as Error).message}`));
    }, ms);
    this.deferTimer.unref();
  }

  private takeDeferred(records: JournalRecord[]): JournalRecord[] {
    if (this.deferred.length === 0) return records;
    const all = [...this.deferred, ...records];
    this.deferred = [];
    if (this.deferTimer) clearTimeout(this.deferTimer);
    this.deferTimer = undefined;
    return all;
  }

  appendFound(record: FoundBlockRecord): Promise<void> {
    return this.append({ ...record, type: 'found' });
  }

  appendOutcome(record: OutcomeRecord): Promise<void> {
    return this.append({ ...record, type: 'outcome' });
  }

  /** Found blocks with no final outcome (accepted, duplicate, rejected, stale), in file order. */
  async pending(): Promise<FoundBlockRecord[]> {
    const scan = await this.scan();
    if (scan.tornTail && !this.tornReported) {
      this.tornReported = true;
      this.warn(`journal: ${this.path}: last line is incomplete (interrupted write); ignored`);
    }
    if (scan.corruptLines.length > this.corruptReported) {
      this.corruptReported = scan.corruptLines.length;
      this.warn(
        `journal: ${this.path}: skipped ${scan.corruptLines.length} unreadable line(s) (line ${scan.corruptLines.join(', ')})`,
      );
    }
    return scan.pending;
  }

  /** Reads the whole file; queued behind pending appends (deferred ones too) so it never sees half a line of ours. */
  scan(): Promise<JournalScan> {
    if (this.deferred.length > 0 && !this.closed) this.append().catch((err: unknown) => this.warn(`journal: ${(err as Error).message}`));
    return this.enqueue(async () => {
      try {
        return scanText(await readFile(this.path, 'utf8'));
      } catch (err) {
        throw journalError(this.path, err, 'read');
      }
    });
  }

  /** Lets appends already queued finish, then closes; later appends fail with JournalError. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.deferred.length > 0) await this.append().catch((err: unknown) => this.warn(`journal: ${(err as Error).message}`));
    this.closed = true;
    await this.enqueue(async () => {
      const fh = this.fh;
      this.fh = undefined;
      await fh?.close();
    });
  }

  private closedError(): JournalError {
    return new JournalError(this.path, undefined, `journal: cannot write ${this.path} (journal is closed)`);
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task, task);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async writeLines(records: readonly JournalRecord[]): Promise<void> {
    if (records.length === 0) return;
    const fh = this.fh;
    if (!fh) throw this.closedError();
    const buf = Buffer.from(`${this.needsNewline ? '\n' : ''}${records.map((r) => `${JSON.stringify(r)}\n`).join('')}`, 'utf8');
    try {
      let offset = 0;
      while (offset < buf.length) {
        const { bytesWritten } = await fh.write(buf, offset, buf.length - offset, null);
        offset += bytesWritten;
      }
      this.needsNewline = false;
      await fh.sync();
    } catch (err) {
      // Part of the line may be in the file: start the next one on a new line.
      this.needsNewline = true;
      throw journalError(this.path, err);
    }
  }
}

/**
 * Reads a journal without opening it for writing (`solominer blocks`, possibly beside a running
 * miner); undefined when the file does not exist.
 */
export async function readJournal(path: string): Promise<JournalScan | undefined> {
  try {
    return scanText(await readFile(path, 'utf8'));
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw journalError(path, err, 'read');
  }
}

function scanText(text: string): JournalScan {
  const lines = text.split('\n');
  // After the last '\n' comes '' for a well-formed file, else the fragment of a torn write.
  const last = lines.pop() ?? '';
  const records: JournalRecord[] = [];
  const corruptLines: number[] = [];
  const unknownLines: number[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const record = parseRecord(line);
    if (record === UNKNOWN) unknownLines.push(i + 1);
    else if (record) records.push(record);
    else corruptLines.push(i + 1);
  });
  let tornTail = false;
  if (last.trim() !== '') {
    // A write that stopped right before its '\n' is still a whole record.
    const record = parseRecord(last);
    if (record === UNKNOWN) unknownLines.push(lines.length + 1);
    else if (record) records.push(record);
    else tornTail = true;
  }
  const finals = new Set<string>();
  for (const r of records) {
    // A block the tracker has seen on the chain (or lost) is never submitted again.
    if ((r.type === 'outcome' && FINAL.has(r.outcome)) || r.type === 'status') finals.add(r.hash.toLowerCase());
  }
  const seen = new Set<string>();
  const pending: FoundBlockRecord[] = [];
  for (const r of records) {
    if (r.type !== 'found') continue;
    const key = r.hash.toLowerCase();
    if (seen.has(key) || finals.has(key)) continue;
    seen.add(key);
    pending.push(r);
  }
  return { pending, records, tornTail, corruptLines, unknownLines };
}

/** A well-formed line of a record type this version does not know: skipped, not corrupt. */
const UNKNOWN = Symbol('unknown record type');
const KNOWN_TYPES: ReadonlySet<string> = new Set(['found', 'outcome', 'status', 'tip', 'answer', 'propagation', 'notified']);

const optional = (v: unknown, type: 'string' | 'number'): boolean => v === undefined || typeof v === type;

function parseRecord(line: string): JournalRecord | typeof UNKNOWN | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.type === 'string' && !KNOWN_TYPES.has(o.type)) return UNKNOWN;
  if (
    o.type === 'found' &&
    typeof o.time === 'string' &&
    typeof o.network === 'string' &&
    typeof o.height === 'number' &&
    typeof o.hash === 'string' &&
    typeof o.previousblockhash === 'string' &&
    typeof o.blockHex === 'string' &&
    o.blockHex.length > 0 &&
    // Fields added later are optional, but a value of the wrong type is not a record of ours.
    optional(o.worker, 'string') &&
    optional(o.version, 'number') &&
    optional(o.address, 'string') &&
    optional(o.coinbaseValue, 'number') &&
    optional(o.subsidy, 'number') &&
    optional(o.fees, 'number') &&
    optional(o.nodes, 'number')
  ) {
    return o as unknown as FoundBlockRecord;
  }
  if (o.type === 'outcome' && typeof o.hash === 'string' && typeof o.outcome === 'string' && OUTCOMES.has(o.outcome)) {
    return o as unknown as OutcomeRecord;
  }
  if (
    o.type === 'status' &&
    typeof o.time === 'string' &&
    typeof o.hash === 'string' &&
    typeof o.status === 'string' &&
    CHAIN_STATUSES.has(o.status) &&
    typeof o.confirmations === 'number' &&
    (o.tipHeight === null || typeof o.tipHeight === 'number')
  ) {
    return o as unknown as StatusRecord;
  }
  if (o.type === 'tip' && typeof o.time === 'string' && typeof o.height === 'number' && typeof o.hash === 'string') {
    return o as unknown as TipRecord;
  }
  if (o.type === 'answer' && typeof o.hash === 'string' && typeof o.node === 'string' && typeof o.outcome === 'string' && OUTCOMES.has(o.outcome)) {
    return o as unknown as AnswerRecord;
  }
  if (
    o.type === 'propagation' &&
    typeof o.hash === 'string' &&
    Array.isArray(o.nodes) &&
    o.nodes.every((n) => typeof n === 'string') &&
    typeof o.of === 'number' &&
    (o.peers === null || typeof o.peers === 'number')
  ) {
    return o as unknown as PropagationRecord;
  }
  if (o.type === 'notified' && typeof o.hash === 'string' && typeof o.event === 'string') {
    return o as unknown as NotifiedRecord;
  }
  return undefined;
}

/**
 * mkdir -p that returns the first folder it created. Not mkdir({ recursive: true }): on Node 20
 * that spins forever where mkdir fails with ENOENT under an existing parent (e.g. in /proc).
 */
async function makeDirectories(dir: string): Promise<string | undefined> {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      if ((await stat(d)).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${d}'`), { code: 'ENOTDIR' });
    } catch (err) {
      if (errorCode(err) !== 'ENOENT' || dirname(d) === d) throw err;
      missing.push(d);
    }
  }
  const topDown = [...missing].reverse();
  for (const d of topDown) {
    try {
      await mkdir(d);
    } catch (err) {
      // Another process may have made it meanwhile; anything else is the caller's error.
      if (errorCode(err) !== 'EEXIST' || !(await stat(d)).isDirectory()) throw err;
    }
  }
  return topDown[0];
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/** fsyncs `dir` and, when mkdir created folders, every folder from the parent of the first one. */
async function syncDirectories(dir: string, firstCreated: string | undefined): Promise<void> {
  const dirs = [dir];
  if (firstCreated !== undefined) {
    const top = dirname(firstCreated);
    let d = dir;
    while (d !== top && dirname(d) !== d) {
      d = dirname(d);
      dirs.push(d);
    }
  }
  for (const d of dirs) {
    const dh = await open(d, 'r');
    try {
      await dh.sync();
    } catch (err) {
      // Some file systems cannot fsync a directory (EINVAL); the file itself is still synced.
      if (errorCode(err) !== 'EINVAL') throw err;
    } finally {
      await dh.close();
    }
  }
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** One line: "journal: cannot write /x/y.jsonl (EACCES: permission denied)". */
function journalError(path: string, err: unknown, verb: 'write' | 'read' = 'write'): JournalError {
  if (err instanceof JournalError) return err;
  const code = errorCode(err);
  const raw = err instanceof Error ? err.message : String(err);
  // Node's messages read "ENOTDIR: not a directory, mkdir '/x'": keep the part before the path.
  let detail = raw.split('\n')[0] ?? raw;
  const comma = detail.indexOf(', ');
  if (code !== undefined && detail.startsWith(`${code}:`) && comma > 0) detail = detail.slice(0, comma);
  else if (code !== undefined && !detail.startsWith(code)) detail = `${code}: ${detail}`;
  return new JournalError(path, code, `journal: cannot ${verb} ${path} (${detail})`);
}
