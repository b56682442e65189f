// stop(): a scan of the whole nonce space ends promptly, reports a hash count consistent
// with what it covered, and the engine scans again afterwards.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CpuEngine, cpuBackends } from '../../src/engines/cpu-engine.js';
import { scanRange } from '../../src/engines/scan-range.js';
import { headerHashHex, seededBytes } from '../support/reference.js';

const usable = cpuBackends().filter((b) => b.usable);

describe('CPU engine stop()', () => {
  for (const backend of usable) {
    it(`${backend.name}: stops a 2^32 scan, counts what it covered, scans again`, async () => {
      const engine = new CpuEngine({ backend: backend.name, threads: 2, progressMs: 20 });
      try {
        const header = seededBytes(4242, 80);
        // About one nonce in 256 qualifies, so found nonces show which part was covered.
        const target = Uint8Array.from(Buffer.from(`00${'f'.repeat(62)}`, 'hex'));
        let progress = 0;
        engine.on('hashes', (r) => {
          progress += r.hashes;
        });
        const running = scanRange(engine, { id: 'full', header, target, start: 0, count: 2 ** 32 });
        await new Promise((resolve) => setTimeout(resolve, 300));
        const asked = performance.now();
        await engine.stop();
        const stopLatencyMs = performance.now() - asked;
        const result = await running;

        assert.equal(result.stopped, true);
        assert.ok(result.hashes > 0 && result.hashes < 2 ** 32, `hashes ${result.hashes}`);
        assert.equal(progress, result.hashes, 'hash events add up to the final count');
        // Workers take chunks in order and finish each one, so the covered nonces are a prefix.
        for (const f of result.found) assert.ok(f.nonce < result.hashes, `nonce ${f.nonce} beyond ${result.hashes}`);
        const expected = result.hashes / 256;
        assert.ok(
          result.found.length > expected * 0.5 && result.found.length < expected * 1.5 + 20,
          `${result.found.length} found over ${result.hashes} hashes`,
        );
        for (const f of result.found.slice(0, 50)) assert.equal(f.hash, headerHashHex(header, f.nonce));
        // Generous bound: a hang or a scan running on to the end of the range fails it; the
        // real figure is reported by npm run bench.
        assert.ok(stopLatencyMs < 2000, `stop took ${stopLatencyMs.toFixed(1)} ms`);
        assert.equal(engine.busy, false);

        const again = await scanRange(engine, { id: 'again', header, target, start: 5000, count: 3000 });
        assert.equal(again.hashes, 3000);
        assert.equal(again.stopped, false);
      } finally {
        await engine.close();
      }
    });
  }

  it('refuses a second start while busy and out-of-range work before it reaches C++', async () => {
    const engine = new CpuEngine({ backend: 'scalar', threads: 1 });
    const header = new Uint8Array(80);
    const target = new Uint8Array(32).fill(0xff);
    try {
      assert.throws(() => engine.start({ id: 'x', header, target, start: 2 ** 32 - 1, count: 2 }), /count: the range/);
      assert.throws(() => engine.start({ id: 'x', header: new Uint8Array(79), target, start: 0, count: 1 }), /header: expected 80/);
      assert.throws(() => engine.start({ id: 'x', header, target, start: 0, count: 0 }), /count: expected/);
      const running = scanRange(engine, { id: 'long', header, target: new Uint8Array(32), start: 0, count: 2 ** 32 });
      assert.throws(() => engine.start({ id: 'y', header, target, start: 0, count: 1 }), /while a scan is running/);
      await engine.stop();
      assert.equal((await running).stopped, true);
    } finally {
      await engine.close();
    }
  });
});
