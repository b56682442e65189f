// Every CPU back end against an independent SHA-256d (node:crypto): a thousand random headers
// per back end, targets admitting none, exactly one, several and all nonces of the range,
// ranges ending at 0xffffffff and ranges of every length modulo the lane counts; and random
// headers × random version sets (version rolling: one schedule, many midstates). The whole set
// of (nonce, version) pairs found is compared, not just the first.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CpuEngine, cpuBackends } from '../../src/engines/cpu-engine.js';
import { scanRange } from '../../src/engines/scan-range.js';
import { agreementCase, assertCaseAgrees, assertCasesCoverEveryKind, assertRolledCaseAgrees, rolledAgreementCase, targetBytes } from '../support/engine-suite.js';
import { headerHashHex, seededBytes } from '../support/reference.js';

const HEADERS = 1000;
const usable = cpuBackends().filter((b) => b.usable);

// 40..80 nonces: every remainder modulo 2, 4, 8 and 16 (the lane counts).
const cases = Array.from({ length: HEADERS }, (_, i) => agreementCase(i, 40 + (i % 41)));
// 2..16 versions × 17..40 nonces.
const ROLLED = 150;
const rolled = Array.from({ length: ROLLED }, (_, i) => rolledAgreementCase(i, 17 + (i % 24)));

describe('CPU back ends agree with node:crypto SHA-256d', { timeout: 120_000 }, () => {
  it('covers targets that admit none, one, several and all nonces', () => assertCasesCoverEveryKind(cases));
  it('rolled cases cover none, one, several and all pairs, and 2 to 16 versions', () => {
    assert.ok(rolled.some((c) => c.expected.length === 0));
    assert.ok(rolled.some((c) => c.expected.length === 1));
    assert.ok(rolled.some((c) => c.expected.length > 2 && c.expected.length < c.count * c.versions.length));
    assert.ok(rolled.some((c) => c.expected.length === c.count * c.versions.length));
    assert.deepEqual(new Set(rolled.map((c) => c.versions.length)).size, 15);
  });

  for (const backend of usable) {
    it(`${backend.name}: ${HEADERS} random headers, 1 and 2 threads`, async () => {
      const engines = [1, 2].map((threads) => new CpuEngine({ backend: backend.name, threads }));
      try {
        for (const [i, c] of cases.entries()) await assertCaseAgrees(engines[i % 2]!, c, i);
      } finally {
        await Promise.all(engines.map((e) => e.close()));
      }
    });

    it(`${backend.name}: ${ROLLED} random headers × random version sets, 1 and 2 threads`, async () => {
      const engines = [1, 2].map((threads) => new CpuEngine({ backend: backend.name, threads }));
      try {
        for (const [i, c] of rolled.entries()) await assertRolledCaseAgrees(engines[i % 2]!, c, i);
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
