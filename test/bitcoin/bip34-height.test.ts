// BIP34: the coinbase scriptSig starts with the block height exactly as Bitcoin Core's
// `CScript() << nHeight` serializes it (checked by prefix in ContextualCheckBlock,
// "bad-cb-height"), and the whole scriptSig has 2..100 bytes (CheckTransaction,
// "bad-cb-length"). Fixture: test/fixtures/bitcoin/bip34-heights.json.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RawTx, Script, ScriptNum } from '@scure/btc-signer';
import {
  bip34HeightPush,
  buildCoinbase,
  bytesToHex,
  coinbaseTx,
  hexToBytes,
  OutOfRangeError,
} from '../../src/bitcoin/index.js';
import { fixture } from './_support/independent.js';

const { valid, invalid } = fixture<{
  valid: { height: number; push: string; note?: string }[];
  invalid: { height: unknown; error: string }[];
}>('bip34-heights.json');

const payoutScript = hexToBytes('0014751e76e8199196d454941c45d1b3a323f1433bd6');

/** Decodes the first element of a script with @scure/btc-signer (an independent parser). */
function firstScriptNumber(scriptSig: Uint8Array): bigint {
  const first = Script.decode(scriptSig)[0];
  if (typeof first === 'number') return BigInt(first);
  if (first === 'OP_0') return 0n;
  if (first instanceof Uint8Array) return ScriptNum().decode(first);
  throw new Error(`unexpected first script element ${String(first)}`);
}

describe('BIP34 height push = CScript() << height', { timeout: 60_000 }, () => {
  for (const v of valid) {
    it(`height ${v.height} → ${v.push}${v.note ? ` (${v.note})` : ''}`, () => {
      assert.equal(bytesToHex(bip34HeightPush(v.height)), v.push);
      for (const extranonceSize of [0, 1, 8]) {
        const parts = buildCoinbase({ height: v.height, extranonceSize, payoutScript, value: 50n });
        const tx = RawTx.decode(coinbaseTx(parts, new Uint8Array(extranonceSize).fill(0xee)));
        const scriptSig = tx.inputs[0]!.finalScriptSig;
        assert.equal(bytesToHex(scriptSig.subarray(0, v.push.length / 2)), v.push, 'scriptSig starts with the push');
        assert.equal(firstScriptNumber(scriptSig), BigInt(v.height), 'independent script decoder reads the height');
        assert.ok(scriptSig.length >= 2 && scriptSig.length <= 100, `scriptSig size ${scriptSig.length} in 2..100`);
        assert.equal(scriptSig.length, parts.scriptSigSize);
      }
    });
  }
  it('heights 0..16 with no extranonce and no tag still give a 2-byte scriptSig (OP_0 pad)', () => {
    for (let h = 0; h <= 16; h++) {
      const parts = buildCoinbase({ height: h, extranonceSize: 0, payoutScript, value: 0 });
      assert.equal(parts.scriptSigSize, 2);
      const scriptSig = RawTx.decode(coinbaseTx(parts, new Uint8Array(0))).inputs[0]!.finalScriptSig;
      assert.equal(bytesToHex(scriptSig), `${bytesToHex(bip34HeightPush(h))}00`);
    }
  });
});

describe('BIP34 height out of range', { timeout: 60_000 }, () => {
  for (const v of invalid) {
    it(`height ${JSON.stringify(v.height)}`, () => {
      assert.throws(() => bip34HeightPush(v.height as number), { name: 'OutOfRangeError', message: v.error });
      assert.throws(
        () => buildCoinbase({ height: v.height as number, extranonceSize: 8, payoutScript, value: 0 }),
        OutOfRangeError,
      );
    });
  }
});
