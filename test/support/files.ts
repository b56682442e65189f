// Shared helpers for the ops tests: temp folders, sample records, and a spy on fsync calls.
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { FoundBlockRecord } from '../../src/submit/found-block-journal.js';

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'solominer-ops-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

let height = 100;

/** A found record with a fresh random hash and a block body of `blockBytes` random bytes. */
export function sampleFound(overrides: Partial<FoundBlockRecord> = {}, blockBytes = 300): FoundBlockRecord {
  return {
    type: 'found',
    time: new Date().toISOString(),
    network: 'regtest',
    height: height++,
    hash: `0000${randomBytes(30).toString('hex')}`,
    previousblockhash: randomBytes(32).toString('hex'),
    blockHex: randomBytes(blockBytes).toString('hex'),
    engine: 'cpu',
    backend: 'scalar',
    ...overrides,
  };
}

interface HandleLike {
  stat(): Promise<{ isDirectory(): boolean }>;
}
type SyncFn = (this: HandleLike) => Promise<void>;
type WriteFn = (this: HandleLike, ...args: unknown[]) => Promise<unknown>;

/**
 * Wraps FileHandle.prototype.sync (and, with `writes`, .write) so a test sees every fsync,
 * whether it was of a file or a directory, and every write, in order with its own events.
 * Call restore() in a finally block.
 */
export async function spyOnFsync(
  scratch: string,
  events: string[],
  options: { writes?: boolean } = {},
): Promise<{ restore: () => void }> {
  const probe = await open(scratch, 'w');
  const proto = Object.getPrototypeOf(probe) as { sync: SyncFn; write: WriteFn };
  await probe.close();
  const originalSync = proto.sync;
  const originalWrite = proto.write;
  proto.sync = async function (this: HandleLike) {
    const st = await this.stat();
    await originalSync.call(this);
    events.push(st.isDirectory() ? 'fsync:dir' : 'fsync:file');
  };
  if (options.writes) {
    proto.write = async function (this: HandleLike, ...args: unknown[]) {
      events.push('write');
      return originalWrite.apply(this, args);
    };
  }
  return {
    restore: () => {
      proto.sync = originalSync;
      proto.write = originalWrite;
    },
  };
}
