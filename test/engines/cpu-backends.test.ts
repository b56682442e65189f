// The scan contract, for every back end this machine offers: a back end the CPU supports is
// offered (a failed self-test is a bug and fails here instead of vanishing from the list), a
// scan of any count hashes exactly that count and reports exactly the nonces of its range, and
// a count outside the contract is a typed error that names the field before anything reaches C++.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CpuEngine, cpuBackends } from '../../src/engines/cpu-engine.js';
import { scanRange } from '../../src/engines/scan-range.js';
import { ScanInputError } from '../../src/engines/work-checks.js';
import { nativeAddon, type CpuFeatures } from '../../src/native/addon.js';
import { headerHashHex, seededBytes } from '../support/reference.js';

const all = cpuBackends();
const usable = all.filter((b) => b.usable);
const features = nativeAddon().cpuFeatures();

/** The instructions each back end needs, and the architecture it is built for. */
const NEEDS: Readonly<Record<string, { arch: string; has: (f: CpuFeatures) => boolean }>> = {
  avx512: { arch: 'x64', has: (f) => f.avx512f && f.avx512vl },
  x86_shani: { arch: 'x64', has: (f) => f.shaNi && f.sse41 && f.ssse3 },
  avx2: { arch: 'x64', has: (f) => f.avx2 },
  arm_sha2: { arch: 'arm64', has: (f) => f.armSha2 },
  scalar: { arch: process.arch, has: () => true },
};

const EVERY_NONCE = new Uint8Array(32).fill(0xff);

describe('CPU back ends: the scan contract', { timeout: 120_000 }, () => {
  it('no back end failed its self-test', () => {
    const failed = all.filter((b) => b.state === 'self-test-failed');
    assert.deepEqual(
      failed.map((b) => `${b.name}: ${b.reason}`),
      [],
      'a back end whose instructions this CPU has disagreed with the scalar reference',
    );
  });

  it('every back end this CPU supports is built and offered', () => {
    for (const b of all) {
      const need = NEEDS[b.name];
      assert.ok(need, `unknown back end ${b.name}: add it to NEEDS`);
      if (need.arch !== process.arch) {
        assert.equal(b.usable, false, `${b.name} offered on ${process.arch}`);
        continue;
      }
      assert.equal(b.usable, need.has(features), `${b.name}: usable=${b.usable} (${b.state}: ${b.reason}) with features ${JSON.stringify(features)}`);
      if (!b.usable) assert.equal(b.state, 'cpu-lacks', `${b.name}: ${b.reason}`);
    }
    assert.ok(usable.some((b) => b.name === 'scalar'));
  });

  for (const backend of usable) {
    it(`${backend.name}: any count hashes exactly that count (every nonce of the range, none beyond)`, async () => {
      const header = seededBytes(4242, 80);
      const lanes = backend.lanes;
      const counts = [1, 2, 3, lanes - 1, lanes + 1, 2 * lanes + 1, 255, 257, 1024 * lanes + 5].filter((c) => c >= 1);
      for (const threads of [1, 2]) {
        const engine = new CpuEngine({ backend: backend.name, threads, progressMs: 5 });
        try {
          for (const [i, count] of counts.entries()) {
            // One range ends at the last nonce: a tail there must not wrap to nonce 0.
            const start = i % 2 === 0 ? 2 ** 32 - count : 1000 + i;
            const began = performance.now();
            const r = await scanRange(engine, { id: `c${count}`, header, target: EVERY_NONCE, start, count });
            const wall = (performance.now() - began) / 1000;
            assert.equal(r.hashes, count, `${backend.name} x${threads}: hashes for count ${count}`);
            assert.deepEqual(
              r.found.map((f) => f.nonce),
              Array.from({ length: count }, (_, k) => start + k),
              `${backend.name} x${threads}: nonces for count ${count} from ${start}`,
            );
            assert.equal(r.found[count - 1]!.hash, headerHashHex(header, start + count - 1));
            // The native clock covers the whole scan and never more than the caller waited.
            assert.ok(r.seconds > 0 && r.seconds <= wall + 0.001, `seconds ${r.seconds} within the caller's ${wall}`);
          }
        } finally {
          await engine.close();
        }
      }
    });
  }

  it('a count outside the contract is a typed error naming the field', async () => {
    const engine = new CpuEngine({ backend: 'scalar', threads: 1 });
    try {
      const header = seededBytes(1, 80);
      for (const [start, count] of [
        [0, 0],
        [0, 1.5],
        [0, 2 ** 32 + 1],
        [2 ** 32 - 10, 11],
        [-1, 5],
      ] as const) {
        assert.throws(
          () => engine.start({ id: 'bad', header, target: EVERY_NONCE, start, count }),
          (err: unknown) => err instanceof ScanInputError && (err.field === 'count' || err.field === 'start'),
          `start ${start} count ${count}`,
        );
      }
      assert.equal(engine.busy, false);
    } finally {
      await engine.close();
    }
  });
});
