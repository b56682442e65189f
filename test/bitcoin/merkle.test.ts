// Merkle root, the coinbase's merkle branch (Stratum's merkle_branch) and the root from a
// branch; known answers from mainnet blocks in test/fixtures/bitcoin/blocks.json.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  bytesToHex,
  concatBytes,
  hexToBytes,
  LengthError,
  merkleBranch,
  merkleRoot,
  reverseBytes,
  rootFromBranch,
} from '../../src/bitcoin/index.js';
import { fixture, refSha256d } from './_support/independent.js';

const { merkle } = fixture<{ merkle: { name: string; txids: string[]; merkleRoot: string }[] }>('blocks.json');
const internal = (display: string): Uint8Array => reverseBytes(hexToBytes(display, 'txid', 32));
const display = (h: Uint8Array): string => bytesToHex(reverseBytes(h));

/** Textbook recursive merkle root with the independent SHA-256d, for cross-checks. */
function refRoot(level: Uint8Array[]): Uint8Array {
  if (level.length === 1) return level[0]!;
  const next: Uint8Array[] = [];
  for (let i = 0; i < level.length; i += 2) next.push(refSha256d(concatBytes(level[i]!, level[i + 1] ?? level[i]!)));
  return refRoot(next);
}

describe('merkleRoot (known answers)', { timeout: 60_000 }, () => {
  for (const m of merkle) {
    it(m.name, () => {
      const txids = m.txids.map(internal);
      assert.equal(display(merkleRoot(txids)), m.merkleRoot);
      const [coinbase, ...rest] = txids;
      assert.equal(display(rootFromBranch(coinbase!, merkleBranch(rest))), m.merkleRoot);
    });
  }
});

describe('merkleBranch / rootFromBranch', { timeout: 60_000 }, () => {
  it('gives the same root as merkleRoot for 0..40 other transactions', () => {
    for (let n = 0; n <= 40; n++) {
      const txids = Array.from({ length: n + 1 }, () => new Uint8Array(randomBytes(32)));
      const branch = merkleBranch(txids.slice(1));
      assert.equal(branch.length, n === 0 ? 0 : Math.ceil(Math.log2(n + 1)), `branch length for n=${n}`);
      const root = rootFromBranch(txids[0]!, branch);
      assert.deepEqual(root, merkleRoot(txids), `n=${n}`);
      assert.deepEqual(root, refRoot(txids), `n=${n} (independent)`);
    }
  });
  it('the branch does not depend on the coinbase: a new extranonce only re-folds it', () => {
    const others = Array.from({ length: 9 }, () => new Uint8Array(randomBytes(32)));
    const branch = merkleBranch(others);
    for (let k = 0; k < 3; k++) {
      const cb = new Uint8Array(randomBytes(32));
      assert.deepEqual(rootFromBranch(cb, branch), merkleRoot([cb, ...others]));
    }
  });
  it('branch entries for block 100000 are the sibling txid and the hash of the last pair', () => {
    const txids = merkle[0]!.txids.map(internal);
    const branch = merkleBranch(txids.slice(1));
    assert.equal(branch.length, 2);
    assert.deepEqual(branch[0], txids[1]);
    assert.deepEqual(branch[1], refSha256d(concatBytes(txids[2]!, txids[3]!)));
  });
  it('does not modify its inputs', () => {
    const txids = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2), new Uint8Array(32).fill(3)];
    const copy = txids.map((t) => Uint8Array.from(t));
    merkleRoot(txids);
    merkleBranch(txids);
    assert.deepEqual(txids, copy);
  });
  it('rejects an empty list and hashes that are not 32 bytes', () => {
    assert.throws(() => merkleRoot([]), { name: 'LengthError', message: 'merkleRoot/txids: expected at least one txid, got 0' });
    assert.throws(() => merkleBranch([new Uint8Array(31)]), { message: 'merkleBranch/txids[0]: expected 32 bytes, got 31' });
    assert.throws(() => rootFromBranch(new Uint8Array(32), [new Uint8Array(33)]), LengthError);
  });
});
