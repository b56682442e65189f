// getblocktemplate answers are checked field by field before any work is spent on them
// (BIP22/BIP23 fields); a bad one is one error naming the field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseBlockTemplate, TemplateError } from '../../src/node/block-template.js';

const tx = { data: '0200000001', txid: 'ab'.repeat(32), hash: 'cd'.repeat(32), fee: 100, weight: 400 };
const valid = {
  version: 0x20000000,
  rules: ['csv', '!segwit', 'taproot'],
  previousblockhash: '00'.repeat(32),
  transactions: [tx, { ...tx, txid: 'ef'.repeat(32) }],
  coinbasevalue: 5_000_000_000,
  longpollid: 'x1',
  target: `7fffff${'0'.repeat(58)}`,
  mintime: 1_700_000_000,
  curtime: 1_700_000_100,
  bits: '207fffff',
  height: 101,
};

describe('parseBlockTemplate', { timeout: 60_000 }, () => {
  it('accepts a well-formed template and keeps its transactions in order', () => {
    const t = parseBlockTemplate(valid);
    assert.equal(t.transactions.length, 2);
    assert.equal(t.transactions[1]!.txid, 'ef'.repeat(32));
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a short previous hash', { previousblockhash: 'ab' }, /^getblocktemplate\/previousblockhash: expected 64 hex digits/],
    ['a height of 0', { height: 0 }, /^getblocktemplate\/height:/],
    ['bits that are not 8 hex digits', { bits: '207fff' }, /^getblocktemplate\/bits:/],
    ['non-hex transaction data', { transactions: [tx, { ...tx, data: '02zz' }] }, /^getblocktemplate\/transactions\.1\.data: expected hex/],
    ['odd-length transaction data', { transactions: [{ ...tx, data: '020' }] }, /^getblocktemplate\/transactions\.0\.data: expected hex/],
    ['a missing wtxid', { transactions: [{ data: '02', txid: tx.txid }] }, /^getblocktemplate\/transactions\.0\.hash: expected 64 hex digits/],
    ['a transaction that is not an object', { transactions: [7] }, /^getblocktemplate\/transactions\.0: expected an object/],
  ];
  for (const [what, change, pattern] of bad) {
    it(`rejects ${what}`, () => {
      assert.throws(() => parseBlockTemplate({ ...valid, ...change }), (err: unknown) => err instanceof TemplateError && pattern.test(err.message));
    });
  }
});
