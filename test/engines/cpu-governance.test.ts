// How hashing threads share the machine: CPU affinity, per-thread priority and a CPU limit,
// each checked where the kernel shows it (/proc/self/task/<tid>/...), plus the default thread
// count against a fake cgroup tree.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { CpuEngine, CpuOptionError, cgroupCpuQuota, defaultThreads } from '../../src/engines/cpu-engine.js';
import type { ScanWork } from '../../src/engines/engine.js';
import { scanRange } from '../../src/engines/scan-range.js';
import { nativeAddon } from '../../src/native/addon.js';
import { CLOCK_TICKS, cpusAllowed as cpusAllowedOf, hashThreads, rangeList, runQueueWaitNs as waitOf, taskStat as statOf } from '../support/proc.js';
import { seededBytes } from '../support/reference.js';

const taskStat = (tid: number) => statOf('self', tid);
const runQueueWaitNs = (tid: number) => waitOf('self', tid);
const cpusAllowed = (tid: number) => cpusAllowedOf('self', tid);
const clockTicks = CLOCK_TICKS;

const linux = process.platform === 'linux';
const allowed = linux ? nativeAddon().allowedCpus() : [];

/** A whole nonce range no hash meets: hashes until stopped. */
function endless(id: string): ScanWork {
  return { id, header: seededBytes(99, 80), target: new Uint8Array(32), start: 0, count: 2 ** 32 };
}

describe('CPU engine governance', { timeout: 60_000 }, () => {
  it('pins hashing thread i to affinity[i % n], visible in Cpus_allowed_list', { skip: !linux && 'Linux only' }, async () => {
    const list = [...allowed].reverse().slice(0, 2);
    const engine = new CpuEngine({ backend: 'scalar', threads: 3, affinity: list });
    try {
      const running = scanRange(engine, endless('affinity'));
      // start() returns once every worker has applied its settings.
      const threads = hashThreads();
      assert.equal(threads.size, 3);
      for (const [index, tid] of threads) assert.equal(cpusAllowed(tid), String(list[index % list.length]), `thread ${index}`);
      // The JavaScript thread keeps the process's whole mask.
      assert.equal(cpusAllowed(process.pid), rangeList(allowed));
      await engine.stop();
      await running;
    } finally {
      await engine.close();
    }
  });

  it('sets the priority of the hashing threads only', { skip: !linux && 'Linux only' }, async () => {
    const main = taskStat(process.pid);
    for (const [priority, want] of [
      ['idle', { policy: 5 }],
      ['low', { policy: 0, nice: 19 }],
      ['normal', { policy: main.policy, nice: main.nice }],
    ] as const) {
      const engine = new CpuEngine({ backend: 'scalar', threads: 2, priority });
      try {
        const running = scanRange(engine, endless(priority));
        const threads = hashThreads();
        assert.equal(threads.size, 2);
        for (const tid of threads.values()) {
          const s = taskStat(tid);
          assert.equal(s.policy, want.policy, `${priority}: policy of thread ${tid}`);
          if ('nice' in want) assert.equal(s.nice, want.nice, `${priority}: nice of thread ${tid}`);
        }
        const after = taskStat(process.pid);
        assert.deepEqual([after.policy, after.nice], [main.policy, main.nice], 'the JavaScript thread is untouched');
        await engine.stop();
        await running;
      } finally {
        await engine.close();
      }
    }
  });

  it('cpuLimit 50 holds each hashing thread near half a core', { skip: !linux && 'Linux only' }, async (t) => {
    const threads = Math.min(2, allowed.length);
    const engine = new CpuEngine({ threads, cpuLimit: 50 });
    try {
      const running = scanRange(engine, endless('limit'));
      const tids = [...hashThreads().values()];
      assert.equal(tids.length, threads);
      // Past the first period, then a measurement window of about two seconds.
      await new Promise((r) => setTimeout(r, 100));
      const before = tids.map((tid) => ({ ticks: taskStat(tid).cpuTicks, wait: runQueueWaitNs(tid) }));
      const began = performance.now();
      await new Promise((r) => setTimeout(r, 2000));
      const after = tids.map((tid) => ({ ticks: taskStat(tid).cpuTicks, wait: runQueueWaitNs(tid) }));
      const seconds = (performance.now() - began) / 1000;
      await engine.stop();
      const result = await running;
      const shares = tids.map((_, i) => (after[i]!.ticks - before[i]!.ticks) / clockTicks / seconds);
      const waits = tids.map((_, i) => (after[i]!.wait - before[i]!.wait) / 1e9 / seconds);
      t.diagnostic(
        `cpuLimit 50: CPU share per thread ${shares.map((s) => `${(s * 100).toFixed(1)}%`).join(', ')} over ${seconds.toFixed(2)} s; ` +
          `run-queue wait ${waits.map((w) => `${(w * 100).toFixed(1)}%`).join(', ')} of the time`,
      );
      for (const [i, share] of shares.entries()) {
        assert.ok(share <= 0.65, `thread ${i}: share ${(share * 100).toFixed(1)}% above 50 + 15`);
        // Below its limit only if other processes kept it off the core: a thread that waited
        // on the run queue for a fifth of the window was denied the CPU, not throttled.
        if (waits[i]! < 0.2) assert.ok(share >= 0.35, `thread ${i}: share ${(share * 100).toFixed(1)}% below 50 - 15`);
      }
      assert.equal(result.stopped, true);
    } finally {
      await engine.close();
    }
  });

  it('stops promptly while throttled', async (t) => {
    const engine = new CpuEngine({ threads: Math.max(1, Math.min(2, allowed.length || 1)), cpuLimit: 20, progressMs: 20 });
    const latencies: number[] = [];
    try {
      for (let round = 0; round < 5; round++) {
        const running = scanRange(engine, endless(`stop-${round}`));
        // Wait for hashing to be under way (a progress event), then stop.
        await new Promise<void>((resolve) => engine.once('hashes', () => resolve()));
        const asked = performance.now();
        await engine.stop();
        const result = await running;
        latencies.push(performance.now() - asked);
        assert.equal(result.stopped, true);
        assert.ok(result.hashes > 0);
      }
    } finally {
      await engine.close();
    }
    latencies.sort((a, b) => a - b);
    t.diagnostic(`stop latency under cpuLimit 20: median ${latencies[2]!.toFixed(2)} ms, worst ${latencies[4]!.toFixed(2)} ms`);
    // Generous: a throttled worker sleeping out its period (tens of ms at cpuLimit 20) fails it.
    assert.ok(latencies[4]! < 2000, `stop took ${latencies[4]!.toFixed(1)} ms`);
  });

  it('rejects options out of range before they reach C++', () => {
    const bad: [object, RegExp][] = [
      [{ cpuLimit: 0 }, /^cpuLimit: expected an integer percent 1\.\.100, got 0$/],
      [{ cpuLimit: 101 }, /cpuLimit: .* got 101/],
      [{ cpuLimit: 50.5 }, /cpuLimit: .* got 50\.5/],
      [{ priority: 'high' }, /^priority: expected one of idle, low, normal, got high$/],
      [{ reserveCores: -1 }, /^reserveCores: expected an integer 0\.\.1024, got -1$/],
    ];
    if (linux) {
      bad.push([{ affinity: [] }, /^affinity: expected a list of 1\.\.1024 CPU indices/]);
      bad.push([{ affinity: [4096] }, /^affinity: expected CPUs this process may use \(.*\), got 4096$/]);
      bad.push([{ affinity: [0.5] }, /^affinity: expected CPU indices/]);
    }
    for (const [options, message] of bad) {
      assert.throws(() => new CpuEngine({ backend: 'scalar', threads: 1, ...options }), (err: unknown) => {
        assert.ok(err instanceof CpuOptionError, `${JSON.stringify(options)}: ${String(err)}`);
        assert.match(err.message, message);
        return true;
      });
    }
  });

  describe('defaultThreads honours the cgroup CPU quota and the affinity mask', () => {
    function fakeCgroup(files: Record<string, string>, membership: string): { cgroupRoot: string; procSelfCgroup: string; done: () => void } {
      const dir = mkdtempSync(join(tmpdir(), 'solominer-cgroup-'));
      const root = join(dir, 'cgroup');
      mkdirSync(root);
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(join(root, path, '..'), { recursive: true });
        writeFileSync(join(root, path), text);
      }
      writeFileSync(join(dir, 'self-cgroup'), membership);
      return { cgroupRoot: root, procSelfCgroup: join(dir, 'self-cgroup'), done: () => rmSync(dir, { recursive: true, force: true }) };
    }

    it('cgroup v2: "max" is no quota; a quota is rounded down; the smallest level binds', () => {
      const unlimited = fakeCgroup({ 'cgroup.controllers': 'cpu', 'a/b/cpu.max': 'max 100000\n' }, '0::/a/b\n');
      const quota = fakeCgroup(
        { 'cgroup.controllers': 'cpu', 'cpu.max': 'max 100000\n', 'a/cpu.max': '250000 100000\n', 'a/b/cpu.max': '400000 100000\n' },
        '0::/a/b\n',
      );
      const tiny = fakeCgroup({ 'cgroup.controllers': 'cpu', 'cpu.max': '20000 100000\n' }, '0::/\n');
      try {
        assert.equal(cgroupCpuQuota(unlimited), undefined);
        assert.equal(defaultThreads({ ...unlimited, allowedCpus: 8 }), 8);
        assert.equal(defaultThreads({ ...unlimited, allowedCpus: 8, reserveCores: 2 }), 6);
        assert.equal(cgroupCpuQuota(quota), 2.5);
        assert.equal(defaultThreads({ ...quota, allowedCpus: 8 }), 2);
        assert.equal(defaultThreads({ ...quota, allowedCpus: 8, reserveCores: 1 }), 1);
        assert.equal(defaultThreads({ ...quota, allowedCpus: 1 }), 1, 'the affinity mask binds too');
        assert.equal(defaultThreads({ ...tiny, allowedCpus: 8 }), 1, 'a fraction of a CPU is still one thread');
      } finally {
        unlimited.done();
        quota.done();
        tiny.done();
      }
    });

    it('cgroup v1: cfs_quota_us / cfs_period_us, -1 for none', () => {
      const limited = fakeCgroup(
        { 'cpu,cpuacct/x/cpu.cfs_quota_us': '300000\n', 'cpu,cpuacct/x/cpu.cfs_period_us': '100000\n' },
        '4:memory:/x\n3:cpu,cpuacct:/x\n0::/\n',
      );
      const none = fakeCgroup({ 'cpu/cpu.cfs_quota_us': '-1\n', 'cpu/cpu.cfs_period_us': '100000\n' }, '1:cpu:/\n0::/\n');
      try {
        assert.equal(cgroupCpuQuota(limited), 3);
        assert.equal(defaultThreads({ ...limited, allowedCpus: 16 }), 3);
        assert.equal(defaultThreads({ ...limited, allowedCpus: 16, reserveCores: 5 }), 1, 'never below 1');
        assert.equal(cgroupCpuQuota(none), undefined);
        assert.equal(defaultThreads({ ...none, allowedCpus: 4, reserveCores: 1 }), 3);
      } finally {
        limited.done();
        none.done();
      }
    });

    it('on this machine: between 1 and the CPUs the process may use', () => {
      const n = defaultThreads();
      assert.ok(n >= 1 && n <= (allowed.length || n), `${n}`);
      assert.equal(defaultThreads({ reserveCores: 1024 }), 1);
    });
  });
});
