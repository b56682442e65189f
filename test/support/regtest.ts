// Integration-test helpers on a private node (LocalNode): wallets, funding, a mempool of mixed
// output types, mining to an address and reading blocks back.
//
// Set SOLOMINER_TEST_NODE_LOG=1 to see the nodes' start/stop lines on stderr.
import { after, before } from 'node:test';

import { LocalNode, stopNodesOnSignals, type LocalNodeOptions } from '../../src/devnode/local-node.js';
import { RpcClient } from '../../src/node/rpc-client.js';

export { LocalNode };

// A test file killed by the runner (timeout, Ctrl-C) stops its nodes and removes their data.
stopNodesOnSignals();

type StartOptions = Omit<LocalNodeOptions, 'network'>;

function testLog(): ((line: string) => void) | undefined {
  return process.env.SOLOMINER_TEST_NODE_LOG ? (line) => process.stderr.write(`[node] ${line}\n`) : undefined;
}

// Wallet writes wait for SQLite's fsync by default: ~50 ms per getnewaddress or per block mined
// to a wallet address. These nodes are throwaway, so tests turn that off (10x faster).
const TEST_ARGS = ['-unsafesqlitesync'];

export function startRegtest(options: StartOptions = {}): Promise<LocalNode> {
  return LocalNode.start({ log: testLog(), ...options, extraArgs: [...TEST_ARGS, ...(options.extraArgs ?? [])], network: 'regtest' });
}

/** A private signet (challenge 51, no peers): real proof of work at difficulty ~0.001. */
export function startPrivateSignet(options: StartOptions = {}): Promise<LocalNode> {
  return LocalNode.start({ log: testLog(), ...options, extraArgs: [...TEST_ARGS, ...(options.extraArgs ?? [])], network: 'signet' });
}

export interface Wallet {
  readonly name: string;
  /** A client on the node's /wallet/<name> endpoint. */
  readonly rpc: RpcClient;
}

/**
 * A client for the wallet `name` on `node`.
 *
 * NOTE: `${node.rpcUrl}/wallet/${name}` does NOT work with RpcClient as it stands: bitcoin-core's
 * Client passes the URL as `request`'s baseUrl and posts to uri '/', so the request line becomes
 * `/wallet/<name>/` and bitcoind looks up a wallet named "<name>/" (error -18, "Requested wallet
 * does not exist or is not loaded"). A trailing '#' makes the appended '/' a URL fragment, which is
 * never sent, so the path is exactly /wallet/<name>.
 */
export function walletRpc(node: LocalNode, name: string): RpcClient {
  return new RpcClient({
    url: `${node.rpcUrl}/wallet/${encodeURIComponent(name)}#`,
    credentials: { kind: 'cookie', path: node.cookiePath },
  });
}

type WalletRef = Wallet | string;

function wallet(node: LocalNode, ref: WalletRef): Wallet {
  return typeof ref === 'string' ? { name: ref, rpc: walletRpc(node, ref) } : ref;
}

/** Create (and load) a descriptor wallet named `name`. */
export async function createWallet(node: LocalNode, name: string): Promise<Wallet> {
  await node.rpc.call('createwallet', name);
  return { name, rpc: walletRpc(node, name) };
}

export type AddressType = 'legacy' | 'p2sh-segwit' | 'bech32' | 'bech32m' | 'p2wsh';

/** A new address of `type`; 'p2wsh' is a 1-of-1 multisig over one of the wallet's keys (not watched). */
export async function newAddress(node: LocalNode, ref: WalletRef, type: AddressType = 'bech32'): Promise<string> {
  const w = wallet(node, ref);
  if (type !== 'p2wsh') return w.rpc.call<string>('getnewaddress', '', type);
  const keyAddr = await w.rpc.call<string>('getnewaddress', '', 'bech32');
  const { pubkey } = await w.rpc.call<{ pubkey: string }>('getaddressinfo', keyAddr);
  const { address } = await node.rpc.call<{ address: string }>('createmultisig', 1, [pubkey], 'bech32');
  return address;
}

/**
 * Mine `n` blocks paying `address`. On the private signet this is real proof of work by
 * bitcoind itself (a few million hashes a block), hence the high try limit.
 */
export function mineTo(node: LocalNode, address: string, n: number): Promise<string[]> {
  return node.rpc.call<string[]>('generatetoaddress', n, address, 1_000_000_000);
}

/** Mine `blocks` blocks to a wallet address (101: one coinbase of the first block matures). */
export async function fundWallet(node: LocalNode, ref: WalletRef, blocks = 101): Promise<string[]> {
  const address = await newAddress(node, ref, 'bech32');
  return mineTo(node, address, blocks);
}

const SPENDABLE: readonly AddressType[] = ['legacy', 'p2sh-segwit', 'bech32', 'bech32m'];
const MIXED: readonly AddressType[] = [...SPENDABLE, 'p2wsh'];

/** Bitcoin amount from satoshis, as a JSON number bitcoind accepts (at most 8 decimals). */
function btc(sats: number): number {
  return Number((sats / 1e8).toFixed(8));
}

/**
 * Put `count` wallet transactions into the mempool, paying (in turn) p2pkh, p2sh-p2wpkh, p2wpkh,
 * p2tr and p2wsh outputs; every fifth is a sendmany with two outputs. Returns their txids.
 *
 * Each send spends a confirmed coin so that no long unconfirmed chain hits the mempool's
 * ancestor limit: when the wallet has fewer than `count` confirmed coins, one transaction first
 * splits its balance over `count` coins of the spendable types, and one block (paying the wallet)
 * confirms it. The wallet needs a mature balance (fundWallet) beforehand.
 */
export async function fillMempool(node: LocalNode, ref: WalletRef, count = 40): Promise<string[]> {
  const w = wallet(node, ref);
  const coins = await w.rpc.call<unknown[]>('listunspent', 1);
  if (coins.length < count) {
    const balance = await w.rpc.call<number>('getbalance');
    const each = Math.min(100_000_000, Math.floor((balance * 1e8 * 0.9) / count));
    if (each < 1_000_000) throw new Error(`fillMempool: wallet ${w.name} has ${balance} BTC, too little to make ${count} coins (fundWallet first)`);
    const outputs: Record<string, number> = {};
    for (let i = 0; i < count; i++) outputs[await newAddress(node, w, SPENDABLE[i % SPENDABLE.length]!)] = btc(each);
    await w.rpc.call<string>('sendmany', '', outputs);
    await mineTo(node, await newAddress(node, w, 'bech32'), 1);
  }
  const txids: string[] = [];
  for (let i = 0; i < count; i++) {
    const type = MIXED[i % MIXED.length]!;
    const amount = btc(100_000 + i * 1_000);
    const send = async (): Promise<string> => {
      if (i % 5 === 4) {
        const other = MIXED[(i + 2) % MIXED.length]!;
        const outputs = { [await newAddress(node, w, type)]: amount, [await newAddress(node, w, other)]: btc(50_000 + i) };
        return w.rpc.call<string>('sendmany', '', outputs);
      }
      return w.rpc.call<string>('sendtoaddress', await newAddress(node, w, type), amount);
    };
    // The wallet returns a txid even when the mempool refuses the transaction (it only logs
    // "cannot be broadcast immediately"); such a send is abandoned and made again.
    for (let attempt = 1; ; attempt++) {
      const txid = await send();
      const inMempool = await node.rpc
        .call('getmempoolentry', txid)
        .then(() => true)
        .catch(() => false);
      if (inMempool) {
        txids.push(txid);
        break;
      }
      if (attempt === 3) throw new Error(`fillMempool: the node refused transaction ${i} three times`);
      await w.rpc.call('abandontransaction', txid).catch(() => undefined);
    }
  }
  return txids;
}

export interface VerboseTxOut {
  readonly value: number;
  readonly n: number;
  readonly scriptPubKey: { readonly hex: string; readonly type: string; readonly address?: string; readonly asm?: string };
}

export interface VerboseTx {
  readonly txid: string;
  readonly hash: string;
  readonly hex: string;
  readonly vin: readonly { readonly coinbase?: string; readonly txid?: string; readonly vout?: number; readonly txinwitness?: readonly string[] }[];
  readonly vout: readonly VerboseTxOut[];
}

/** getblock at verbosity 2 (the fields the tests read). */
export interface VerboseBlock {
  readonly hash: string;
  readonly height: number;
  readonly version: number;
  readonly merkleroot: string;
  readonly previousblockhash?: string;
  readonly time: number;
  readonly bits: string;
  readonly nonce: number;
  readonly tx: readonly VerboseTx[];
}

export async function blockAt(node: LocalNode, height: number): Promise<VerboseBlock> {
  const hash = await node.rpc.call<string>('getblockhash', height);
  return node.rpc.call<VerboseBlock>('getblock', hash, 2);
}

export interface Payout {
  readonly value: number;
  /** scriptPubKey, hex. */
  readonly script: string;
  /** Output type as bitcoind names it (witness_v0_keyhash, nulldata, ...). */
  readonly type: string;
  readonly address?: string;
}

/** The outputs of the block's coinbase (including the witness commitment, type 'nulldata'). */
export function paidTo(block: VerboseBlock): Payout[] {
  const coinbase = block.tx[0];
  if (!coinbase || !coinbase.vin[0]?.coinbase) throw new Error(`block ${block.hash} has no coinbase transaction first`);
  return coinbase.vout.map((o) => ({
    value: o.value,
    script: o.scriptPubKey.hex,
    type: o.scriptPubKey.type,
    ...(o.scriptPubKey.address !== undefined ? { address: o.scriptPubKey.address } : {}),
  }));
}

export interface RegtestSuite {
  /** Set once the suite's before() hook has run. */
  node: LocalNode;
  /** Fresh bech32 addresses of the node's wallet "w". */
  readonly addresses: string[];
}

/**
 * For a describe block: a regtest node with a wallet and `addressCount` of its addresses, started
 * before the suite's tests and stopped after them.
 */
export function regtestSuite(addressCount: number): RegtestSuite {
  const suite: { node: LocalNode | undefined; addresses: string[] } = { node: undefined, addresses: [] };
  before(async () => {
    suite.node = await startRegtest();
    const w = await createWallet(suite.node, 'w');
    for (let i = 0; i < addressCount; i++) suite.addresses.push(await newAddress(suite.node, w, 'bech32'));
  });
  after(async () => {
    await suite.node?.stop();
  });
  return suite as RegtestSuite;
}
