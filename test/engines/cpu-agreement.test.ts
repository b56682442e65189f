// Every CPU back end against an independent SHA-256d (node:crypto): a thousand random headers
// per back end, targets admitting none, exactly one, several and all nonces of the range,
// ranges ending at 0xffffffff and ranges of every length modulo the lane counts. The whole set
// of nonces found is compared, not just the first.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CpuEngine, cpuBackends } from '../../src/engines/cpu-engine.js';
import { scanRange } from '../../src/engines/scan-range.js';
import { headerHashHex, seededBytes } from '../support/reference.js';

const HEADERS = 1000;
const usable = cpuBackends().filter((b) => b.usable);

function targetBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** The number one less than `hex` (a 256-bit display-order value), as 64 hex digits. */
function minusOne(hex: string): string {
  return (BigInt(`0x${hex}`) - 1n).toString(16).padStart(64, '0');
}

interface Case {
  header: Uint8Array;
  start: number;
  count: number;
  target: string;
  expected: number[];
}

function makeCase(i: number): Case {
  const header = seededBytes(i + 1, 80);
  const count = 40 + (i % 41); // 40..80: every remainder modulo 2, 4, 8 and 16
  const bytes = seededBytes(i + 100_000, 4);
  const random = Buffer.from(bytes).readUInt32LE(0);
  const start = i % 5 === 0 ? 2 ** 32 - count : random % (2 ** 32 - count);
  const hashes = Array.from({ length: count }, (_, k) => ({ nonce: start + k, hash: headerHashHex(header, start + k) }));
  const sorted = [...hashes].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  let target: string;
  switch (i % 4) {
    case 0: // none: just below the smallest hash (usually the same top word: a full compare is needed)
      target = minusOne(sorted[0]!.hash);
      break;
    case 1: // exactly one: equal to the smallest hash (equality counts)
      target = sorted[0]!.hash;
      break;
    case 2: // several
      target = sorted[1 + (i % 7)]!.hash;
      break;
    default: // every nonce
      target = 'f'.repeat(64);
  }
  const expected = hashes.filter((h) => h.hash <= target).map((h) => h.nonce);
  return { header, start, count, target, expected };
}

const cases = Array.from({ length: HEADERS }, (_, i) => makeCase(i));

describe('CPU back ends agree with node:crypto SHA-256d', () => {
  it('covers targets that admit none, one, several and all nonces', () => {
    assert.ok(cases.some((c) => c.expected.length === 0));
    assert.ok(cases.some((c) => c.expected.length === 1));
    assert.ok(cases.some((c) => c.expected.length > 2 && c.expected.length < c.count));
    assert.ok(cases.some((c) => c.expected.length === c.count));
    assert.ok(cases.some((c) => c.start + c.count === 2 ** 32));
  });

  for (const backend of usable) {
    it(`${backend.name}: ${HEADERS} random headers, 1 and 2 threads`, async () => {
      const engines = [1, 2].map((threads) => new CpuEngine({ backend: backend.name, threads }));
      try {
        for (const [i, c] of cases.entries()) {
          const engine = engines[i % 2]!;
          const result = await scanRange(engine, {
            id: `case-${i}`,
            header: c.header,
            target: targetBytes(c.target),
            start: c.start,
            count: c.count,
          });
          assert.equal(result.hashes, c.count, `case ${i}: hash count`);
          assert.deepEqual(
            result.found.map((f) => f.nonce),
            c.expected,
            `case ${i}: start ${c.start} count ${c.count} target ${c.target} threads ${engine.threads}`,
          );
          for (const f of result.found) assert.equal(f.hash, headerHashHex(c.header, f.nonce), `case ${i}: hash of ${f.nonce}`);
        }
      } finally {
        await Promise.all(engines.map((e) => e.close()));
      }
    });

    it(`${backend.name}: two threads find exactly what one thread finds over a long range`, async () => {
      const header = seededBytes(7_777, 80);
      const target = targetBytes(`03${'f'.repeat(62)}`); // about one nonce in 64
      const runs = [];
      for (const threads of [1, 2]) {
        const engine = new CpuEngine({ backend: backend.name, threads });
        try {
          runs.push(await scanRange(engine, { id: 'long', header, target, start: 1_000_003, count: 150_001 }));
        } finally {
          await engine.close();
        }
      }
      assert.ok(runs[0]!.found.length > 1000);
      assert.deepEqual(runs[1]!.found, runs[0]!.found);
      const sample = runs[0]!.found.filter((_, k) => k % 97 === 0);
      for (const f of sample) assert.equal(f.hash, headerHashHex(header, f.nonce));
    });
  }
});
