// Runs the mining service against a LocalNode the way `solominer mine` would, with a logger
// that collects lines for assertions instead of printing them.
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadMineConfig } from '../../src/config/load-config.js';
import type { MineConfig } from '../../src/config/mine-config.js';
import { runMineService, type ServiceOptions, type ServiceSummary } from '../../src/miner/service.js';
import type { LocalNode } from '../../src/devnode/local-node.js';
import type { Logger } from '../../src/telemetry/logger.js';

const scratch: string[] = [];
process.on('exit', () => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder for one test's files, removed when the test process exits. */
export async function scratchDir(prefix = 'solominer-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

/** The flags `mine` would get to mine on `node`, for use with the CLI or loadMineConfig (no --address when undefined). */
export function mineArgs(node: LocalNode, address: string | undefined, dir: string, extra: string[] = []): string[] {
  return [
    '--network', node.network,
    '--rpc-url', node.rpcUrl,
    '--rpc-cookie', node.cookiePath,
    ...(address === undefined ? [] : ['--address', address]),
    '--journal', join(dir, 'found-blocks.jsonl'),
    '--report-dir', join(dir, 'reports'),
    '--threads', '2',
    ...(node.zmqEndpoint ? ['--zmq', node.zmqEndpoint] : []),
    ...extra,
  ];
}

export async function mineConfig(node: LocalNode, address: string | undefined, dir: string, extra: string[] = []): Promise<MineConfig> {
  return loadMineConfig({ argv: mineArgs(node, address, dir, extra), env: {}, cwd: dir });
}

export interface CollectedLog {
  readonly lines: string[];
  readonly log: Logger;
}

export function collectingLogger(): CollectedLog {
  const lines: string[] = [];
  const log: Logger = (level, msg, fields) => {
    lines.push(`${level} ${msg}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
    if (process.env.SOLOMINER_TEST_MINER_LOG) process.stderr.write(`[miner] ${level} ${msg}\n`);
  };
  return { lines, log };
}

export async function runMiner(config: MineConfig, options: Partial<ServiceOptions> = {}): Promise<ServiceSummary & CollectedLog> {
  const collected = collectingLogger();
  const summary = await runMineService({ config, log: collected.log, ...options });
  return { ...summary, ...collected };
}
