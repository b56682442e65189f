// The merkle work of a new template done by the native addon: a branch and a witness root
// over thousands of transactions cost one JavaScript call each instead of one per hash.
// src/bitcoin/merkle.ts stays the reference; test/work checks these against it.
import { concatBytes } from '../bitcoin/bytes.js';
import { WITNESS_RESERVED_VALUE } from '../bitcoin/coinbase.js';
import { sha256d } from '../bitcoin/hash.js';
import { nativeAddon } from '../native/addon.js';

/** Packs display-order hex hashes into one buffer of internal-order 32-byte hashes. */
function packHashes(hexes: readonly string[], leadingZero: boolean): Buffer {
  const offset = leadingZero ? 1 : 0;
  const out = Buffer.alloc(32 * (hexes.length + offset));
  hexes.forEach((hex, i) => {
    const at = 32 * (i + offset);
    if (out.write(hex, at, 32, 'hex') !== 32) throw new RangeError(`hash ${i}: expected 64 hex digits, got ${JSON.stringify(hex)}`);
    out.subarray(at, at + 32).reverse();
  });
  return out;
}

/** Merkle branch of the coinbase (position 0) for transactions with these txids (display hex). */
export function coinbaseMerkleBranch(txidsHex: readonly string[]): Uint8Array[] {
  const branch = nativeAddon().merkleBranch(packHashes(txidsHex, false));
  const out: Uint8Array[] = [];
  for (let i = 0; i < branch.length; i += 32) out.push(branch.slice(i, i + 32));
  return out;
}

/**
 * BIP141 commitment hash for a block whose non-coinbase transactions have these wtxids
 * (display hex): SHA-256d(witness root ‖ reserved value), the coinbase's wtxid taken as zero.
 */
export function witnessCommitmentOf(wtxidsHex: readonly string[]): Uint8Array {
  const root = nativeAddon().merkleRoot(packHashes(wtxidsHex, true));
  return sha256d(concatBytes(root, WITNESS_RESERVED_VALUE));
}
