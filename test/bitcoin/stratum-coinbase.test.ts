// The coinbase split the Stratum way: coinbase = coinb1 ‖ extranonce ‖ coinb2, with the layout
// height push ‖ [tag push] ‖ extranonce push; the scriptSig limit of 100 bytes; field checks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RawTx, Script } from '@scure/btc-signer';
import {
  addressToScript,
  buildCoinbase,
  bytesToHex,
  CoinbaseError,
  coinbaseTx,
  hexToBytes,
  LengthError,
  MAX_MONEY,
  merkleBranch,
  merkleRoot,
  OutOfRangeError,
  rootFromBranch,
  txid,
} from '../../src/bitcoin/index.js';

const { script: payoutScript } = addressToScript('bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080', 'regtest');

describe('Stratum coinbase parts', { timeout: 60_000 }, () => {
  it('exact bytes for height 17, 8-byte extranonce, tag "/solominer/", no commitment', () => {
    const parts = buildCoinbase({ height: 17, extranonceSize: 8, tag: '/solominer/', payoutScript, value: 5_000_000_000n });
    const tag = bytesToHex(new TextEncoder().encode('/solominer/'));
    assert.equal(
      bytesToHex(parts.coinb1),
      '02000000' + '01' + '00'.repeat(32) + 'ffffffff' + '17' + '0111' + '0b' + tag + '08',
    );
    assert.equal(
      bytesToHex(parts.coinb2),
      'ffffffff' + '01' + '00f2052a01000000' + '16' + '0014751e76e8199196d454941c45d1b3a323f1433bd6' + '00000000',
    );
    assert.equal(parts.scriptSigSize, 2 + 12 + 1 + 8);
    assert.equal(parts.hasWitnessCommitment, false);
  });
  it('coinb1 ‖ extranonce ‖ coinb2 parses as a one-input, nSequence-final, nLockTime-0 transaction', () => {
    const parts = buildCoinbase({ height: 123_456, extranonceSize: 8, tag: 'hi', payoutScript, value: 1n });
    const extranonce = hexToBytes('deadbeef00000001');
    const raw = coinbaseTx(parts, extranonce);
    const tx = RawTx.decode(raw);
    assert.equal(tx.version, 2);
    assert.equal(tx.inputs.length, 1);
    assert.deepEqual(Uint8Array.from(tx.inputs[0]!.txid), new Uint8Array(32));
    assert.equal(tx.inputs[0]!.index, 0xffffffff);
    assert.equal(tx.inputs[0]!.sequence, 0xffffffff);
    assert.equal(tx.lockTime, 0);
    assert.equal(tx.outputs.length, 1);
    const items = Script.decode(tx.inputs[0]!.finalScriptSig);
    assert.equal(items.length, 3, 'height, tag, extranonce: three pushes');
    assert.equal(bytesToHex(items[1] as Uint8Array), bytesToHex(new TextEncoder().encode('hi')));
    assert.equal(bytesToHex(items[2] as Uint8Array), 'deadbeef00000001');
    assert.equal(bytesToHex(RawTx.encode(tx)), bytesToHex(raw), 'btc-signer re-encodes the same bytes');
  });
  it('a new extranonce changes the txid and the root costs only the branch', () => {
    const parts = buildCoinbase({ height: 1000, extranonceSize: 4, payoutScript, value: 0 });
    const others = [new Uint8Array(32).fill(7), new Uint8Array(32).fill(8), new Uint8Array(32).fill(9)];
    const branch = merkleBranch(others);
    const a = txid(coinbaseTx(parts, Uint8Array.of(0, 0, 0, 1)));
    const b = txid(coinbaseTx(parts, Uint8Array.of(0, 0, 0, 2)));
    assert.notDeepEqual(a, b);
    assert.deepEqual(rootFromBranch(b, branch), merkleRoot([b, ...others]));
  });
  it('tag may be bytes; an empty tag adds no push', () => {
    const withBytes = buildCoinbase({ height: 20, extranonceSize: 4, tag: Uint8Array.of(1, 2), payoutScript, value: 0 });
    // scriptSig length 0x0a ‖ height push 0114 ‖ tag push 020102 ‖ extranonce opcode 04
    assert.equal(bytesToHex(withBytes.coinb1.subarray(-7)), '0a011402010204');
    const empty = buildCoinbase({ height: 20, extranonceSize: 4, tag: '', payoutScript, value: 0 });
    const none = buildCoinbase({ height: 20, extranonceSize: 4, payoutScript, value: 0 });
    assert.deepEqual(empty.coinb1, none.coinb1);
  });
  it('extranonces of 76+ bytes use OP_PUSHDATA1', () => {
    const parts = buildCoinbase({ height: 1, extranonceSize: 80, payoutScript, value: 0 });
    assert.equal(bytesToHex(parts.coinb1.subarray(-3)), '514c50');
    assert.equal(parts.scriptSigSize, 1 + 2 + 80);
  });
});

describe('coinbase limits', { timeout: 60_000 }, () => {
  it('scriptSig of exactly 100 bytes is accepted, 101 is refused with a clear error', () => {
    // height 2^31-1: 5-byte push; tag of 75 bytes: 76-byte push; extranonce opcode 1 → 82 + extranonce.
    const tag = 'x'.repeat(75);
    const ok = buildCoinbase({ height: 0x7fffffff, extranonceSize: 18, tag, payoutScript, value: 0 });
    assert.equal(ok.scriptSigSize, 100);
    assert.throws(() => buildCoinbase({ height: 0x7fffffff, extranonceSize: 19, tag, payoutScript, value: 0 }), (e: unknown) => {
      assert.ok(e instanceof CoinbaseError);
      assert.equal(
        e.message,
        'coinbase/scriptSig: expected at most 100 bytes, got 101 (height push 5, tag push 76, extranonce push 1+19)',
      );
      return true;
    });
  });
  it('checks the extranonce length when assembling', () => {
    const parts = buildCoinbase({ height: 5, extranonceSize: 8, payoutScript, value: 0 });
    assert.throws(() => coinbaseTx(parts, new Uint8Array(7)), {
      name: 'LengthError',
      message: 'coinbase/extranonce: expected 8 bytes, got 7',
    });
  });
  it('checks value, payout script, extranonce size and commitment', () => {
    const base = { height: 5, extranonceSize: 8, payoutScript, value: 0n };
    assert.throws(() => buildCoinbase({ ...base, value: -1n }), {
      name: 'OutOfRangeError',
      message: 'coinbase/value: expected 0..2100000000000000 satoshis, got -1n',
    });
    assert.throws(() => buildCoinbase({ ...base, value: MAX_MONEY + 1n }), OutOfRangeError);
    assert.throws(() => buildCoinbase({ ...base, value: 1.5 }), OutOfRangeError);
    assert.doesNotThrow(() => buildCoinbase({ ...base, value: MAX_MONEY }));
    assert.throws(() => buildCoinbase({ ...base, payoutScript: new Uint8Array(0) }), LengthError);
    assert.throws(() => buildCoinbase({ ...base, extranonceSize: -1 }), {
      message: 'coinbase/extranonceSize: expected an integer 0..100, got -1',
    });
    assert.throws(() => buildCoinbase({ ...base, witnessCommitment: new Uint8Array(33) }), LengthError);
  });
});
