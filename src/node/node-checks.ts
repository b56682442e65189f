// Start-up checks of the node: reachable (with patience), on the expected chain, and publishing
// the ZMQ notifications the miner was told to listen to (whether it can hand out work yet is the
// node link's probe's to say: node-link.ts).
import { setTimeout as sleep } from 'node:timers/promises';

import { NodeCookieError, NodeStateError, NodeUnreachableError, RpcError } from './errors.js';
import { RPC_IN_WARMUP } from './rpc-codes.js';
import { networkOfChain, type Network } from './networks.js';
import type { RpcClient } from './rpc-client.js';

export interface ChainInfo {
  readonly chain: string;
  readonly blocks: number;
  readonly headers: number;
  readonly bestblockhash: string;
  readonly difficulty: number;
  readonly initialblockdownload: boolean;
  readonly verificationprogress: number;
}

export interface NodeFacts {
  readonly chainInfo: ChainInfo;
  readonly version: string;
  readonly connections: number;
}

/** The node stayed unreachable for the whole connect timeout. */
export class NodeConnectTimeoutError extends Error {
  override readonly name = 'NodeConnectTimeoutError';
}

/**
 * Calls getblockchaininfo until the node answers, for at most `timeoutMs`, backing off from
 * 250 ms to 5 s. Credentials refused is final at once: retrying cannot fix a wrong password.
 */
export async function waitForNode(rpc: RpcClient, timeoutMs: number, onWait?: (err: Error) => void): Promise<ChainInfo> {
  const deadline = performance.now() + timeoutMs;
  let delay = 250;
  let said = false;
  for (;;) {
    try {
      return await rpc.call<ChainInfo>('getblockchaininfo');
    } catch (err) {
      const waitable = (err instanceof NodeUnreachableError && !(err instanceof NodeCookieError)) || (err instanceof RpcError && err.code === RPC_IN_WARMUP);
      if (!waitable) throw err;
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new NodeConnectTimeoutError(`${(err as Error).message}; gave up after ${Math.round(timeoutMs / 1000)} s (--connect-timeout)`);
      }
      if (!said) onWait?.(err as Error);
      said = true;
      await sleep(Math.min(delay, left));
      delay = Math.min(delay * 2, 5000);
    }
  }
}

export async function checkNode(rpc: RpcClient, network: Network, chainInfo: ChainInfo): Promise<NodeFacts> {
  const nodeNetwork = networkOfChain(chainInfo.chain);
  if (nodeNetwork !== network) {
    throw new NodeStateError(
      `network: the node at ${rpc.url} is on chain "${chainInfo.chain}"${nodeNetwork ? ` (${nodeNetwork})` : ''}, but the miner is set to ${network} (--network)`,
    );
  }
  const info = await rpc.call<{ subversion: string; connections: number }>('getnetworkinfo');
  // Whether the node can hand out work yet (mainnet: synced, with peers) is the node link's
  // probe's to say (node-link.ts, notReadyReason): the miner waits for it, saying so once.
  return { chainInfo, version: info.subversion, connections: info.connections };
}

interface ZmqNotification {
  readonly type: string;
  readonly address: string;
}

/** True when `published` (the node's bind address) is reachable as `wanted` (ours). */
function sameEndpoint(published: string, wanted: string): boolean {
  if (published === wanted) return true;
  const a = /^tcp:\/\/([^:]+|\[[^\]]+\]):(\d+)$/.exec(published);
  const b = /^tcp:\/\/([^:]+|\[[^\]]+\]):(\d+)$/.exec(wanted);
  if (!a || !b || a[2] !== b[2]) return false;
  const wildcard = a[1] === '0.0.0.0' || a[1] === '*' || a[1] === '[::]';
  const local = (h: string) => h === '127.0.0.1' || h === 'localhost' || h === '[::1]';
  return wildcard || (local(a[1]!) && local(b[1]!));
}

export async function checkZmq(rpc: RpcClient, endpoint: string): Promise<void> {
  const list = await rpc.call<ZmqNotification[]>('getzmqnotifications');
  if (list.some((n) => n.type === 'pubhashblock' && sameEndpoint(n.address, endpoint))) return;
  const offered = list.filter((n) => n.type === 'pubhashblock').map((n) => n.address);
  throw new NodeStateError(
    `zmq: the node publishes no hashblock notifications at ${endpoint}` +
      (offered.length > 0 ? ` (it publishes them at ${offered.join(', ')})` : '') +
      `; start it with -zmqpubhashblock=${endpoint}, or leave out --zmq to use longpoll`,
  );
}

export interface BlockHeaderInfo {
  /** ≥ 1 in the active chain (1 at the tip), -1 when not in it. */
  readonly confirmations: number;
  readonly height: number;
  readonly previousblockhash?: string;
}

/** getblockheader: null when the node does not know the block. */
export async function blockHeader(rpc: RpcClient, hash: string): Promise<BlockHeaderInfo | null> {
  try {
    return await rpc.call<BlockHeaderInfo>('getblockheader', hash);
  } catch (err) {
    if (err instanceof RpcError && err.code === -5) return null; // RPC_INVALID_ADDRESS_OR_KEY: not found
    throw err;
  }
}

/** getblockhash: the active chain's block at `height`, null when the chain is shorter. */
export async function blockHashAt(rpc: RpcClient, height: number): Promise<string | null> {
  try {
    return await rpc.call<string>('getblockhash', height);
  } catch (err) {
    if (err instanceof RpcError && err.code === -8) return null; // RPC_INVALID_PARAMETER: height out of range
    throw err;
  }
}

/** Whether the block with this hash is in the node's active chain; false when unknown to it. */
export async function blockInActiveChain(rpc: RpcClient, hash: string): Promise<boolean> {
  return ((await blockHeader(rpc, hash))?.confirmations ?? -1) >= 1;
}

/** Whether the node knows the block at all (active chain or not). */
export async function nodeKnowsBlock(rpc: RpcClient, hash: string): Promise<boolean> {
  return (await blockHeader(rpc, hash)) !== null;
}
