// The nodes wired to the service (docs/architecture.md, "Nodes"): the start-up checks of every
// configured node (one line each for what cannot work, with the exit code of its kind), the
// functions through which blocks reach them, and what their health changes say in the log and
// the recorder. One node reads as before ("node unreachable, waiting for it ..."); several are
// named in every line.
import type { MineConfig } from '../config/mine-config.js';
import { NodeAuthError, NodeCookieError, NodeStateError, NodeTlsError } from '../node/errors.js';
import { blockHeader, blockInActiveChain, checkNode, checkZmq, NodeConnectTimeoutError, nodeKnowsBlock, waitForNode, type ChainInfo, type NodeFacts } from '../node/node-checks.js';
import { networkOfChain, type Network } from '../node/networks.js';
import type { NodeLink, NodeSet } from '../node/nodes.js';
import type { RestoreTarget } from '../submit/block-restorer.js';
import type { Logger } from '../telemetry/logger.js';
import type { NodeInfo, Recorder } from '../telemetry/recorder.js';
import { ServiceError } from './service-error.js';

/** How a node is named in a line: "the node" alone, "node 2 (http://...)" among several. */
function who(link: NodeLink, several: boolean): string {
  return several ? link.label : 'the node';
}

/**
 * Every node checked at start-up, in parallel: reachable (with patience, --connect-timeout), on
 * the miner's chain, publishing hashblock at its ZMQ endpoint. A wrong login, an untrusted
 * certificate, another chain or a wrong ZMQ endpoint is one line and exit 2, whichever node it
 * is; a node that stays unreachable is exit 1 when it is the only one, else a warning (it is
 * used once it answers). Returns the facts of the first node that answered.
 */
export async function checkNodesAtStart(config: MineConfig, nodes: NodeSet, log: Logger): Promise<NodeFacts> {
  const several = nodes.size > 1;
  const results = await Promise.all(
    nodes.links.map(async (link): Promise<{ link: NodeLink; facts?: NodeFacts; timeout?: Error }> => {
      try {
        const chain = await waitForNode(link.rpc, config.connectTimeout * 1000, (err) =>
          log('warn', `waiting for ${several ? link.label : 'the node'}: ${err.message}`, { timeoutSeconds: config.connectTimeout }),
        );
        const facts = await checkNode(link.rpc, config.network, chain);
        if (link.entry.zmq !== undefined) await checkZmq(link.rpc, link.entry.zmq);
        return { link, facts };
      } catch (err) {
        if (err instanceof NodeConnectTimeoutError) return { link, timeout: err };
        throw startError(err, link, several);
      }
    }),
  );
  const answered = results.filter((r) => r.facts !== undefined);
  if (answered.length === 0) throw new ServiceError(results[0]!.timeout!.message, 1);
  for (const r of results) {
    if (r.timeout) log('warn', `${r.link.label} is unreachable at start-up (${r.timeout.message.replace(/; gave up after.*$/, '')}); it is used once it answers`);
  }
  // A node without ZMQ among nodes with it: a block it sees first reaches the miner late.
  const withZmq = nodes.links.find((l) => l.entry.zmq !== undefined);
  if (withZmq) {
    for (const l of nodes.links) {
      if (l.entry.zmq === undefined) {
        log('warn', `${l.label} has no ZMQ endpoint while ${withZmq.label} has one: blocks it sees first reach the miner only through the others or its refresh; give it zmq=<its -zmqpubhashblock endpoint>`);
      }
    }
  }
  return answered[0]!.facts!;
}

/** A start-up failure of one node as one line with its exit code. */
function startError(err: unknown, link: NodeLink, several: boolean): unknown {
  const prefix = several ? `${link.label}: ` : '';
  const login = several ? 'its --node entry (cookie=, or user= and password=)' : '--rpc-user/--rpc-password or --rpc-cookie';
  if (err instanceof NodeAuthError) return new ServiceError(`${prefix}${err.message}: check ${login}`, 2);
  if (err instanceof NodeTlsError) return new ServiceError(several ? `${prefix}${err.message}` : `--${err.field}: ${err.message}`, 2);
  if (err instanceof NodeCookieError) {
    // A cookie this user may not read never becomes readable by waiting (a container's uid, a
    // node's datadir mode): one line naming the fix, at once.
    const uid = process.getuid?.();
    const field = several ? `${prefix}its cookie: ` : '--rpc-cookie: ';
    return new ServiceError(
      `${field}cannot read ${err.path} (${err.code})${uid === undefined ? '' : ` as uid ${uid}`}: let this user read it (bitcoind -rpccookieperms=group and the node's group) or give ${several ? 'user= and password=' : '--rpc-user and --rpc-password'}`,
      2,
    );
  }
  if (err instanceof NodeStateError) {
    const config = /^(network|zmq):/.exec(err.message)?.[1];
    if (config === undefined) return new ServiceError(`${prefix}${err.message}`, 1);
    // "--network: the node at ... is on chain ...": the field to fix, then the node.
    return new ServiceError(several && config === 'zmq' ? `${prefix}${err.message}` : `--${err.message}`, 2);
  }
  return err;
}

/** The functions through which blocks reach one node (the submitter and the restorer use them). */
export function nodeTarget(link: NodeLink, network: Network): RestoreTarget {
  return {
    name: link.name,
    submitBlock: (hex) => link.rpc.call<string | null>('submitblock', hex),
    blockInActiveChain: (hash) => blockInActiveChain(link.rpc, hash),
    isKnown: (hash) => nodeKnowsBlock(link.rpc, hash),
    header: (hash) => blockHeader(link.rpc, hash),
    // Known to be down, or on another chain: once another node has the block, stop retrying it
    // here (its gate hands the block back on its return).
    usable: () => link.usable || link.health.state === 'connecting' || link.health.state === 'restoring',
    onMinersChain: async () => {
      const same = networkOfChain((await link.rpc.call<ChainInfo>('getblockchaininfo')).chain) === network;
      if (!same) link.fault();
      return same;
    },
  };
}

/** The nodes blocks go to: every configured one but those on another chain. */
export function submitTargets(nodes: NodeSet, network: Network): RestoreTarget[] {
  return nodes.links.filter((l) => l.health.state !== 'wrong-chain').map((l) => nodeTarget(l, network));
}

/** The nodes as the recorder shows them (status, dashboard, metrics, reports). */
export function nodeInfos(nodes: NodeSet): NodeInfo[] {
  const current = nodes.current();
  return nodes.links.map((l) => ({
    name: l.name,
    index: l.index,
    state: l.health.state,
    reason: l.health.reason,
    since: l.health.since,
    height: l.health.height,
    tip: l.health.tip,
    zmq: l.zmqState,
    templateSource: l === current,
  }));
}

/**
 * What the node set's events say in the log and to the recorder: one line per change. Which node
 * work comes from is said from `started()` on (at start-up the nodes answer in any order).
 */
export function reportNodeEvents(nodes: NodeSet, rec: Recorder, log: Logger): { started: () => void } {
  const several = nodes.size > 1;
  let started = false;
  rec.watchNodes(() => nodeInfos(nodes));
  nodes.on('health', (link, previous) => {
    const h = link.health;
    if (h.state === 'ok') {
      if (wasDown.delete(link)) {
        log('info', several ? `${link.label} usable again` : 'node reachable again');
        rec.nodeUp(link.name);
      }
      return;
    }
    // Passing through: not news of their own.
    if (h.state === 'restoring' || h.state === 'connecting') return;
    const reason = h.reason ?? h.state;
    if (wasDown.has(link)) {
      // Still down, in another way (a restarting node: unreachable, then starting up).
      if (previous.state !== h.state) log('info', `${who(link, several)} ${describeState(h.state)}: ${reason}`);
      return;
    }
    wasDown.add(link);
    const next = nodes.current();
    if (!several && h.state === 'unreachable') log('warn', `node unreachable, waiting for it as long as it takes: ${reason}`);
    else if (!several) log('warn', `the node ${describeState(h.state)} (${reason}); waiting for it`);
    else log('warn', `${link.label} ${describeState(h.state)}: ${reason}${next !== undefined && next !== link ? `; templates from ${next.label}` : '; no other node usable: waiting'}`);
    rec.nodeDown(new Error(`${who(link, several)} ${describeState(h.state)}: ${reason}`), link.name);
  });
  nodes.on('current', (next, previous) => {
    if (!several || !started) return;
    if (next === undefined) log('warn', 'no node is usable: mining waits for one');
    else if (previous !== undefined) log('info', `templates now from ${next.label}`);
  });
  nodes.on('disagree', (tips) => {
    if (tips.length === 0) {
      log('info', 'the nodes agree on the tip again');
      return;
    }
    const list = tips.map((t) => `${t.node.label} at ${t.height ?? '?'} (${t.tip ?? '?'})`).join(', ');
    const work = nodes.current();
    const message = `the nodes disagree on the tip: ${list}${work !== undefined ? `; work stays with ${work.label}, and every block goes to all of them` : ''}`;
    log('warn', message);
    rec.error('node-warning', 'warning', message, 'kept mining; a block of ours settles it when the others take it');
  });
  nodes.on('restarted', (link, why) => {
    log('warn', `${who(link, several)}: ${why}; checking it still holds our blocks before mining on it`);
  });
  nodes.on('warning', (link, w) => {
    log('warn', w);
    rec.error('node-warning', 'warning', several ? `${link.label}: ${w}` : w, 'kept mining on the current work');
  });
  return {
    started: () => {
      started = true;
    },
  };
}

/** Nodes seen down since they were last usable (so "usable again" is said once, after a gate too). */
const wasDown = new WeakSet<NodeLink>();

function describeState(state: string): string {
  switch (state) {
    case 'unreachable':
      return 'is unreachable';
    case 'not-ready':
      return 'is not ready';
    case 'wrong-chain':
      return 'is on another chain';
    case 'refused':
      return 'refused the login';
    default:
      return state;
  }
}
