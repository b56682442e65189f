// Known answers: every CPU back end, on one thread and on all, finds the published nonce of
// real mainnet headers and nothing else near it; a block mined with rolled version bits is found
// among versions rolled from its un-rolled version, with its real version, and not without it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CpuEngine, cpuBackends } from '../../src/engines/cpu-engine.js';
import { assertKnownAnswer, assertRolledKnownAnswer } from '../support/engine-suite.js';
import { knownBlocks } from '../support/reference.js';

const usable = cpuBackends().filter((b) => b.usable);

describe('CPU engine known answers (genesis, block 125552, block 785530 rolled)', { timeout: 120_000 }, () => {
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
      for (const block of knownBlocks().filter((b) => b.unrolledVersion !== undefined)) {
        // The back end's own K, and 3 (not a multiple of any interleave).
        for (const k of [...new Set([Math.max(2, backend.versions), 3])]) {
          it(`${backend.name} x${threads}: ${block.name} among ${k} versions rolled from ${block.unrolledVersion!.toString(16)}`, async () => {
            const engine = new CpuEngine({ backend: backend.name, threads });
            try {
              await assertRolledKnownAnswer(engine, block, k);
            } finally {
              await engine.close();
            }
          });
        }
      }
    }
  }
});
