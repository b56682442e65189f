// Stratum's wire format and share checking without a network: prevhash word order, notify
// params, request parsing, line framing, difficulty parsing, and checkShare against the
// orchestrator's own header (makeWorkUnit) and an independent difficulty in bigint.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { addressToScript } from '../../src/bitcoin/address.js';
import { hashDifficulty } from '../../src/bitcoin/target.js';
import type { BlockTemplate } from '../../src/node/block-template.js';
import { JobBook } from '../../src/stratum/job-book.js';
import { checkShare, difficultyOf, prepareJob } from '../../src/stratum/share.js';
import { Connection, type ConnectionHost } from '../../src/stratum/v1/connection.js';
import { LineSplitter, notifyParams, parseDifficulty, parseRequest, stratumPrevHash } from '../../src/stratum/v1/protocol.js';
import { buildJob, makeWorkUnit, unitHash } from '../../src/work/job.js';
import { headerOf, hashOf, type Notify } from '../support/stratum-client.js';

const PAYOUT = addressToScript('bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080', 'regtest').script;

function job(transactions = 5) {
  const now = Math.floor(Date.now() / 1000);
  const template: BlockTemplate = {
    version: 0x20000000,
    rules: ['csv', '!segwit', 'taproot'],
    previousblockhash: randomBytes(32).toString('hex'),
    transactions: Array.from({ length: transactions }, () => {
      const id = randomBytes(32).toString('hex');
      return { data: randomBytes(60).toString('hex'), txid: id, hash: id };
    }),
    coinbasevalue: 5_000_000_000,
    target: '7fffff0000000000000000000000000000000000000000000000000000000000',
    mintime: now - 600,
    curtime: now,
    bits: '207fffff',
    height: 200,
  };
  return buildJob(template, { id: 't', payoutScript: PAYOUT, extranonceSize: 8, cleanJobs: true });
}

describe('Stratum wire format', { timeout: 30_000 }, () => {
  it('prevhash: each 4-byte word of the internal-order hash byte-swapped', () => {
    const internal = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
    assert.equal(stratumPrevHash(internal), '03020100070605040b0a09080f0e0d0c13121110171615141b1a19181f1e1d1c');
  });

  it('notify params: the order and shapes firmware reads', () => {
    const j = job();
    const p = notifyParams('ab12', j, 0x5f5e1000, true);
    assert.equal(p.length, 9);
    assert.equal(p[0], 'ab12');
    assert.match(p[1] as string, /^[0-9a-f]{64}$/);
    assert.equal(p[5], '20000000');
    assert.equal(p[6], '207fffff');
    assert.equal(p[7], '5f5e1000');
    assert.equal(p[8], true);
    assert.equal((p[4] as string[]).length, j.merkleBranch.length);
  });

  it('a miner rebuilding the header from notify gets the orchestrator header, byte for byte', () => {
    const j = job(9);
    const p = notifyParams('1', j, j.curtime, true);
    const n: Notify = { jobId: '1', prevhash: p[1] as string, coinb1: p[2] as string, coinb2: p[3] as string, branch: p[4] as string[], version: p[5] as string, nbits: p[6] as string, ntime: p[7] as string, clean: true };
    const en1 = 'a1b2c3d4';
    const en2 = '00000007';
    const unit = makeWorkUnit(j, Buffer.from(en1 + en2, 'hex'), j.curtime);
    const theirs = headerOf(n, en1, en2, j.curtime, 12345, j.version);
    assert.equal(hashOf(theirs), unitHash(unit, 12345));
  });

  it('parseRequest: objects with a method only; ids kept; params defaulted', () => {
    assert.deepEqual(parseRequest('{"id":3,"method":"mining.subscribe"}'), { id: 3, method: 'mining.subscribe', params: [] });
    assert.deepEqual(parseRequest('{not json'), { error: 'invalid JSON', id: null });
    assert.deepEqual(parseRequest('[1,2]'), { error: 'expected a JSON object', id: null });
    assert.deepEqual(parseRequest('{"id":"x","params":[]}'), { error: 'expected "method": a string', id: 'x' });
    assert.deepEqual(parseRequest('{"id":1,"method":"m","params":{}}'), { error: 'm: expected "params": an array', id: 1 });
  });

  it('LineSplitter: lines across chunks, CRLF, and a line over the limit', () => {
    const s = new LineSplitter(32);
    assert.deepEqual(s.push('{"a":1}\r\n{"b"'), ['{"a":1}']);
    assert.deepEqual(s.push(':2}\n\n'), ['{"b":2}']);
    assert.equal(new LineSplitter(8).push('0123456789'), 'too-long');
    assert.equal(new LineSplitter(8).push('0123456789\n'), 'too-long');
  });

  it('suggest_difficulty as an integer (ESP-Miner) or a numeric string (cpuminer-opt)', () => {
    assert.equal(parseDifficulty(512), 512);
    assert.equal(parseDifficulty('0.001'), 0.001);
    for (const bad of [0, -1, 'abc', '', null, Infinity, [1]]) assert.equal(parseDifficulty(bad), undefined);
  });
});

describe('share checks', { timeout: 30_000 }, () => {
  it('difficultyOf agrees with the bigint difficulty, with and without leading zero words', () => {
    for (let i = 0; i < 2000; i++) {
      const hash = randomBytes(32);
      const zeros = i % 8;
      hash.fill(0, 32 - zeros * 3, 32); // up to 21 leading zero bytes, like real blocks
      const exact = hashDifficulty(hash);
      const fast = difficultyOf(hash);
      assert.ok(Math.abs(fast - exact) <= exact * 1e-12, `${hash.toString('hex')}: ${fast} vs ${exact}`);
    }
    assert.equal(difficultyOf(Buffer.alloc(32)), Infinity);
  });

  it('checkShare: the header and hash the orchestrator would build; a version rolled inside the mask', () => {
    const j = job(3);
    const prepared = prepareJob(j);
    const extranonce = Buffer.from('010203040000abcd', 'hex');
    const now = Math.floor(Date.now() / 1000);
    const version = (0x20000000 | 0x00ffe000) >>> 0;
    const r = checkShare(prepared, { extranonce, ntime: j.curtime, nonce: 0x10, version }, 0x1fffe000, now);
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.version, version);
    const unit = makeWorkUnit(j, extranonce, j.curtime, r.version);
    assert.equal(Buffer.from(r.hash).reverse().toString('hex'), unitHash(unit, 16));
    assert.equal(r.isBlock, BigInt(`0x${unitHash(unit, 16)}`) <= j.target);
  });

  it('checkShare refuses fields that cannot be right, the field named', () => {
    const j = job(1);
    const prepared = prepareJob(j);
    const now = Math.floor(Date.now() / 1000);
    const ok = { extranonce: Buffer.alloc(8), ntime: j.curtime, nonce: 0, version: j.version };
    const cases: Array<[Partial<typeof ok>, number, RegExp]> = [
      [{ extranonce: Buffer.alloc(4) }, 0, /^extranonce: expected 8 bytes, got 4$/],
      [{ ntime: 1 }, 0, /^ntime: 1 is before the template's mintime/],
      [{ ntime: now + 3 * 3600 }, 0, /more than 2 h ahead/],
      [{ version: (j.version | 0x2000) >>> 0 }, 0, /version rolling is off/],
      [{ version: (j.version ^ 0x40000000) >>> 0 }, 0x1fffe000, /^version: bits 40000000 changed outside the mask 1fffe000$/],
    ];
    for (const [change, mask, message] of cases) {
      const r = checkShare(prepared, { ...ok, ...change }, mask, now);
      assert.equal(r.ok, false, JSON.stringify(change));
      if (!r.ok) {
        assert.equal(r.kind, 'invalid');
        assert.match(r.message, message);
      }
    }
  });

  it('Stratum V1 spelling: malformed submit fields get error 20 with the field named, before any hashing', () => {
    const j = job(1);
    const book = new JobBook('00');
    book.setJob(j, true);
    const sj = book.jobFor('11', PAYOUT)!;
    const sent: string[] = [];
    const rejected: string[] = [];
    const worker = { name: 'w', worker: 'w', address: 'a', payoutKey: '11', payoutScript: PAYOUT, ownAddress: false };
    const host: ConnectionHost = {
      now: Date.now,
      vardiff: { targetSeconds: 10, minDifficulty: 1e-5, startDifficulty: 1 },
      networkDifficulty: () => 1e-9,
      findJob: (id) => book.find(id),
      extranonce1: Buffer.alloc(4),
      extranonce2Size: 4,
      authorize: () => ({ ok: true, worker }),
      shareAccepted: () => assert.fail('nothing is accepted here'),
      shareRejected: (_c, _w, kind, message) => rejected.push(`${kind}: ${message}`),
      ready: () => undefined,
    };
    const conn = new Connection(host, (text) => sent.push(text));
    conn.handleLine('{"id":1,"method":"mining.subscribe","params":[]}');
    conn.handleLine('{"id":2,"method":"mining.authorize","params":["w","x"]}');
    conn.sendJob(sj, 'notify\n');
    const t = j.curtime.toString(16);
    const cases: Array<[unknown[], RegExp]> = [
      [['00', t, '00000000'], /^extranonce2: expected 8 hex digits$/],
      [['0000000g', t, '00000000'], /^extranonce2/],
      [['00000000', 'xyz', '00000000'], /^ntime: expected 8 hex digits$/],
      [['00000000', '00000001', '00000000'], /^ntime: 1 is before the template's mintime/],
      [['00000000', t, 7], /^nonce: expected 8 hex digits$/],
      [['00000000', t, '00000000', '00002000'], /^version bits: version rolling was not negotiated/],
    ];
    for (const [fields, message] of cases) {
      sent.length = 0;
      conn.handleLine(JSON.stringify({ id: 9, method: 'mining.submit', params: ['w', sj.id, ...fields] }));
      const reply = JSON.parse(sent[0]!) as { error: [number, string, null] };
      assert.equal(reply.error[0], 20, JSON.stringify(fields));
      assert.match(reply.error[1], message);
    }
    assert.equal(rejected.length, cases.length);
  });
});
