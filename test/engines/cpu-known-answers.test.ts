// Known answers: every CPU back end, on one thread and on all, finds the published nonce of
// real mainnet headers and nothing else near it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CpuEngine, cpuBackends } from '../../src/engines/cpu-engine.js';
import { scanRange } from '../../src/engines/scan-range.js';
import { bitsTarget, knownBlocks, knownHeader } from '../support/reference.js';

const usable = cpuBackends().filter((b) => b.usable);

describe('CPU engine known answers (genesis, block 125552)', () => {
  it('has the scalar reference and at least one back end', () => {
    assert.ok(usable.some((b) => b.name === 'scalar'));
  });

  for (const backend of usable) {
    for (const threads of [1, 2]) {
      for (const block of knownBlocks()) {
        it(`${backend.name} x${threads}: ${block.name} → nonce ${block.nonce}`, async () => {
          const engine = new CpuEngine({ backend: backend.name, threads });
          try {
            // A window around the answer that is not aligned to any lane count.
            const start = block.nonce - 70_001;
            const result = await scanRange(engine, {
              id: block.name,
              header: knownHeader(block),
              target: bitsTarget(block.bits),
              start,
              count: 140_003,
            });
            assert.equal(result.hashes, 140_003);
            assert.equal(result.stopped, false);
            assert.deepEqual(
              result.found.map((f) => [f.nonce, f.hash]),
              [[block.nonce, block.hash]],
            );
          } finally {
            await engine.close();
          }
        });
      }
    }
  }
});
