/**
 * Payout address → scriptPubKey, for the output types a coinbase may safely pay to.
 *
 * Decoding is done by @scure/btc-signer (`Address(network).decode`, `OutScript.encode`):
 * Base58Check for P2PKH/P2SH, Bech32 (BIP173) for witness v0 and Bech32m (BIP350) for v1+.
 *
 * Prefixes (Bitcoin Core chainparams.cpp):
 *
 * | network                      | P2PKH | P2SH  | bech32 HRP |
 * |------------------------------|-------|-------|------------|
 * | main                         | 0x00 (1…) | 0x05 (3…) | bc  |
 * | testnet, testnet4, signet    | 0x6f (m…/n…) | 0xc4 (2…) | tb |
 * | regtest                      | 0x6f (m…/n…) | 0xc4 (2…) | bcrt |
 *
 * Base58 addresses of testnet/signet and regtest are therefore the same strings (Core accepts
 * an m…/n…/2… address on regtest too); Bech32 addresses differ by HRP. A mainnet address is
 * never accepted on a test network, nor a test address on mainnet.
 * @module
 */
import { Address, OutScript } from '@scure/btc-signer';
import { describe } from './bytes.js';
import { AddressError, NetworkMismatchError } from './errors.js';

/** The networks a miner can run on. */
export type Network = 'main' | 'testnet' | 'testnet4' | 'signet' | 'regtest';

/** All supported networks, in a stable order. */
export const NETWORKS: readonly Network[] = ['main', 'testnet', 'testnet4', 'signet', 'regtest'];

/** Output types a coinbase may pay to. */
export type AddressType = 'p2pkh' | 'p2sh' | 'p2wpkh' | 'p2wsh' | 'p2tr';

/** A decoded payout address. */
export interface PayoutScript {
  /** The scriptPubKey of the output. */
  script: Uint8Array;
  /** Which standard template the script is. */
  type: AddressType;
}

/** Address prefixes shared by a group of networks. */
interface Family {
  /** How error messages name the group. */
  name: string;
  bech32: string;
  pubKeyHash: number;
  scriptHash: number;
  wif: number;
}

const MAINNET: Family = { name: 'mainnet', bech32: 'bc', pubKeyHash: 0x00, scriptHash: 0x05, wif: 0x80 };
const TESTNET: Family = { name: 'testnet/testnet4/signet', bech32: 'tb', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
const REGTEST: Family = { name: 'regtest', bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
const FAMILIES: readonly Family[] = [MAINNET, TESTNET, REGTEST];

/** How messages name a network: `main` is called mainnet, the others by their own name. */
function networkName(network: Network): string {
  return network === 'main' ? 'mainnet' : network;
}

function familyOf(network: Network): Family {
  switch (network) {
    case 'main':
      return MAINNET;
    case 'testnet':
    case 'testnet4':
    case 'signet':
      return TESTNET;
    case 'regtest':
      return REGTEST;
    default:
      throw new AddressError('network', `expected one of ${NETWORKS.join(', ')}, got ${describe(network)}`);
  }
}

type Decoded = ReturnType<ReturnType<typeof Address>['decode']>;

function tryDecode(address: string, family: Family): { ok: Decoded } | { err: string } {
  try {
    return { ok: Address(family).decode(address) };
  } catch (e) {
    return { err: e instanceof Error ? e.message : String(e) };
  }
}

/** A shortened address for messages: the first 12 characters and an ellipsis. */
function short(address: string): string {
  return address.length > 14 ? `${address.slice(0, 12)}…` : address;
}

const TYPES: Record<string, AddressType | undefined> = {
  pkh: 'p2pkh',
  sh: 'p2sh',
  wpkh: 'p2wpkh',
  wsh: 'p2wsh',
  tr: 'p2tr',
};

/**
 * Decodes a payout address of `network` to its scriptPubKey.
 *
 * Accepted: P2PKH, P2SH, P2WPKH and P2WSH (witness v0, BIP141/BIP173), P2TR (witness v1 with a
 * 32-byte program, BIP341/BIP350). Refused: pay-to-anchor (BIP433 P2A: anyone can spend it) and
 * witness versions 2–16 or other v1 lengths (not yet defined: the reward would be unspendable or
 * anyone-can-spend).
 * @throws NetworkMismatchError for a valid address of another network,
 *   AddressError for anything else that is not a valid payout address
 */
export function addressToScript(address: string, network: Network): PayoutScript {
  const family = familyOf(network);
  if (typeof address !== 'string') throw new AddressError('address', `expected a string, got ${describe(address)}`);
  if (address.trim() !== address || address === '')
    throw new AddressError('address', `expected an address without surrounding spaces, got ${describe(address)}`);
  const res = tryDecode(address, family);
  if ('err' in res) {
    for (const other of FAMILIES) {
      if (other === family) continue;
      const alt = tryDecode(address, other);
      if ('ok' in alt)
        throw new NetworkMismatchError(
          'address',
          `${short(address)} is a ${other.name} address, expected ${networkName(network)}`,
          other.name,
          networkName(network),
        );
    }
    if (/unknown witness program/i.test(res.err))
      throw new AddressError(
        'address',
        `${short(address)} is a witness program of a version or length not defined for payouts (expected P2PKH, P2SH, P2WPKH, P2WSH or P2TR)`,
      );
    throw new AddressError('address', `${short(address)} is not a valid ${networkName(network)} address (${res.err})`);
  }
  const decoded = res.ok;
  const type = TYPES[decoded.type];
  if (type === undefined)
    throw new AddressError(
      'address',
      `${short(address)} is a ${decoded.type} output, not a payout type (expected P2PKH, P2SH, P2WPKH, P2WSH or P2TR)`,
    );
  return { script: Uint8Array.from(OutScript.encode(decoded)), type };
}

/** Whether `address` is a valid payout address of `network` (never throws for a bad address). */
export function isPayoutAddress(address: string, network: Network): boolean {
  try {
    addressToScript(address, network);
    return true;
  } catch (e) {
    if (e instanceof AddressError) return false;
    throw e;
  }
}

/**
 * The address an output script pays to on `network`, or undefined for a script that has no
 * address (OP_RETURN, bare multisig, an unknown template).
 */
export function scriptToAddress(script: Uint8Array, network: Network): string | undefined {
  try {
    const decoded = OutScript.decode(script);
    if (decoded.type === 'unknown' || decoded.type === 'ms' || decoded.type === 'pk') return undefined;
    return Address(familyOf(network)).encode(decoded);
  } catch {
    return undefined;
  }
}
