// The GPU engine's tuning (src/engines/gpu/tuning.ts): the candidate list a sweep compares,
// and, on whatever adapter WebGPU offers (lavapipe without a GPU), engines built with the
// extremes of each axis still find exactly the right nonces. Correctness only: speed belongs
// to the bench.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { checkKnownAnswers } from '../../src/engines/known-answers.js';
import { DEFAULT_TUNING, GpuAdapterError, GpuEngine, gpuAdapters, gpuTuningCandidates, type GpuTuning, tuningLabel } from '../../src/engines/gpu-engine.js';
import { versionSourceFor } from '../../src/engines/gpu/device.js';
import { agreementCase, assertCaseAgrees, GPU_PROVISION_HINT } from '../support/engine-suite.js';

describe('GPU tuning candidates', { timeout: 10_000 }, () => {
  it('start with the default, are distinct and stay within WebGPU default limits', () => {
    const all = gpuTuningCandidates();
    assert.deepEqual(all[0], DEFAULT_TUNING);
    assert.equal(new Set(all.map(tuningLabel)).size, all.length);
    assert.ok(all.every((t) => t.workgroupSize <= 256));
    // Every workgroup size up to 256 with every count of nonces per invocation, plus timing variants.
    const shapes = new Set(all.map((t) => `${t.workgroupSize}x${t.noncesPerInvocation}`));
    assert.equal(shapes.size, 4 * 6);
    const wide = gpuTuningCandidates({ maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 1024 });
    assert.equal(new Set(wide.map((t) => `${t.workgroupSize}x${t.noncesPerInvocation}`)).size, 6 * 6);
    assert.ok(all.some((t) => t.dispatchMs !== DEFAULT_TUNING.dispatchMs));
    assert.ok(all.some((t) => t.inFlight !== DEFAULT_TUNING.inFlight));
    // Versions per nonce from 1 (no version rolling) to 16; the versions' entries by subgroup
    // shuffles (the default) and by loads.
    assert.deepEqual([...new Set(all.map((t) => t.versions))].sort((a, b) => a - b), [1, 2, 4, 8, 16]);
    assert.ok(DEFAULT_TUNING.subgroups);
    assert.ok(all.some((t) => !t.subgroups));
  });

  it("leave out workgroups the adapter does not allow", () => {
    const small = gpuTuningCandidates({ maxComputeInvocationsPerWorkgroup: 64, maxComputeWorkgroupSizeX: 128 });
    assert.ok(small.length > 0);
    assert.ok(small.every((t) => t.workgroupSize <= 64));
    assert.ok(small.some((t) => t.workgroupSize === 64));
  });

  it('take the subgroup version source for a power of two that fits in the smallest subgroup and divides the workgroup, else loads', () => {
    for (const k of [1, 2, 4, 8]) assert.equal(versionSourceFor(k, 8, 64), 'subgroup', `${k}`);
    for (const k of [3, 6, 16]) assert.equal(versionSourceFor(k, 8, 64), 'load', `${k}`);
    assert.equal(versionSourceFor(8, 4, 64), 'load');
    assert.equal(versionSourceFor(16, 32, 64), 'subgroup');
    assert.equal(versionSourceFor(8, 8, 12), 'load', 'a workgroup of 12: its second subgroup holds half a group');
    assert.equal(versionSourceFor(4, 8, 12), 'subgroup');
    assert.equal(versionSourceFor(1, undefined, 64), 'load', 'no subgroup module');
  });

  it('label a configuration in a few characters', () => {
    assert.equal(tuningLabel(DEFAULT_TUNING), 'wg64 n16 40ms q2 v8');
    assert.equal(tuningLabel({ ...DEFAULT_TUNING, versions: 16, subgroups: false }), 'wg64 n16 40ms q2 v16 nosg');
  });
});

/** The extremes of each axis, and the default. */
const EXTREMES: GpuTuning[] = [
  { ...DEFAULT_TUNING, workgroupSize: 32, noncesPerInvocation: 1 },
  { ...DEFAULT_TUNING, workgroupSize: 256, noncesPerInvocation: 64 },
  { ...DEFAULT_TUNING, workgroupSize: 128, noncesPerInvocation: 4, dispatchMs: 10, inFlight: 1 },
  { ...DEFAULT_TUNING, dispatchMs: 80, inFlight: 3, versions: 1 },
  { ...DEFAULT_TUNING, versions: 2 },
  { ...DEFAULT_TUNING, subgroups: false },
];

describe('GPU engine with candidate tunings', { timeout: 180_000 }, () => {
  it('the extremes are among the candidates', () => {
    const labels = new Set(gpuTuningCandidates().map(tuningLabel));
    for (const t of [...EXTREMES.slice(0, 2), ...EXTREMES.slice(4)]) assert.ok(labels.has(tuningLabel(t)), tuningLabel(t));
  });

  async function openEngine(tuning: GpuTuning): Promise<GpuEngine> {
    return GpuEngine.create(tuning).catch((err: unknown) => {
      if (err instanceof GpuAdapterError) throw new Error(`${GPU_PROVISION_HINT} (${err.message})`);
      throw err;
    });
  }

  async function assertFindsExactly(engine: GpuEngine, tuning: GpuTuning): Promise<void> {
    assert.deepEqual(engine.tuning, tuning);
    assert.equal(engine.dispatchNonces % (tuning.workgroupSize * tuning.noncesPerInvocation), 0);
    assert.deepEqual(await checkKnownAnswers(engine), ['genesis', 'block 125552', 'block 785530']);
    // Several of 3000 qualify; all of 5000 do, more than the list of 4096 holds (a rescan).
    await assertCaseAgrees(engine, agreementCase(2, 3000), 2);
    const overflows = engine.stats.overflows;
    await assertCaseAgrees(engine, agreementCase(7, 5000), 7);
    assert.ok(engine.stats.overflows > overflows, 'the list overflowed');
  }

  for (const tuning of EXTREMES) {
    it(`${tuningLabel(tuning)}: known answers and an overflowing range`, async () => {
      const engine = await openEngine(tuning);
      try {
        await assertFindsExactly(engine, tuning);
      } finally {
        await engine.close();
      }
    });
  }

  it("the widest workgroup the adapter allows (past WebGPU's default 256 when it can: the engine asks for it)", async () => {
    const [adapter] = await gpuAdapters();
    assert.ok(adapter, GPU_PROVISION_HINT);
    const widest = Math.max(...gpuTuningCandidates(adapter.limits).map((t) => t.workgroupSize));
    const tuning = { ...DEFAULT_TUNING, workgroupSize: widest, noncesPerInvocation: 8 };
    const engine = await openEngine(tuning);
    try {
      await assertFindsExactly(engine, tuning);
    } finally {
      await engine.close();
    }
  });
});
