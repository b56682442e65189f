/**
 * Who a Stratum login mines for. The user name is `<address>[.<worker>]`, split on the first
 * `.` (the solo-pool convention): an address valid on the pool's network is paid by the blocks
 * that connection finds; a name that is not an address mines to the operator's `--address`
 * under that worker name — or, in a pool without an operator address (`--engines none` and no
 * `--address`: config/mine-config.ts payoutAddressOptional), is refused, since nobody would be
 * paid. `--stratum-addresses` restricts who may be paid and `--stratum-password` requires a
 * password; a refusal says why (V1 error 24, V2 OpenMiningChannel.Error unknown-user).
 * @module
 */
import { addressToScript, isPayoutAddress, type Network } from '../bitcoin/address.js';

export interface WorkerIdentity {
  /** The user name as the miner sent it (what reports call the worker). */
  readonly name: string;
  /** The part after the first `.`, or the whole name when it is not an address. */
  readonly worker: string;
  /** The address this worker's blocks pay. */
  readonly address: string;
  /** Its scriptPubKey, hex: the key of the job variant this worker gets. */
  readonly payoutKey: string;
  readonly payoutScript: Uint8Array;
  /** True when the name carried its own payout address. */
  readonly ownAddress: boolean;
}

export interface AuthorizeOptions {
  readonly network: Network;
  /** The operator's payout address (--address); undefined: every login must name its own. */
  readonly operatorAddress: string | undefined;
  /** When set, the only addresses a login may be paid to (the operator's is always allowed). */
  readonly allowedAddresses?: readonly string[] | undefined;
  /** When set, every login must give it. */
  readonly password?: string | undefined;
}

const MAX_NAME = 128;

export type Verdict = { ok: true; worker: WorkerIdentity } | { ok: false; message: string };

export function authorize(username: string, password: unknown, options: AuthorizeOptions): Verdict {
  if (username.length > MAX_NAME) return { ok: false, message: `user name: expected at most ${MAX_NAME} characters` };
  if (/[\s\x00-\x1f"\\]/.test(username)) return { ok: false, message: 'user name: expected no spaces, quotes or control characters' };
  if (options.password !== undefined && password !== options.password) return { ok: false, message: 'wrong password' };
  const dot = username.indexOf('.');
  const head = dot < 0 ? username : username.slice(0, dot);
  const own = isPayoutAddress(head, options.network);
  if (!own && looksLikeAddress(head)) {
    // An address of another network (a mainnet address on testnet): never mine to the operator silently.
    return { ok: false, message: `${head} is not a payout address on ${options.network}` };
  }
  if (!own && options.operatorAddress === undefined) {
    return { ok: false, message: `${head === '' ? 'an empty name' : head} is not a payout address on ${options.network}: log in as <address>[.<worker>] (this pool has no operator address: the blocks a miner finds pay the address it logs in with)` };
  }
  const address = own ? head : options.operatorAddress!;
  if (own && options.allowedAddresses !== undefined && address !== options.operatorAddress && !options.allowedAddresses.includes(address)) {
    return { ok: false, message: `${address} is not among the addresses this pool pays (--stratum-addresses)` };
  }
  const { script } = addressToScript(address, options.network);
  return {
    ok: true,
    worker: {
      name: username,
      worker: own ? (dot < 0 ? '' : username.slice(dot + 1)) : username,
      address,
      payoutKey: Buffer.from(script).toString('hex'),
      payoutScript: script,
      ownAddress: own,
    },
  };
}

/** Text shaped like an address of some network (bech32 HRP + 1, or Base58 of address length). */
function looksLikeAddress(text: string): boolean {
  return /^(bc|tb|bcrt)1[02-9ac-hj-np-z]{8,87}$/i.test(text) || /^[123mn][1-9A-HJ-NP-Za-km-z]{25,34}$/.test(text);
}
