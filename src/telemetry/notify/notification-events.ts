/**
 * What a notification says (docs/notifications.md is the user's reference):
 *
 * - the JSON body a generic webhook receives: `{"schema": "solominer.notification",
 *   "version": 1, "event", "time", "network", "title", "message", "block"?, "node"?}`;
 * - the one-line title and message that ntfy and Discord show;
 * - the environment of an `--on-block` command (the `-blocknotify` convention: `%s` in the
 *   command is the block hash).
 * @module
 */

export const NOTIFICATION_SCHEMA = 'solominer.notification';
export const NOTIFICATION_VERSION = 1;

export const BLOCK_EVENTS = ['found', 'accepted', 'rejected', 'orphaned', 'restored', 'matured', 'isolated'] as const;
export type BlockEventName = (typeof BLOCK_EVENTS)[number];
export type NodeEventName = 'node-unreachable' | 'node-back';
export type NotifyEventName = BlockEventName | NodeEventName;

/** A found block as a notification carries it. Values are satoshis; `value` is BTC as text. */
export interface NotifyBlock {
  readonly height: number;
  readonly hash: string;
  readonly status: string;
  /** In the active chain: 1 at the tip; -1 orphaned; null not known. */
  readonly confirmations: number | null;
  /** Tip height at which it has 100 confirmations (spendable in the block after). */
  readonly maturityHeight: number;
  readonly foundAt?: string;
  readonly engine?: string;
  readonly worker?: string;
  readonly address?: string;
  /** Subsidy plus fees, in BTC with eight decimals ("3.12500000"). */
  readonly value?: string;
  readonly valueSats?: number;
  readonly subsidySats?: number;
  readonly feesSats?: number;
  readonly reason?: string;
  /** Which configured nodes hold it: `nodes` of `of`, their RPC URLs, and peers that took it. */
  readonly knownTo?: { readonly nodes: number; readonly of: number; readonly names: readonly string[]; readonly peers: number | null };
}

export interface NotifyEvent {
  readonly event: NotifyEventName;
  readonly time: string;
  readonly network: string;
  readonly block?: NotifyBlock;
  /** The node (its RPC URL, with several) and what went wrong. */
  readonly node?: { readonly error?: string; readonly name?: string };
}

export function isBlockEvent(e: NotifyEvent): boolean {
  return (BLOCK_EVENTS as readonly string[]).includes(e.event);
}

const BTC = (b: NotifyBlock) => (b.value === undefined ? 'its reward' : `${b.value} BTC`);

/** One short line: what happened. */
export function notificationTitle(e: NotifyEvent): string {
  const b = e.block;
  switch (e.event) {
    case 'node-unreachable':
      return `solominer: node unreachable (${e.network})`;
    case 'node-back':
      return `solominer: node reachable again (${e.network})`;
    case 'isolated':
      return `solominer: block ${b?.height ?? '?'} not propagated (${e.network})`;
    default:
      return `solominer: block ${b?.height ?? '?'} ${e.event} (${e.network})`;
  }
}

/** The sentence a person reads on a phone. */
export function notificationMessage(e: NotifyEvent): string {
  const b = e.block;
  const node = e.node?.name !== undefined ? `The node ${e.node.name}` : 'The node';
  if (e.event === 'node-unreachable') return `${node} stopped answering: ${e.node?.error ?? 'no answer'}. Mining waits for it, or goes on from the other nodes.`;
  if (e.event === 'node-back') return `${node} answers again; mining goes on.`;
  if (!b) return e.event;
  const id = `Block ${b.height} (${b.hash})`;
  const k = b.knownTo;
  const known = k === undefined ? '' : ` Known to ${k.nodes} of ${k.of} node${k.of === 1 ? '' : 's'}${k.peers !== null && k.peers > 0 ? `, sent to ${k.peers} peer${k.peers === 1 ? '' : 's'}` : ''}.`;
  const by = b.worker !== undefined ? ` by worker ${b.worker}` : b.engine !== undefined ? ` by the ${b.engine} engine` : '';
  switch (e.event) {
    case 'found':
      return `${id} found${by}: ${BTC(b)}${b.address !== undefined ? ` to ${b.address}` : ''}. Submitting it to the node.`;
    case 'accepted':
      return `${id} accepted by the node: ${BTC(b)}, spendable after height ${b.maturityHeight}.${known}`;
    case 'rejected':
      return `${id} rejected by the node: ${b.reason ?? 'no reason given'}.`;
    case 'orphaned':
      return `${id} orphaned (${b.reason ?? 'no longer in the active chain'}): ${BTC(b)} lost unless a reorg brings it back.`;
    case 'restored':
      return `${id} is back in the active chain (${b.confirmations ?? '?'} confirmations${b.reason !== undefined ? `; ${b.reason}` : ''}): ${BTC(b)} spendable after height ${b.maturityHeight}.`;
    case 'isolated':
      return `${id} is ${b.reason ?? 'known to one node only'}: it may never reach the network. Check the node's peers; the block is in the journal.`;
    case 'matured':
      return `${id} matured (${b.confirmations ?? 100} confirmations): ${BTC(b)} can be spent now.`;
    default:
      return `${id} ${e.event}.`;
  }
}

/** The body a generic webhook receives. */
export function notificationBody(e: NotifyEvent): Record<string, unknown> {
  return {
    schema: NOTIFICATION_SCHEMA,
    version: NOTIFICATION_VERSION,
    event: e.event,
    time: e.time,
    network: e.network,
    title: notificationTitle(e),
    message: notificationMessage(e),
    ...(e.block !== undefined && { block: e.block }),
    ...(e.node !== undefined && { node: e.node }),
  };
}

/** The variables an `--on-block` command gets, on top of the miner's own environment. */
export function onBlockEnvironment(e: NotifyEvent): Record<string, string> {
  const b = e.block;
  const vars: Record<string, string | number | null | undefined> = {
    SOLOMINER_EVENT: e.event,
    SOLOMINER_TIME: e.time,
    SOLOMINER_NETWORK: e.network,
    SOLOMINER_MESSAGE: notificationMessage(e),
    SOLOMINER_BLOCK_HASH: b?.hash,
    SOLOMINER_BLOCK_HEIGHT: b?.height,
    SOLOMINER_BLOCK_STATUS: b?.status,
    SOLOMINER_CONFIRMATIONS: b?.confirmations,
    SOLOMINER_MATURITY_HEIGHT: b?.maturityHeight,
    SOLOMINER_VALUE_BTC: b?.value,
    SOLOMINER_VALUE_SATS: b?.valueSats,
    SOLOMINER_FEES_SATS: b?.feesSats,
    SOLOMINER_PAYOUT_ADDRESS: b?.address,
    SOLOMINER_ENGINE: b?.engine,
    SOLOMINER_WORKER: b?.worker,
    SOLOMINER_FOUND_AT: b?.foundAt,
    SOLOMINER_REASON: b?.reason,
    SOLOMINER_KNOWN_TO: b?.knownTo === undefined ? undefined : `${b.knownTo.nodes}/${b.knownTo.of}`,
    SOLOMINER_NODE: e.node?.name,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) if (v !== undefined && v !== null) out[k] = String(v);
  return out;
}
