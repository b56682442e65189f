// The block subsidy (Bitcoin Core's GetBlockSubsidy): 50 BTC halved every halving interval,
// 210,000 blocks on every public network and 150 on regtest. What a template's coinbase value
// holds beyond it is the transactions' fees.
import type { Network } from './address.js';

const INITIAL_SUBSIDY_SATS = 50n * 100_000_000n;

export function halvingInterval(network: Network): number {
  return network === 'regtest' ? 150 : 210_000;
}

/** Satoshis a block at `height` may create from nothing on `network`. */
export function blockSubsidy(height: number, network: Network): number {
  const halvings = Math.floor(height / halvingInterval(network));
  // Core: a right shift by 64 or more is undefined in C++, so the subsidy is zero from there on.
  if (halvings >= 64) return 0;
  return Number(INITIAL_SUBSIDY_SATS >> BigInt(halvings));
}
