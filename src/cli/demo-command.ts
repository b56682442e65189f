// solominer demo: the main job on an embedded default. A private regtest node is started, a
// payout key is made for the occasion, a few blocks are mined with every engine this machine
// has, what happened is printed, and the node is stopped and its data removed — also when
// interrupted. Regtest's target is trivial, so the demo then mines one block per engine on a
// private signet (challenge OP_TRUE, difficulty ~0.001) to show real proof of work. With
// --dashboard it keeps mining there afterwards, every engine together, and serves the dashboard
// page until Ctrl-C.
import { createECDH } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { p2wpkh, TEST_NETWORK } from '@scure/btc-signer';

import { loadMineConfig } from '../config/load-config.js';
import type { MineConfig } from '../config/mine-config.js';
import { createEngine, type EngineKind } from '../engines/create-engine.js';
import { LocalNode, type LocalNetwork } from '../devnode/local-node.js';
import { blockInActiveChain } from '../node/node-checks.js';
import type { FoundBlock } from '../miner/miner.js';
import { runMineService } from '../miner/service.js';
import { textLogger, type Logger } from '../telemetry/logger.js';
import { newCommand, type RunState } from './command-kit.js';
import { flagError, intFlag } from './flags.js';

const REGTEST_NETWORK = { ...TEST_NETWORK, bech32: 'bcrt' };
const SIGNET_NETWORK = TEST_NETWORK;

interface EngineRun {
  readonly kind: EngineKind;
  readonly backend: string;
  readonly blocks: { height: number; hash: string; ms: number }[];
  readonly hashes: number;
  readonly seconds: number;
}

function payoutAddress(network: LocalNetwork): string {
  // A throwaway key: the demo's coins live and die with its private chain.
  const ecdh = createECDH('secp256k1');
  ecdh.generateKeys();
  const pubkey = Uint8Array.from(ecdh.getPublicKey(undefined, 'compressed'));
  return p2wpkh(pubkey, network === 'regtest' ? REGTEST_NETWORK : SIGNET_NETWORK).address!;
}

async function availableEngines(wanted: readonly EngineKind[], say: (line: string) => void): Promise<EngineKind[]> {
  const out: EngineKind[] = [];
  for (const kind of wanted) {
    try {
      const engine = await createEngine({ kind });
      await engine.close();
      out.push(kind);
    } catch (err) {
      say(`  ${kind}: not available here (${(err as Error).message.replace(/^engine: /, '')})`);
    }
  }
  return out;
}

/** The demo's own mine configuration: the user's SOLOMINER_* variables and config.json stay out of it. */
function demoConfig(node: LocalNode, engines: readonly EngineKind[], workDir: string, extra: readonly string[]): Promise<MineConfig> {
  const argv = [
    '--network', node.network === 'regtest' ? 'regtest' : 'signet',
    '--rpc-url', node.rpcUrl,
    '--rpc-cookie', node.cookiePath,
    '--address', payoutAddress(node.network),
    '--engines', engines.join(','),
    '--journal', join(workDir, `${node.network}-${engines.join('-')}.jsonl`),
    '--report-dir', join(workDir, 'reports'),
    ...(node.zmqEndpoint ? ['--zmq', node.zmqEndpoint] : []),
    ...extra,
  ];
  return loadMineConfig({ argv, env: {}, cwd: workDir });
}

async function mineWith(node: LocalNode, kind: EngineKind, blocks: number, workDir: string, log: Logger): Promise<EngineRun> {
  const config = await demoConfig(node, [kind], workDir, ['--max-blocks', String(blocks)]);
  const engine = await createEngine({ kind });
  const found: EngineRun['blocks'] = [];
  let lastAt = performance.now();
  const summary = await runMineService({
    config,
    log,
    engines: [engine],
    onStarted: ({ miner }) => {
      lastAt = performance.now();
      miner.on('block', (b: FoundBlock) => {
        const now = performance.now();
        found.push({ height: b.job.height, hash: b.block.hash, ms: now - lastAt });
        lastAt = now;
      });
    },
  });
  return { kind, backend: engine.backend, blocks: found, hashes: summary.stats.totalHashes, seconds: summary.seconds };
}

/** Every engine mining on `node` with the dashboard served, until `signal` (Ctrl-C). */
async function serveDashboard(node: LocalNode, engines: readonly EngineKind[], port: number, workDir: string, log: Logger, say: (line: string) => void, signal: AbortSignal): Promise<void> {
  const config = await demoConfig(node, engines, workDir, ['--metrics-port', String(port)]);
  await runMineService({
    config,
    log,
    signal,
    onStarted: ({ recorder }) => {
      say(`dashboard: ${recorder.metricsUrl}/ (mining on the private signet with ${engines.join(' and ')}; Ctrl-C to stop)`);
    },
  });
}

async function notInActiveChain(node: LocalNode, hashes: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const hash of hashes) if (!(await blockInActiveChain(node.rpc, hash))) missing.push(hash);
  return missing;
}

function report(say: (line: string) => void, run: EngineRun): void {
  const rate = run.seconds > 0 ? run.hashes / run.seconds : 0;
  say(`  ${run.kind}/${run.backend}: ${run.blocks.length} block${run.blocks.length === 1 ? '' : 's'}, ${run.hashes} hashes in ${run.seconds.toFixed(2)} s (${(rate / 1e6).toFixed(2)} MH/s)`);
  for (const b of run.blocks) say(`    height ${String(b.height).padStart(4)}  ${b.hash}  ${b.ms.toFixed(1)} ms`);
}

export function demoCommand(state: RunState): CommandUnknownOpts {
  const cmd = newCommand('demo', 'mine on a private node with every engine this machine has (regtest, then real work on a private signet), then clean up')
    .option('--blocks <n>', 'regtest blocks per engine (default: 3)')
    .option('--engines <list>', 'engines to show, cpu,gpu or one of them (default: cpu,gpu; one not available here is said so)')
    .option('--verbose', "the miner's and node's log lines on stderr", false)
    .option('--dashboard [port]', 'afterwards keep mining on the private signet and serve the dashboard on this port (default: a free one) until Ctrl-C');
  cmd.action(async (flags) => {
    state.code = await demo(flags);
  });
  return cmd;
}

async function demo(flags: { blocks?: string | undefined; engines?: string | undefined; verbose: boolean; dashboard?: string | boolean | undefined }): Promise<number> {
  const blocks = intFlag('blocks', flags.blocks, 1, 1000, 3);
  const dashboardPort = flags.dashboard === undefined ? undefined : typeof flags.dashboard === 'string' ? intFlag('dashboard', flags.dashboard, 0, 65535, 0) : 0;
  const wanted = (flags.engines ?? 'cpu,gpu').split(',').map((s) => s.trim());
  for (const w of wanted) if (w !== 'cpu' && w !== 'gpu') throw flagError('engines', `expected cpu, gpu or cpu,gpu, got ${JSON.stringify(w)}`);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const log: Logger = flags.verbose ? textLogger() : (level, msg) => level !== 'info' && process.stderr.write(`${level}: ${msg}\n`);

  say('solominer demo: a private node, mined with every engine this machine has');
  const engines = await availableEngines(wanted as EngineKind[], say);
  if (engines.length === 0) {
    say('no engine is available: nothing to mine with');
    return 1;
  }
  const workDir = await mkdtemp(join(tmpdir(), 'solominer-demo-'));
  let node: LocalNode | undefined;
  const interrupted = new AbortController();
  let failed = false;
  let serving = false;
  const onSignal = () => {
    say(serving ? 'stopping the miner and the node, cleaning up' : 'interrupted: stopping the node and cleaning up');
    interrupted.abort();
    // While the dashboard is served the miner stops on the signal first; the node after it.
    if (!serving) void node?.stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (const network of ['regtest', 'signet'] as const) {
      if (interrupted.signal.aborted) break;
      const perEngine = network === 'regtest' ? blocks : 1;
      node = await LocalNode.start({ network, ...(flags.verbose ? { log: (l) => process.stderr.write(`node: ${l}\n`) } : {}) });
      const version = await node.rpc.call<{ subversion: string }>('getnetworkinfo');
      say(
        network === 'regtest'
          ? `regtest (trivial target: the whole find-submit-next cycle), node ${version.subversion}:`
          : `private signet (challenge OP_TRUE, real proof of work at difficulty ~0.001), same node:`,
      );
      const mined: string[] = [];
      for (const kind of engines) {
        if (interrupted.signal.aborted) break;
        const run = await mineWith(node, kind, perEngine, workDir, log);
        report(say, run);
        mined.push(...run.blocks.map((b) => b.hash));
      }
      if (interrupted.signal.aborted) break;
      // Asked of the node, not assumed: every block printed is in its active chain.
      const missing = await notInActiveChain(node, mined);
      const height = (await node.rpc.call<{ blocks: number }>('getblockchaininfo')).blocks;
      if (missing.length > 0) {
        say(`  chain height ${height}; NOT in the node's active chain: ${missing.join(', ')}`);
        failed = true;
      } else {
        say(`  chain height ${height}; the node has all ${mined.length} block(s) above in its active chain`);
      }
      if (network === 'signet' && dashboardPort !== undefined && !failed) {
        serving = true;
        await serveDashboard(node, engines, dashboardPort, workDir, log, say, interrupted.signal);
        serving = false;
        await node.stop();
        node = undefined;
        return 0;
      }
      await node.stop();
      node = undefined;
    }
    return interrupted.signal.aborted || failed ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await node?.stop().catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
  }
}
