// Full block serialization: header ‖ CompactSize(tx count) ‖ transactions; known answer: the
// genesis block (285 bytes), whose only transaction's txid is its merkle root.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildCoinbase,
  bytesToHex,
  coinbaseTx,
  coinbaseWithWitness,
  hexToBytes,
  LengthError,
  reverseBytes,
  serializeBlock,
  serializeBlockHex,
  serializeHeader,
  txid,
  witnessCommitment,
} from '../../src/bitcoin/index.js';
import { fixture } from './_support/independent.js';

const blocks = fixture<{ genesisCoinbase: string; headers: { serialized?: string; merkleRoot: string }[] }>('blocks.json');

describe('serializeBlock', { timeout: 60_000 }, () => {
  it('genesis block: 80-byte header, tx count 1, coinbase; txid = merkle root', () => {
    const header = hexToBytes(blocks.headers[0]!.serialized!);
    const coinbase = hexToBytes(blocks.genesisCoinbase);
    assert.equal(bytesToHex(reverseBytes(txid(coinbase))), blocks.headers[0]!.merkleRoot);
    const block = serializeBlock(header, coinbase);
    assert.equal(block.length, 285);
    assert.equal(bytesToHex(block), `${blocks.headers[0]!.serialized!}01${blocks.genesisCoinbase}`);
    assert.equal(serializeBlockHex(header, coinbase), bytesToHex(block));
  });
  it('accepts header fields and hex transactions; counts with CompactSize', () => {
    const parts = buildCoinbase({
      height: 300,
      extranonceSize: 4,
      payoutScript: hexToBytes('51'),
      value: 0,
      witnessCommitment: witnessCommitment([]),
    });
    const cb = coinbaseWithWitness(coinbaseTx(parts, new Uint8Array(4)));
    const fields = { version: 0x20000000, prevHash: new Uint8Array(32), merkleRoot: txid(coinbaseTx(parts, new Uint8Array(4))), time: 1, bits: 0x207fffff, nonce: 0 };
    const txs = Array.from({ length: 300 }, (_, i) => `aa${i.toString(16).padStart(4, '0')}`);
    const block = serializeBlock(fields, cb, txs);
    assert.deepEqual(block.subarray(0, 80), serializeHeader(fields));
    assert.equal(bytesToHex(block.subarray(80, 83)), 'fd2d01', '301 transactions');
    assert.deepEqual(block.subarray(83, 83 + cb.length), cb);
    assert.equal(block.length, 83 + cb.length + 300 * 3);
  });
  it('rejects a bad header, empty or non-hex transactions', () => {
    const cb = hexToBytes(blocks.genesisCoinbase);
    const header = hexToBytes(blocks.headers[0]!.serialized!);
    assert.throws(() => serializeBlock(new Uint8Array(79), cb), { name: 'LengthError', message: 'block/header: expected 80 bytes, got 79' });
    assert.throws(() => serializeBlock(header, cb, ['']), { message: 'block/txs[0]: expected a serialized transaction, got 0 bytes' });
    assert.throws(() => serializeBlock(header, cb, ['00', 'xyz0']), { name: 'HexError', message: 'block/txs[1]: invalid hex character "x" at index 0' });
    assert.throws(() => serializeBlock(header, new Uint8Array(10)), LengthError);
  });
});
