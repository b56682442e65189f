/**
 * Block merkle trees (Bitcoin Core consensus/merkle.cpp `ComputeMerkleRoot`).
 *
 * Byte order: every hash here — txids, wtxids, branch entries, roots — is in internal byte
 * order, the raw SHA-256d output as it is serialized in blocks and headers. RPC and explorers
 * show the reverse ("display order"); convert with `reverseBytes` at the edges.
 *
 * A level with an odd number of nodes pairs its last node with itself. (This makes distinct
 * transaction lists with the same root possible, CVE-2012-2459; validation guards against it,
 * a miner building from a node's template never produces such a list.)
 * @module
 */
import { assertBytes, concatBytes } from './bytes.js';
import { LengthError } from './errors.js';
import { sha256d } from './hash.js';

/** The parent of two merkle nodes: SHA-256d(left ‖ right). */
export function merkleParent(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256d(concatBytes(left, right));
}

function checkHashes(hashes: readonly Uint8Array[], where: string): void {
  if (!Array.isArray(hashes)) throw new LengthError(where, 'expected an array of 32-byte hashes');
  hashes.forEach((h, i) => assertBytes(h, `${where}[${i}]`, 32));
}

/**
 * Merkle root of a block's txids (coinbase first), all in internal byte order.
 * A single transaction's root is its own txid.
 * @throws LengthError for an empty list or a hash that is not 32 bytes
 */
export function merkleRoot(txids: readonly Uint8Array[]): Uint8Array {
  checkHashes(txids, 'merkleRoot/txids');
  if (txids.length === 0) throw new LengthError('merkleRoot/txids', 'expected at least one txid, got 0');
  let level: Uint8Array[] = txids.map((h) => Uint8Array.from(h));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i]!;
      next.push(merkleParent(left, level[i + 1] ?? left));
    }
    level = next;
  }
  return level[0]!;
}

/**
 * The merkle branch of position 0 (the coinbase), Stratum's `merkle_branch`: the sibling of the
 * coinbase's node on each level, bottom up. `txids` are the block's other transactions, in block
 * order and internal byte order, without the coinbase. Its length is ⌈log2(n+1)⌉ for n txids,
 * and it does not depend on the coinbase, so a new extranonce costs only `rootFromBranch`.
 */
export function merkleBranch(txids: readonly Uint8Array[]): Uint8Array[] {
  checkHashes(txids, 'merkleBranch/txids');
  const branch: Uint8Array[] = [];
  // `rest` is the current level without its first node (the coinbase's path, still unknown).
  let rest: Uint8Array[] = txids.map((h) => Uint8Array.from(h));
  while (rest.length > 0) {
    branch.push(rest[0]!);
    // Pair nodes 2,3 / 4,5 / … of the level (indices 1,2 / 3,4 / … of `rest`); an odd last node
    // pairs with itself.
    const next: Uint8Array[] = [];
    for (let i = 1; i < rest.length; i += 2) {
      const left = rest[i]!;
      next.push(merkleParent(left, rest[i + 1] ?? left));
    }
    rest = next;
  }
  return branch;
}

/**
 * The merkle root from the coinbase txid and its branch (from `merkleBranch`):
 * h ← SHA-256d(h ‖ sibling) for each sibling. O(log n) hashes. Internal byte order.
 */
export function rootFromBranch(coinbaseTxid: Uint8Array, branch: readonly Uint8Array[]): Uint8Array {
  assertBytes(coinbaseTxid, 'rootFromBranch/coinbaseTxid', 32);
  checkHashes(branch, 'rootFromBranch/branch');
  let h: Uint8Array = Uint8Array.from(coinbaseTxid);
  for (const sibling of branch) h = merkleParent(h, sibling);
  return h;
}
