/**
 * The block subsidy (Bitcoin Core validation.cpp GetBlockSubsidy): 50 BTC halved every
 * `nSubsidyHalvingInterval` blocks — 210,000 on main, testnet, testnet4 and signet, 150 on
 * regtest — and nothing after 64 halvings. A coinbase may claim the subsidy plus the fees of its
 * block's transactions: what getblocktemplate calls `coinbasevalue`.
 * @module
 */
import type { Network } from './address.js';
import { assertInt } from './bytes.js';

/** What a block pays its miner, as far as it was recorded (each part absent where not known). */
export interface BlockReward {
  /** The payout address the coinbase pays. */
  readonly address?: string;
  /** Subsidy plus fees (getblocktemplate's coinbasevalue), satoshis. */
  readonly coinbaseValue?: number;
  readonly subsidy?: number;
  /** coinbaseValue - subsidy. */
  readonly fees?: number;
}

/** Satoshis per bitcoin. */
export const COIN = 100_000_000;
const INITIAL_SUBSIDY = 50 * COIN;

export function halvingInterval(network: Network): number {
  return network === 'regtest' ? 150 : 210_000;
}

/** The subsidy of a block at `height`, in satoshis. */
export function blockSubsidy(height: number, network: Network): number {
  assertInt(height, 0, 0x7fffffff, 'subsidy/height', '0..2^31-1');
  const halvings = Math.floor(height / halvingInterval(network));
  // Shifting a 64-bit value by 64 or more is undefined in C++; Core returns 0 instead.
  if (halvings >= 64) return 0;
  return Number(BigInt(INITIAL_SUBSIDY) >> BigInt(halvings));
}

/** Satoshis as bitcoin with all eight decimals ("3.12500000"), exact for any amount. */
export function formatBtc(sats: number): string {
  const sign = sats < 0 ? '-' : '';
  const abs = Math.abs(Math.round(sats));
  return `${sign}${Math.floor(abs / COIN)}.${String(abs % COIN).padStart(8, '0')}`;
}
