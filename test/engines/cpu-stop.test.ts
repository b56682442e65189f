// stop(): a scan of the whole nonce space ends promptly, reports a hash count consistent
// with what it covered, and the engine scans again afterwards.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CpuEngine, cpuBackends } from '../../src/engines/cpu-engine.js';
import { scanRange } from '../../src/engines/scan-range.js';
import { assertStopsWholeRange } from '../support/engine-suite.js';

const usable = cpuBackends().filter((b) => b.usable);

describe('CPU engine stop()', { timeout: 60_000 }, () => {
  for (const backend of usable) {
    it(`${backend.name}: stops a 2^32 scan, counts what it covered, scans again`, async () => {
      const engine = new CpuEngine({ backend: backend.name, threads: 2, progressMs: 20 });
      try {
        // Workers take chunks in order and finish each one, so the covered nonces are a prefix.
        const { header, target } = await assertStopsWholeRange(engine, 300);

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
