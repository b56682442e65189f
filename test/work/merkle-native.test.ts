// The native merkle path against the reference in src/bitcoin (and a published block): the
// coinbase branch and the BIP141 witness commitment for every tree shape up to 70 leaves and
// for a 3,000-transaction template.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { bytesToHex, reverseBytes } from '../../src/bitcoin/bytes.js';
import { witnessCommitment } from '../../src/bitcoin/coinbase.js';
import { merkleBranch, merkleRoot, rootFromBranch } from '../../src/bitcoin/merkle.js';
import { coinbaseMerkleBranch, witnessCommitmentOf } from '../../src/work/merkle-native.js';

const displayHex = (h: Uint8Array) => bytesToHex(reverseBytes(h));

describe('native merkle branch and witness commitment', { timeout: 60_000 }, () => {
  it('block 100000: the branch leads from the coinbase txid to the published root', () => {
    const txids = [
      '8c14f0db3df150123e6f3dbbf30f8b955a8249b62ac1d1ff16284aefa3d06d87',
      'fff2525b8931402dd09222c50775608f75787bd2b87e56995a7bdd30f79702c4',
      '6359f0868171b1d194cbee1af2f16ea598ae8fad666d9b012c8ed2b79a236ec4',
      'e9a66845e05d5abc0ad04ec80f774a7e585c6e8db975962d069a522137b80c1d',
    ];
    const branch = coinbaseMerkleBranch(txids.slice(1));
    const root = rootFromBranch(reverseBytes(Buffer.from(txids[0]!, 'hex')), branch);
    assert.equal(displayHex(root), 'f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766');
  });

  for (const n of [...Array.from({ length: 71 }, (_, i) => i), 3000]) {
    it(`${n} transactions besides the coinbase: same branch and commitment as the reference`, () => {
      const ids = Array.from({ length: n }, () => new Uint8Array(randomBytes(32)));
      const hex = ids.map(displayHex);
      assert.deepEqual(coinbaseMerkleBranch(hex).map(bytesToHex), merkleBranch(ids).map(bytesToHex));
      assert.equal(bytesToHex(witnessCommitmentOf(hex)), bytesToHex(witnessCommitment(ids)));
      const coinbase = new Uint8Array(randomBytes(32));
      assert.equal(bytesToHex(rootFromBranch(coinbase, coinbaseMerkleBranch(hex))), bytesToHex(merkleRoot([coinbase, ...ids])));
    });
  }

  it('rejects a txid that is not 64 hex digits', () => {
    assert.throws(() => coinbaseMerkleBranch(['abcd']), /hash 0: expected 64 hex digits/);
  });
});
