// Known answers: every CPU back end, on one thread and on all, finds the published nonce of
// real mainnet headers and nothing else near it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CpuEngine, cpuBackends } from '../../src/engines/cpu-engine.js';
import { assertKnownAnswer } from '../support/engine-suite.js';
import { knownBlocks } from '../support/reference.js';

const usable = cpuBackends().filter((b) => b.usable);

describe('CPU engine known answers (genesis, block 125552)', { timeout: 60_000 }, () => {
  it('has the scalar reference and at least one back end', () => {
    assert.ok(usable.some((b) => b.name === 'scalar'));
  });

  for (const backend of usable) {
    for (const threads of [1, 2]) {
      for (const block of knownBlocks()) {
        it(`${backend.name} x${threads}: ${block.name} → nonce ${block.nonce}`, async () => {
          const engine = new CpuEngine({ backend: backend.name, threads });
          try {
            await assertKnownAnswer(engine, block);
          } finally {
            await engine.close();
          }
        });
      }
    }
  }
});
