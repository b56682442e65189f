// Helpers for the config tests: a fresh working folder per test, optionally with a config file.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigError, loadMineConfig } from '../../src/config/load-config.js';
import type { MineConfig } from '../../src/config/mine-config.js';

export const ADDRESS = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';

export interface Setup {
  readonly argv?: string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Written to <cwd>/config.json: an object is JSON-encoded, a string written as is. */
  readonly file?: Record<string, unknown> | string;
}

export async function withCwd<T>(fn: (cwd: string) => Promise<T>): Promise<T> {
  const cwd = await mkdtemp(join(tmpdir(), 'solominer-config-'));
  try {
    return await fn(cwd);
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

export function load(setup: Setup): Promise<MineConfig> {
  return withCwd(async (cwd) => {
    if (setup.file !== undefined) {
      await writeFile(join(cwd, 'config.json'), typeof setup.file === 'string' ? setup.file : JSON.stringify(setup.file));
    }
    return loadMineConfig({ argv: setup.argv ?? [], env: setup.env ?? {}, cwd });
  });
}

/** The ConfigError message `setup` fails with (fails the test if it loads). */
export async function failure(setup: Setup): Promise<string> {
  try {
    await load(setup);
  } catch (err) {
    if (err instanceof ConfigError) {
      if (err.message.includes('\n')) throw new Error(`message is not one line: ${JSON.stringify(err.message)}`);
      return err.message;
    }
    throw err;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(setup)}`);
}
