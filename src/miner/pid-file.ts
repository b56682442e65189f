// `mine --pid-file <f>` and `solominer stop`: the running miner's process id in a file, created
// atomically, never over a live miner's; removed when the miner exits, after it has written what
// its orderly stop settled next to it (<f>.stopped.json), which `stop` reports.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

import type { StopSettlement } from './service.js';

/** A pid file that cannot be taken: one line (the CLI names --pid-file in front of it). */
export class PidFileError extends Error {
  override readonly name = 'PidFileError';
}

/** What a miner's orderly stop settled, written next to its pid file for `solominer stop`. */
export interface StopSummary {
  readonly pid: number;
  readonly stoppedAt: string;
  /** signal, duration or max-blocks. */
  readonly reason: string;
  readonly seconds: number;
  readonly hashes: number;
  /** found, then counts by outcome. */
  readonly blocks: Readonly<Record<string, number>>;
  readonly atStop: StopSettlement;
}

export function stopSummaryPath(pidFile: string): string {
  return `${pidFile}.stopped.json`;
}

/** Whether `pid` is a process that exists (a zombie, exited but not yet reaped, does not count). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists, under another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): kill(pid, 0) is all there is to go by
  }
}

/**
 * Whether `pid` is a running solominer other than this process: alive, and (where /proc tells)
 * its command line names solominer. A pid file left by a crash may name a pid that the system
 * has since given to another program; that one is not a miner.
 */
export function isRunningMiner(pid: number): boolean {
  if (pid === process.pid || !processAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('solominer');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT' || process.platform !== 'linux';
  }
}

export type PidFileState =
  | { readonly state: 'absent' }
  | { readonly state: 'invalid' }
  | { readonly state: 'stale'; readonly pid: number }
  | { readonly state: 'running'; readonly pid: number };

/** What a pid file says: absent, not a pid, a pid that is no running miner, or a running miner. */
export async function readPidFile(path: string): Promise<PidFileState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'absent' };
    throw new PidFileError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const m = /^\s*(\d+)\s*$/.exec(text);
  const pid = m ? Number(m[1]) : Number.NaN;
  if (!Number.isSafeInteger(pid) || pid < 1) return { state: 'invalid' };
  return isRunningMiner(pid) ? { state: 'running', pid } : { state: 'stale', pid };
}

async function syncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r').catch(() => undefined);
  await dh?.sync().catch(() => undefined);
  await dh?.close();
}

/** This process's pid file, taken; release() removes it (once). */
export class PidFile {
  private released = false;

  private constructor(
    readonly path: string,
    readonly pid: number,
  ) {}

  /**
   * Writes this process's pid to `path` so that a reader sees either no file or the whole pid:
   * a temporary file, fsynced, then hard-linked into place (which fails if a file is there),
   * or renamed over a stale one. A file that names a running solominer is left alone.
   */
  static async claim(path: string): Promise<PidFile> {
    const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      const fh = await open(tmp, 'wx', 0o644);
      try {
        await fh.writeFile(`${process.pid}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      throw new PidFileError(`cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    try {
      try {
        await link(tmp, path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const existing = await readPidFile(path);
        if (existing.state === 'running') {
          throw new PidFileError(`${path} names a running solominer (pid ${existing.pid}); stop it first (solominer stop --pid-file ${path})`);
        }
        await rename(tmp, path); // stale or unreadable: replaced
      }
    } catch (err) {
      if (err instanceof PidFileError) throw err;
      throw new PidFileError(`cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    } finally {
      await rm(tmp, { force: true });
    }
    await syncDir(dirname(path));
    // A summary of an earlier run must not be read as this one's.
    await rm(stopSummaryPath(path), { force: true });
    return new PidFile(path, process.pid);
  }

  /** Writes the stop summary next to the pid file (atomically: temporary file, then rename). */
  async writeSummary(summary: Omit<StopSummary, 'pid'>): Promise<void> {
    const target = stopSummaryPath(this.path);
    const tmp = `${target}.tmp-${this.pid}`;
    await rm(tmp, { force: true });
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(`${JSON.stringify({ pid: this.pid, ...summary })}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  }

  /** Removes the pid file if it still names this process (another miner may have replaced a file it took for stale). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const text = await readFile(this.path, 'utf8').catch(() => '');
    if (text.trim() === String(this.pid)) await rm(this.path, { force: true });
  }
}

/** The stop summary that `pid` left next to `pidFile`, if it left one. */
export async function readStopSummary(pidFile: string, pid: number): Promise<StopSummary | undefined> {
  try {
    const parsed = JSON.parse(await readFile(stopSummaryPath(pidFile), 'utf8')) as StopSummary;
    return parsed.pid === pid ? parsed : undefined;
  } catch {
    return undefined;
  }
}
