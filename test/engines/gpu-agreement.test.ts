// The GPU engine (kernels/sha256d-scan.wgsl on whatever adapter WebGPU offers; lavapipe on a
// machine without a GPU) against the same known answers as the CPU engine and against two
// independent SHA-256d paths: node:crypto and the CPU engine's scalar back end. Random headers
// with targets admitting none, one, several and all nonces, ranges ending at 0xffffffff, and
// targets loose enough to overflow the kernel's result list; random headers × random version
// sets (version rolling: one schedule per nonce, many midstates), with both ways the kernel's
// lanes get the versions' entries (subgroup shuffles, loads), and block 785530, mined with
// rolled version bits. Whole sets are compared.
//
// No adapter is a failure, not a skip: run `bash scripts/provision-vulkan.sh` and
// `. .cache/vulkan/env.sh` (VK_ICD_FILENAMES, LD_LIBRARY_PATH) before node starts.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { CpuEngine } from '../../src/engines/cpu-engine.js';
import { GpuAdapterError, GpuEngine, type GpuEngineOptions } from '../../src/engines/gpu-engine.js';
import { scanRange } from '../../src/engines/scan-range.js';
import {
  agreementCase,
  assertCaseAgrees,
  assertCasesCoverEveryKind,
  assertKnownAnswer,
  assertRolledCaseAgrees,
  assertRolledKnownAnswer,
  GPU_PROVISION_HINT,
  rolledAgreementCase,
  targetBytes,
  withVersion,
} from '../support/engine-suite.js';
import { headerHashHex, knownBlocks, seededBytes } from '../support/reference.js';

const opened: Promise<GpuEngine>[] = [];
/** Engines are opened once per shape and shared: compiling the kernel on lavapipe takes a second. */
function openEngine(options: GpuEngineOptions = {}): () => Promise<GpuEngine> {
  let engine: Promise<GpuEngine> | undefined;
  return () => {
    engine ??= GpuEngine.create(options).catch((err: unknown) => {
      if (err instanceof GpuAdapterError) throw new Error(`${GPU_PROVISION_HINT} (${err.message})`);
      throw err;
    });
    opened.push(engine);
    return engine;
  };
}

// The calibrated engine, as createEngine builds it.
const calibrated = openEngine();
// A fixed dispatch size and a small result list, so overflow happens on purpose.
const smallList = openEngine({ dispatchNonces: 8192, resultCapacity: 64 });
// Every lane loads the versions' entries (the other version source: kernels/sha256d-scan.wgsl).
const loads = openEngine({ subgroups: false });
// Workgroups of 12: on lavapipe a subgroup of 8 lanes and one of 4, whole groups of 4 versions.
const partial = openEngine({ workgroupSize: 12, versions: 4 });
// Dispatches of more workgroups than one grid dimension holds (65535): a 2-D grid, rows of equal
// width; spare workgroups hash nonces past the range and must report none.
const tall = openEngine({ workgroupSize: 1, noncesPerInvocation: 1, versions: 1, dispatchNonces: 100_000 });

after(async () => {
  for (const engine of opened) await (await engine.catch(() => undefined))?.close();
});

// As in cpu-agreement.test.ts, with fewer and some longer ranges (a GPU scan has a fixed cost),
// some past the default list of 4096.
const cases = Array.from({ length: 48 }, (_, i) => agreementCase(i, i % 3 === 0 ? 4000 + 20 * i : 40 + (i % 41)));

describe('GPU engine known answers (genesis, block 125552, block 785530 rolled)', { timeout: 120_000 }, () => {
  for (const block of knownBlocks()) {
    it(`${block.name} → nonce ${block.nonce}`, async () => {
      const engine = await calibrated();
      await assertKnownAnswer(engine, block);
      assert.equal(engine.kind, 'gpu');
      assert.ok(engine.backend.length > 0);
    });
  }
  for (const block of knownBlocks().filter((b) => b.unrolledVersion !== undefined)) {
    it(`${block.name} among the engine's versions per scan, rolled from ${block.unrolledVersion!.toString(16)}`, async () => {
      const engine = await calibrated();
      assert.ok(engine.versionsPerScan >= 2, `versions per scan ${engine.versionsPerScan}`);
      await assertRolledKnownAnswer(engine, block, engine.versionsPerScan);
    });
  }
});

describe('GPU engine agrees with node:crypto on random headers × random version sets', { timeout: 120_000 }, () => {
  const rolled = Array.from({ length: 24 }, (_, i) => rolledAgreementCase(i, 30 + 7 * i));
  it(`${rolled.length} rolled cases: the same (nonce, version) pairs and hashes, and the same as the CPU scalar back end`, async () => {
    const engine = await calibrated();
    const cpu = new CpuEngine({ backend: 'scalar', threads: 1 });
    try {
      for (const [i, c] of rolled.entries()) {
        await assertRolledCaseAgrees(engine, c, i);
        const work = { id: `rolled-${i}`, header: c.header, versions: c.versions, target: targetBytes(c.target), start: c.start, count: c.count };
        const [gpu, reference] = [await scanRange(engine, work), await scanRange(cpu, work)];
        assert.deepEqual(
          gpu.found.map((f) => [f.nonce, f.version, f.hash]),
          reference.found.map((f) => [f.nonce, f.version, f.hash]),
          `rolled case ${i}: CPU scalar`,
        );
      }
    } finally {
      await cpu.close();
    }
  });

  it('both version sources, subgroup shuffles and loads, give the same pairs, in whole and partly filled subgroups (lavapipe has subgroups: both run here)', async () => {
    const [shuffling, loading] = [await calibrated(), await loads()];
    for (const versions of [1, 2, 3, 8, 16]) assert.equal(loading.versionSource(versions), 'load');
    if (shuffling.backend.includes('llvmpipe')) {
      // Powers of two up to lavapipe's 8-lane subgroups (on a 256-bit CPU; 4 lanes on 128-bit).
      assert.equal(shuffling.versionSource(1), 'subgroup');
      assert.equal(shuffling.versionSource(3), 'load');
      assert.equal(shuffling.versionSource(16), 'load');
      assert.ok(rolled.some((c) => shuffling.versionSource(c.versions.length) === 'subgroup'), 'a rolled case takes the subgroup source');
    }
    for (const [i, c] of rolled.entries()) {
      if (i % 3 !== 0) continue;
      await assertRolledCaseAgrees(loading, c, i);
    }
    const twelve = await partial();
    if (twelve.backend.includes('llvmpipe')) {
      assert.equal(twelve.versionSource(4), 'subgroup');
      assert.equal(twelve.versionSource(8), 'load', '8 does not divide a workgroup of 12');
    }
    // Powers of two, which the subgroup source takes where it fits.
    for (const k of [2, 4, 8]) {
      const c = rolledAgreementCase(100 + k, 200);
      const versions = [...new Set([...c.versions, ...rolledAgreementCase(200 + k, 1).versions])].slice(0, k);
      assert.equal(versions.length, k);
      const targetHex = `1${'f'.repeat(63)}`; // about one pair in 16
      const work = { id: `sources-${k}`, header: c.header, versions, target: targetBytes(targetHex), start: c.start, count: c.count };
      const expected = [];
      for (let n = c.start; n < c.start + c.count; n++) {
        for (const v of versions) {
          const hash = headerHashHex(withVersion(c.header, v), n);
          if (hash <= targetHex) expected.push([n, v, hash]);
        }
      }
      assert.ok(expected.length > 0);
      for (const engine of [shuffling, loading, twelve]) {
        const result = await scanRange(engine, work);
        assert.deepEqual(
          result.found.map((f) => [f.nonce, f.version, f.hash]),
          expected,
          `${k} versions, ${engine.versionSource(k)} source, workgroups of ${engine.workgroupSize}`,
        );
      }
    }
  });

  it('an overflowing list of (nonce, version) pairs is rescanned: none lost, none twice', async () => {
    const engine = await smallList();
    const header = seededBytes(4_711, 80);
    const versions = [0x20000000, 0x20002000, 0x20004000, 0x20006000, 0x3fffe000];
    const targetHex = `0f${'f'.repeat(62)}`; // about one pair in 16: some 2500 per 8192-nonce dispatch
    const start = 1_000_000;
    const before = engine.stats.overflows;
    const result = await scanRange(engine, { id: 'rolled overflow', header, versions, target: targetBytes(targetHex), start, count: 20_000 });
    assert.ok(engine.stats.overflows > before, 'the list overflowed');
    const expected = [];
    for (let n = start; n < start + 20_000; n++) {
      for (const v of versions) {
        const hash = headerHashHex(withVersion(header, v), n);
        if (hash <= targetHex) expected.push([n, v, hash]);
      }
    }
    assert.equal(result.hashes, 20_000 * versions.length);
    assert.deepEqual(
      result.found.map((f) => [f.nonce, f.version, f.hash]),
      expected,
    );
  });
});

describe('GPU engine agrees with node:crypto and the CPU scalar back end', { timeout: 120_000 }, () => {
  // One admitting all of more than 4096 nonces overflows the default list.
  it('covers targets that admit none, one, several and all nonces', () => assertCasesCoverEveryKind(cases, 4096));

  it(`${cases.length} random headers: the same set of nonces and hashes`, async () => {
    const engine = await calibrated();
    const cpu = new CpuEngine({ backend: 'scalar', threads: 1 });
    try {
      for (const [i, c] of cases.entries()) {
        const gpu = await assertCaseAgrees(engine, c, i);
        const reference = await scanRange(cpu, { id: `case-${i}`, header: c.header, target: targetBytes(c.target), start: c.start, count: c.count });
        assert.deepEqual(
          gpu.found.map((f) => [f.nonce, f.hash]),
          reference.found.map((f) => [f.nonce, f.hash]),
          `case ${i}: CPU scalar`,
        );
      }
    } finally {
      await cpu.close();
    }
  });

  it('a long range with about one nonce in 64: the same set as the CPU scalar back end', async () => {
    const engine = await calibrated();
    const cpu = new CpuEngine({ backend: 'scalar', threads: 2 });
    const header = seededBytes(7_777, 80);
    const work = { id: 'long', header, target: targetBytes(`03${'f'.repeat(62)}`), start: 2 ** 32 - 300_001, count: 300_001 };
    try {
      const gpu = await scanRange(engine, work);
      const reference = await scanRange(cpu, work);
      assert.ok(reference.found.length > 3000);
      assert.deepEqual(
        gpu.found.map((f) => [f.nonce, f.hash]),
        reference.found.map((f) => [f.nonce, f.hash]),
      );
    } finally {
      await cpu.close();
    }
  });

  it('dispatches beyond 65535 workgroups (a 2-D grid with spare workgroups): the same set as the CPU scalar back end', async () => {
    const engine = await tall();
    const cpu = new CpuEngine({ backend: 'scalar', threads: 2 });
    const header = seededBytes(65_536, 80);
    // 100,000 workgroups of one nonce: rows of 50,000 (no spare); the tail of 30,001: one row.
    // And 65,537: two rows of 32,769, one spare workgroup hashing the nonce after the range.
    for (const count of [130_001, 65_537]) {
      const work = { id: `tall-${count}`, header, target: targetBytes(`03${'f'.repeat(62)}`), start: 2 ** 32 - count, count };
      const gpu = await scanRange(engine, work);
      const reference = await scanRange(cpu, work);
      assert.ok(reference.found.length > 500);
      assert.deepEqual(
        gpu.found.map((f) => [f.nonce, f.hash]),
        reference.found.map((f) => [f.nonce, f.hash]),
      );
    }
    await cpu.close();
  });

  it('an overflowing result list is rescanned in pieces: no nonce lost, none twice', async () => {
    const engine = await smallList();
    const header = seededBytes(31_337, 80);
    // About one nonce in 16: some 512 per 8192-nonce dispatch against a list of 64.
    const targetHex = `0f${'f'.repeat(62)}`;
    const start = 2 ** 32 - 50_000;
    const before = engine.stats.overflows;
    const result = await scanRange(engine, { id: 'overflow', header, target: targetBytes(targetHex), start, count: 50_000 });
    assert.ok(engine.stats.overflows > before, 'the list overflowed');
    const expected = [];
    for (let n = start; n < 2 ** 32; n++) {
      const hash = headerHashHex(header, n);
      if (hash <= targetHex) expected.push([n, hash]);
    }
    assert.ok(expected.length > 2500);
    assert.equal(result.hashes, 50_000);
    assert.deepEqual(
      result.found.map((f) => [f.nonce, f.hash]),
      expected,
    );
  });
});
