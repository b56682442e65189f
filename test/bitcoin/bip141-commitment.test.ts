// BIP141 §Commitment structure and BIP144 serialization of the coinbase: the commitment
// output OP_RETURN 0x24 0xaa21a9ed ‖ SHA-256d(witness root ‖ reserved value), the witness
// merkle root with the coinbase's wtxid as 32 zero bytes, and the coinbase's witness of one
// 32-byte reserved value.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { RawTx, Transaction } from '@scure/btc-signer';
import {
  buildCoinbase,
  bytesToHex,
  coinbaseTx,
  coinbaseWithWitness,
  concatBytes,
  hexToBytes,
  merkleRoot,
  reverseBytes,
  txid,
  WITNESS_RESERVED_VALUE,
  witnessCommitment,
  witnessCommitmentScript,
  witnessMerkleRoot,
} from '../../src/bitcoin/index.js';
import { refSha256d } from './_support/independent.js';

const payoutScript = hexToBytes('0014751e76e8199196d454941c45d1b3a323f1433bd6');
const rand32 = (): Uint8Array => new Uint8Array(randomBytes(32));

describe('witness commitment', { timeout: 60_000 }, () => {
  it('with no other transactions commits to the zero wtxid alone', () => {
    // Root of [0^32] is 0^32, so the commitment is SHA-256d(0^64).
    assert.deepEqual(witnessMerkleRoot([]), new Uint8Array(32));
    assert.equal(
      bytesToHex(witnessCommitment([])),
      bytesToHex(refSha256d(new Uint8Array(64))),
    );
    assert.equal(bytesToHex(witnessCommitment([])), 'e2f61c3f71d1defd3fa999dfa36953755c690689799962b48bebd836974e8cf9');
  });
  it('is SHA-256d(merkle root of [0^32, wtxids…] ‖ reserved value)', () => {
    const wtxids = [rand32(), rand32(), rand32()];
    const root = merkleRoot([new Uint8Array(32), ...wtxids]);
    assert.deepEqual(witnessMerkleRoot(wtxids), root);
    assert.deepEqual(witnessCommitment(wtxids), refSha256d(concatBytes(root, WITNESS_RESERVED_VALUE)));
    const reserved = rand32();
    assert.deepEqual(witnessCommitment(wtxids, reserved), refSha256d(concatBytes(root, reserved)));
  });
  it('commitment script is OP_RETURN 0x24 aa21a9ed ‖ commitment (38 bytes)', () => {
    const c = rand32();
    const s = witnessCommitmentScript(c);
    assert.equal(s.length, 38);
    assert.equal(bytesToHex(s), `6a24aa21a9ed${bytesToHex(c)}`);
    assert.throws(() => witnessCommitmentScript(new Uint8Array(31)), {
      name: 'LengthError',
      message: 'coinbase/witnessCommitment: expected 32 bytes, got 31',
    });
  });
  it('rejects wtxids that are not 32 bytes', () => {
    assert.throws(() => witnessCommitment([new Uint8Array(20)]), { message: 'witnessMerkleRoot/wtxids[0]: expected 32 bytes, got 20' });
  });
});

describe('coinbase with a commitment', { timeout: 60_000 }, () => {
  const commitment = witnessCommitment([rand32(), rand32()]);
  const parts = buildCoinbase({ height: 500, extranonceSize: 8, tag: 'solominer', payoutScript, value: 312_500_000n, witnessCommitment: commitment });
  const extranonce = hexToBytes('0102030405060708');
  const plain = coinbaseTx(parts, extranonce);
  const full = coinbaseWithWitness(plain);

  it('puts the commitment output last, with value 0', () => {
    assert.equal(parts.hasWitnessCommitment, true);
    const tx = RawTx.decode(plain);
    assert.equal(tx.outputs.length, 2);
    assert.equal(tx.outputs[0]!.amount, 312_500_000n);
    assert.equal(bytesToHex(tx.outputs[0]!.script), bytesToHex(payoutScript));
    assert.equal(tx.outputs[1]!.amount, 0n);
    assert.equal(bytesToHex(tx.outputs[1]!.script), bytesToHex(witnessCommitmentScript(commitment)));
  });
  it('witness serialization: marker 0x00 flag 0x01, one 32-byte zero witness item', () => {
    assert.equal(bytesToHex(full.subarray(4, 6)), '0001');
    assert.equal(full.length, plain.length + 2 + 1 + 1 + 32);
    const tx = RawTx.decode(full);
    assert.equal(tx.segwitFlag, true);
    assert.equal(tx.witnesses!.length, 1);
    assert.equal(tx.witnesses![0]!.length, 1);
    assert.deepEqual(Uint8Array.from(tx.witnesses![0]![0]!), new Uint8Array(32));
    assert.equal(bytesToHex(full.subarray(full.length - 4)), '00000000', 'nLockTime still last');
  });
  it('txid is SHA-256d of the non-witness serialization; the witness form has the same txid', () => {
    const id = txid(plain);
    assert.deepEqual(id, refSha256d(plain));
    const parsed = Transaction.fromRaw(full, { allowUnknownInputs: true, allowUnknownOutputs: true, disableScriptCheck: true });
    assert.equal(parsed.id, bytesToHex(reverseBytes(id)), 'btc-signer computes the same txid from the witness form');
    assert.notEqual(bytesToHex(refSha256d(full)), bytesToHex(id), 'the wtxid differs (but the coinbase counts as 0^32)');
  });
  it('coinbaseWithWitness refuses something that is not a non-witness one-input tx', () => {
    assert.throws(() => coinbaseWithWitness(full), { name: 'LengthError' });
    assert.throws(() => coinbaseWithWitness(new Uint8Array(10)), { name: 'LengthError' });
  });
});
