// `mine --smoke-network`: proves the node side. RPC latency; chain, peers and sync state; ZMQ
// delivering a hashblock notification (on regtest it triggers one; elsewhere it waits for one
// up to a time limit); template freshness; and on regtest or a private signet it mines and
// submits one real block through the miner itself. A checklist, then exit 0 or 1.
import type { MineConfig } from '../config/mine-config.js';
import { runMineService, ServiceError } from '../miner/service.js';
import { blockInActiveChain } from '../node/node-checks.js';
import { rpcClientFor, type RpcClient } from '../node/rpc-client.js';
import { templateRequest } from '../node/template-source.js';
import { ZmqBlockSubscriber, type BlockNotification } from '../node/zmq-blocks.js';
import type { Logger } from '../telemetry/logger.js';
import { Checklist } from './checklist.js';
import {
  describeMs,
  errorText,
  probeAddress,
  probeChain,
  probeNode,
  probeSync,
  probeZmq,
  PUBLIC_SIGNET_CHALLENGE,
} from './probes.js';

export interface SmokeNetworkOptions {
  readonly config: MineConfig;
  readonly out: (line: string) => void;
  readonly addressMissing?: boolean;
  /** How long to wait for a ZMQ notification on a chain where none can be triggered. */
  readonly zmqWaitMs?: number;
  /** How long mining the one block may take on regtest or a private signet. */
  readonly mineTimeoutSeconds?: number;
}

const LATENCY_CALLS = 5;
const SLOW_RPC_MS = 500;
/** A mainnet or testnet tip older than this suggests a node that is stuck or cut off. */
const OLD_TIP_SECONDS = 2 * 60 * 60;

/** Notifications seen so far, and a way to wait for the next one (or one for a given hash). */
class NotificationWatch {
  readonly seen: BlockNotification[] = [];
  private waiters: { hash?: string; resolve: (n: BlockNotification) => void }[] = [];

  constructor(readonly subscriber: ZmqBlockSubscriber) {
    subscriber.on('block', (n) => {
      this.seen.push(n);
      this.waiters = this.waiters.filter((w) => {
        if (w.hash !== undefined && w.hash !== n.hash) return true;
        w.resolve(n);
        return false;
      });
    });
    subscriber.on('error', () => undefined);
  }

  wait(ms: number, hash?: string): Promise<BlockNotification | undefined> {
    const already = this.seen.find((n) => hash === undefined || n.hash === hash);
    if (already) return Promise.resolve(already);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(undefined);
      }, ms);
      const waiter = {
        ...(hash !== undefined ? { hash } : {}),
        resolve: (n: BlockNotification) => {
          clearTimeout(timer);
          resolve(n);
        },
      };
      this.waiters.push(waiter);
    });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function runSmokeNetwork(options: SmokeNetworkOptions): Promise<Checklist> {
  const { config } = options;
  const list = new Checklist(options.out);
  const payout = probeAddress(list, config, options.addressMissing ?? false);
  const rpc = rpcClientFor(config);
  const contact = await probeNode(list, config, rpc, config.connectTimeout * 1000);
  if (!contact) {
    for (const label of ['rpc latency', 'chain', 'sync', 'zmq', 'template', 'mine one block']) list.skip(label, 'the node was not reached');
    return list;
  }

  // RPC latency: a few cheap calls; the median says more than one sample.
  const samples: number[] = [contact.rpcMs];
  try {
    for (let i = 1; i < LATENCY_CALLS; i++) {
      const began = performance.now();
      await rpc.call('getblockchaininfo');
      samples.push(performance.now() - began);
    }
    const detail = `median ${describeMs(median(samples))}, max ${describeMs(Math.max(...samples))} over ${samples.length} getblockchaininfo calls`;
    if (median(samples) > SLOW_RPC_MS) list.warn('rpc latency', `${detail}: slow, every new block's work waits on it`);
    else list.ok('rpc latency', detail);
  } catch (err) {
    list.fail('rpc latency', errorText(err));
  }

  const chainOk = probeChain(list, config, contact.chainInfo);
  if (!chainOk) {
    for (const label of ['sync', 'zmq', 'template', 'mine one block']) list.skip(label, 'the node is on another chain');
    return list;
  }
  probeSync(list, config, contact);

  // Which chain is this really: regtest and a private signet may be mined on here.
  let signetChallenge: string | undefined;
  let templateError: string | undefined;
  try {
    const raw = await rpc.call<{ signet_challenge?: string }>('getblocktemplate', templateRequest(config.network));
    signetChallenge = raw.signet_challenge;
  } catch (err) {
    templateError = errorText(err);
  }
  const privateSignet = config.network === 'signet' && signetChallenge !== undefined && signetChallenge !== PUBLIC_SIGNET_CHALLENGE;
  const mineable = config.network === 'regtest' || privateSignet;

  let watch: NotificationWatch | undefined;
  try {
    // ZMQ: what the node publishes, then whether a notification actually arrives.
    const zmqOk = config.zmq !== undefined ? await probeZmq(list, config, rpc) : false;
    if (config.zmq === undefined) list.warn('zmq', 'not used (no --zmq): the miner learns of new blocks by longpoll');
    if (zmqOk && config.zmq !== undefined) {
      const subscriber = new ZmqBlockSubscriber(config.zmq);
      watch = new NotificationWatch(subscriber);
      subscriber.start();
      if (config.network === 'regtest') {
        await triggerOnRegtest(list, rpc, watch, payout ? config.address : undefined);
      } else if (!mineable) {
        const ms = options.zmqWaitMs ?? 60_000;
        const began = performance.now();
        const n = await watch.wait(ms);
        if (n) list.ok('zmq delivery', `hashblock ${n.hash} arrived after ${describeMs(performance.now() - began)} of waiting`);
        else list.warn('zmq delivery', `no new block within ${Math.round(ms / 1000)} s (subscribed to ${config.zmq}; blocks come about every 10 minutes)`);
      }
      // On a private signet the block mined below is the notification waited for.
    }

    await probeFreshness(list, config, rpc, templateError);

    if (!mineable) {
      list.skip(
        'mine one block',
        config.network === 'signet'
          ? 'the public signet needs its signers\' signature on every block: only regtest or a private signet (-signetchallenge) is mined on here'
          : `not on ${config.network === 'main' ? 'mainnet' : config.network}: only regtest or a private signet is mined on here`,
      );
    } else if (!payout) {
      list.skip('mine one block', 'no valid payout address');
    } else {
      const hash = await mineOneBlock(list, config, rpc, options.mineTimeoutSeconds ?? 300);
      if (hash !== undefined && watch !== undefined && config.network !== 'regtest') {
        const n = await watch.wait(10_000, hash);
        if (n) list.ok('zmq delivery', `hashblock ${hash} (the block just mined) arrived`);
        else list.fail('zmq delivery', `no hashblock notification for the block just mined within 10 s at ${config.zmq} (--zmq)`);
      }
    }
  } finally {
    await watch?.subscriber.close().catch(() => undefined);
  }
  return list;
}

/**
 * Mines a block with the node itself and waits for its notification. A subscriber misses what
 * is published before its subscription reaches the node (ZMQ's "slow joiner"), so up to three
 * blocks are tried.
 */
async function triggerOnRegtest(list: Checklist, rpc: RpcClient, watch: NotificationWatch, address: string | undefined): Promise<void> {
  const label = 'zmq delivery';
  try {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const began = performance.now();
      // Without a valid address the block pays an anyone-can-spend output (regtest only).
      const [hash] = address !== undefined
        ? await rpc.call<string[]>('generatetoaddress', 1, address)
        : await rpc.call<string[]>('generatetodescriptor', 1, 'raw(51)');
      const n = await watch.wait(attempt === 3 ? 10_000 : 2_000, hash);
      if (n) {
        // Earlier blocks of this loop were mined too (their notification came too late or not
        // at all): say how many, so that nobody wonders where the extra blocks came from.
        const tries = attempt > 1 ? `, the node's block ${attempt} of ${attempt} mined on request` : '';
        list.ok(label, `hashblock ${hash} (a block the node mined on request${tries}) arrived after ${describeMs(n.receivedAt - began)}`);
        return;
      }
    }
    list.fail(label, 'the node mined three blocks and no hashblock notification arrived (a firewall, or the node publishes on an address this machine cannot reach) (--zmq)');
  } catch (err) {
    list.fail(label, errorText(err));
  }
}

/** The template builds on the node's best block, and the node's clock and ours agree. */
async function probeFreshness(list: Checklist, config: MineConfig, rpc: RpcClient, earlierError: string | undefined): Promise<void> {
  const label = 'template';
  if (earlierError !== undefined) {
    list.fail(label, earlierError);
    return;
  }
  try {
    const began = performance.now();
    const t = await rpc.call<{ previousblockhash: string; curtime: number; height: number; transactions: unknown[] }>(
      'getblocktemplate',
      templateRequest(config.network),
    );
    const ms = performance.now() - began;
    const best = await rpc.call<string>('getbestblockhash');
    const tip = await rpc.call<{ time: number }>('getblockheader', best);
    const now = Math.floor(Date.now() / 1000);
    if (t.previousblockhash !== best) {
      // A block may have arrived between the calls: ask once more before calling it stale.
      const again = await rpc.call<{ previousblockhash: string }>('getblocktemplate', templateRequest(config.network));
      const bestNow = await rpc.call<string>('getbestblockhash');
      if (again.previousblockhash !== bestNow) {
        list.fail(label, `stale: built on ${again.previousblockhash}, but the node's best block is ${bestNow}`);
        return;
      }
    }
    const skew = t.curtime - now;
    const age = now - tip.time;
    const detail = `height ${t.height} on the best block, ${t.transactions.length} transactions, fetched in ${describeMs(ms)}; clock skew ${skew} s, tip ${age} s old`;
    if (Math.abs(skew) > 60) list.warn(label, `${detail}: the node's clock and this machine's differ by more than a minute`);
    else if ((config.network === 'main' || config.network === 'testnet' || config.network === 'testnet4') && age > OLD_TIP_SECONDS) {
      list.warn(label, `${detail}: the tip is more than two hours old; is the node cut off?`);
    } else list.ok(label, detail);
  } catch (err) {
    list.fail(label, errorText(err));
  }
}

/** Runs the miner itself until it has one accepted block; returns its hash. */
async function mineOneBlock(list: Checklist, config: MineConfig, rpc: RpcClient, timeoutSeconds: number): Promise<string | undefined> {
  const label = 'mine one block';
  const lines: { level: string; msg: string; fields?: Readonly<Record<string, unknown>> }[] = [];
  const log: Logger = (level, msg, fields) => {
    lines.push({ level, msg, ...(fields !== undefined ? { fields } : {}) });
  };
  try {
    const summary = await runMineService({
      config: { ...config, maxBlocks: 1, duration: timeoutSeconds, smokeTest: false, smokeNetwork: false, metricsPort: undefined },
      log,
    });
    // Both the submitter and the service say "block <height> accepted"; the service names the engine.
    const acceptedLines = lines.filter((l) => /^block \d+ accepted$/.test(l.msg));
    const accepted = acceptedLines.find((l) => typeof l.fields?.engine === 'string') ?? acceptedLines[0];
    const hash = typeof accepted?.fields?.hash === 'string' ? accepted.fields.hash : undefined;
    if (summary.stats.accepted < 1 || hash === undefined) {
      const trouble = lines.filter((l) => l.level !== 'info').map((l) => l.msg).at(-1);
      list.fail(label, `no block accepted within ${timeoutSeconds} s (${summary.stats.totalHashes} hashes${trouble ? `; ${trouble}` : ''})`);
      return undefined;
    }
    if (!(await blockInActiveChain(rpc, hash))) {
      list.fail(label, `block ${hash} was accepted but is not in the node's active chain`);
      return undefined;
    }
    const engine = typeof accepted?.fields?.engine === 'string' ? ` by ${accepted.fields.engine}` : '';
    list.ok(label, `${accepted!.msg.replace(/ accepted$/, '')} (${hash}) mined${engine} in ${summary.seconds.toFixed(1)} s, submitted and accepted`);
    return hash;
  } catch (err) {
    list.fail(label, err instanceof ServiceError ? err.message : errorText(err));
    return undefined;
  }
}
