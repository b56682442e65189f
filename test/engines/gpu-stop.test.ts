// The GPU engine's life cycle: built through createEngine with an adapter by index, stop()
// during a scan of the whole nonce space returns promptly and reports what it covered, a
// second scan on the same engine works, a lost device ends the scan with a typed error and
// the next scan runs on a new device, and a process that used the engine exits by itself.
//
// No adapter is a failure, not a skip: run `bash scripts/provision-vulkan.sh` and
// `. .cache/vulkan/env.sh` (VK_ICD_FILENAMES, LD_LIBRARY_PATH) before node starts.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { createEngine, EngineUnavailableError } from '../../src/engines/create-engine.js';
import type { Engine } from '../../src/engines/engine.js';
import { GpuDeviceLostError, GpuEngine, gpuAdapters } from '../../src/engines/gpu-engine.js';
import { scanRange } from '../../src/engines/scan-range.js';
import { assertStopsWholeRange, GPU_PROVISION_HINT, ONE_IN_256_HEX, ONE_IN_65536_HEX, targetBytes } from '../support/engine-suite.js';
import { moduleUrl, runModuleScript } from '../support/node-child.js';
import { referenceScan, seededBytes } from '../support/reference.js';

let opened: Promise<Engine> | undefined;
function engine(): Promise<GpuEngine> {
  opened ??= createEngine({ kind: 'gpu', backend: '0' }).catch((err: unknown) => {
    if (err instanceof EngineUnavailableError) throw new Error(`${GPU_PROVISION_HINT} (${err.message})`);
    throw err;
  });
  return opened.then((e) => {
    assert.ok(e instanceof GpuEngine);
    return e;
  });
}

after(async () => {
  await (await opened?.catch(() => undefined))?.close();
});

describe('GPU engine adapters', { timeout: 120_000 }, () => {
  it('lists at least one adapter and refuses an unknown one with the list', async () => {
    const adapters = await gpuAdapters();
    assert.ok(adapters.length > 0, GPU_PROVISION_HINT);
    assert.equal(adapters[0]!.index, 0);
    assert.ok(adapters[0]!.name.length > 0);
    await assert.rejects(createEngine({ kind: 'gpu', backend: 'no-such-adapter' }), (err: unknown) => {
      assert.ok(err instanceof EngineUnavailableError);
      assert.match(err.message, /gpu-adapter: no adapter matches "no-such-adapter"; this machine has 0: /);
      return true;
    });
  });
});

describe('GPU engine stop()', { timeout: 120_000 }, () => {
  it('stops a 2^32 scan promptly, counts what it covered, scans again', async () => {
    const gpu = await engine();
    // Dispatches are collected in order and none overflows at this target (the pacer's
    // dispatches would need 2^28 nonces to fill the result list): a prefix is covered.
    const { header } = await assertStopsWholeRange(
      gpu,
      600,
      (scanHeader, scanTarget) => {
        assert.equal(gpu.busy, true);
        assert.throws(() => gpu.start({ id: 'y', header: scanHeader, target: scanTarget, start: 0, count: 1 }), /while a scan is running/);
      },
      ONE_IN_65536_HEX,
    );

    // The next scan starts right away; the stopped scan's dispatches drain first.
    // A denser target here: 30,000 nonces stay far below what one dispatch's list holds.
    const again = await scanRange(gpu, { id: 'again', header, target: targetBytes(ONE_IN_256_HEX), start: 5000, count: 30_000 });
    assert.equal(again.hashes, 30_000);
    assert.equal(again.stopped, false);
    assert.deepEqual(
      again.found.map((f) => f.nonce),
      referenceScan(header, 5000, 30_000, ONE_IN_256_HEX),
    );
  });

  it('refuses out-of-range work before it reaches the GPU', async () => {
    const gpu = await engine();
    const header = new Uint8Array(80);
    const target = new Uint8Array(32).fill(0xff);
    assert.throws(() => gpu.start({ id: 'x', header, target, start: 2 ** 32 - 1, count: 2 }), /count: the range/);
    assert.throws(() => gpu.start({ id: 'x', header: new Uint8Array(79), target, start: 0, count: 1 }), /header: expected 80/);
    assert.throws(() => gpu.start({ id: 'x', header, target, start: 0, count: 0 }), /count: expected/);
    assert.equal(gpu.busy, false);
  });

  it('a lost device ends the scan with GpuDeviceLostError; the next scan opens a new device', async () => {
    const gpu = await engine();
    const header = seededBytes(99, 80);
    const target = targetBytes(ONE_IN_256_HEX);
    const running = scanRange(gpu, { id: 'doomed', header, target, start: 0, count: 2 ** 32 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const devices = gpu.stats.devices;
    gpu.simulateDeviceLoss();
    await assert.rejects(running, (err: unknown) => {
      assert.ok(err instanceof GpuDeviceLostError, String(err));
      assert.equal(err.workId, 'doomed');
      assert.match(err.message, /hand the work to another engine/);
      return true;
    });
    assert.equal(gpu.busy, false);
    const again = await scanRange(gpu, { id: 'revived', header, target, start: 1000, count: 20_000 });
    assert.equal(gpu.stats.devices, devices + 1);
    assert.deepEqual(
      again.found.map((f) => f.nonce),
      referenceScan(header, 1000, 20_000, ONE_IN_256_HEX),
    );
  });
});

describe('GPU engine process lifetime', { timeout: 120_000 }, () => {
  it('a process that scans and closes the engine exits by itself', async () => {
    const script = `
      const { createEngine } = await import(${JSON.stringify(moduleUrl('../../src/engines/create-engine.js'))});
      const engine = await createEngine({ kind: 'gpu' });
      await new Promise((resolve, reject) => {
        engine.once('done', resolve);
        engine.once('error', reject);
        engine.start({ id: 'x', header: new Uint8Array(80), target: new Uint8Array(32).fill(255), start: 0, count: 5000 });
      });
      await engine.close();
      process.stdout.write('closed\\n');
    `;
    const { code, signal, stdout, stderr } = await runModuleScript(script, { timeoutMs: 30_000 });
    assert.equal(signal, null, `the process did not exit within 30 s after close() (stderr: ${stderr})`);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, 'closed\n');
  });
});
