#!/usr/bin/env node
// npm run bench: hash rate of every CPU back end on one thread and on all cores, in both
// formulations — one version per nonce (each nonce's message schedule used once) and version
// rolling (K versions per nonce sharing one schedule: software AsicBoost) — measured in one run
// next to the machine's single-stream OpenSSL SHA-256 rate (node:crypto over 1 MiB buffers,
// SHA-NI where the CPU has it) expressed as nonces/s: compressions/s ÷ 2, the two compressions
// a nonce costs once the midstate is known. Then cpuminer-opt side by side, when a binary is
// given (CPUMINER_OPT=/path/to/cpuminer: the bench never builds or fetches it): rounds that
// alternate the fastest back end rolling, the same back end without rolling and cpuminer-opt
// (sha256d, --benchmark), one and all threads, medians compared. Then, per back end and
// formulation, cycles per hashed header next to the vector instructions per header and the
// bound they imply for the core's ports (scripts/bench-cycles.mjs says how each is measured or
// counted). Then the GPU engine with and without version rolling. Ratios measured in one run
// hold on a noisy machine; absolute figures do not.
//
//   node scripts/bench.mjs [--seconds s] [--rounds n] [--json]
//   CPUMINER_OPT=/path/to/cpuminer node scripts/bench.mjs
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';

import { loopBound, portModel } from './bench-cycles.mjs';
import { withVulkanEnv } from './vulkan-env.mjs';

// The GPU rows need software Vulkan's variables at process start (on machines without a GPU).
if (!process.env.VK_ICD_FILENAMES && withVulkanEnv().VK_ICD_FILENAMES) {
  const r = spawnSync(process.execPath, process.argv.slice(1), { stdio: 'inherit', env: withVulkanEnv() });
  process.exit(r.status ?? 1);
}

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const rounds = Math.max(1, Math.floor(Number(values.rounds)));

const { CpuEngine, cpuBackends } = await import('../dist/src/engines/cpu-engine.js');
const { benchEngine } = await import('../dist/src/cli/bench-command.js');
const { scanRange } = await import('../dist/src/engines/scan-range.js');
const { nativeAddon, nativeAddonOrigin } = await import('../dist/src/native/addon.js');

function opensslNoncesPerSecond(durationS) {
  const buffer = Buffer.alloc(1 << 20, 0xa5);
  const started = performance.now();
  let bytes = 0;
  while (performance.now() - started < durationS * 1000) {
    createHash('sha256').update(buffer).digest();
    bytes += buffer.length;
  }
  const elapsed = (performance.now() - started) / 1000;
  return bytes / 64 / elapsed / 2;
}

async function stopLatencyMs(backend, threads) {
  const engine = new CpuEngine({ backend, threads });
  try {
    const running = scanRange(engine, { id: 'stop', header: new Uint8Array(80), target: new Uint8Array(32), start: 0, count: 2 ** 32 });
    await new Promise((r) => setTimeout(r, 200));
    const asked = performance.now();
    await engine.stop();
    await running;
    return performance.now() - asked;
  } finally {
    await engine.close();
  }
}

/** CPU seconds of this process's main thread (Linux; NaN elsewhere). */
function mainThreadCpuSeconds() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return Number.NaN;
  }
}

/** The 'cpu MHz' /proc/cpuinfo reports (often the nominal clock under a hypervisor). */
function cpuinfoMhz() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('cpu MHz'));
    return line ? Number(line.split(':')[1]).toFixed(0) : undefined;
  } catch {
    return undefined;
  }
}

const flags = (() => {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const line = text.split('\n').find((l) => l.startsWith('flags')) ?? '';
    return ['sha_ni', 'avx2', 'avx512f', 'avx512vl', 'avx512bw'].filter((f) => line.split(/\s+/).includes(f));
  } catch {
    return [];
  }
})();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One CPU engine row with `versions` per nonce: its hash rate over `seconds`. */
async function cpuRate(backend, threads, versions, durationS = seconds) {
  const engine = new CpuEngine({ backend, threads });
  try {
    return (await benchEngine(engine, durationS, versions)).hashesPerSecond;
  } finally {
    await engine.close();
  }
}

/**
 * cpuminer-opt's sha256d benchmark (its own offline mode: --benchmark, --time-limit): the rate it
 * prints at exit ("Benchmark: x MH/s"), in hashes/s; undefined (with the reason) if it fails.
 */
function cpuminerRate(binary, threads, durationS) {
  return new Promise((resolve) => {
    const child = spawn(binary, ['-a', 'sha256d', '--benchmark', '-t', String(threads), `--time-limit=${Math.max(2, Math.round(durationS))}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), (durationS + 30) * 1000);
    child.on('error', (err) => {
      clearTimeout(killer);
      resolve({ error: err.message });
    });
    child.on('close', () => {
      clearTimeout(killer);
      // eslint-disable-next-line no-control-regex
      const text = out.replace(/\x1b\[[0-9;]*m/g, '');
      const m = /Benchmark: ([\d.]+) ([kMGT]?)H\/s/.exec(text);
      if (!m) return resolve({ error: `no "Benchmark:" line in its output (${text.trim().split('\n').at(-1) ?? 'nothing'})` });
      const scale = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2]];
      resolve({ rate: Number(m[1]) * scale });
    });
  });
}

/** CPUMINER_OPT when it names an executable file; else why the comparison is skipped. */
function cpuminerBinary() {
  const path = process.env.CPUMINER_OPT;
  if (!path) return { why: 'CPUMINER_OPT is not set (a cpuminer-opt binary built with -O3 -march=native; the bench never fetches or builds it)' };
  try {
    accessSync(path, constants.X_OK);
    return { path };
  } catch {
    return { why: `CPUMINER_OPT=${path} is not an executable file` };
  }
}

const all = availableParallelism();
const threadCounts = all > 1 ? [1, all] : [1];
const usable = cpuBackends().filter((b) => b.usable);
const reference = opensslNoncesPerSecond(Math.min(seconds, 3));

// Every back end, one thread and all: without version rolling (K = 1) and with its K.
const rows = [];
for (const backend of usable) {
  for (const threads of threadCounts) {
    // The yardstick is measured again right before each pair of rows: on a shared machine the
    // speed drifts within a run, and a ratio to an adjacent measurement drifts least.
    const adjacent = threads === 1 ? opensslNoncesPerSecond(1) : (rows.at(-1)?.openssl ?? reference);
    for (const versions of [...new Set([1, backend.versions])]) {
      const rate = await cpuRate(backend.name, threads, versions);
      rows.push({ backend: backend.name, description: backend.description, threads, versions, hashesPerSecond: rate, ratioToOpenSsl: rate / adjacent, openssl: adjacent });
    }
  }
}

// cpuminer-opt and our own formulations, side by side: rounds alternate the three, so drift on a
// shared machine hits each alike; the medians are compared.
const best = usable[0];
const cpuminer = cpuminerBinary();
const sideBySide = [];
if (cpuminer.path) {
  for (const threads of threadCounts) {
    const got = { rolled: [], one: [], cpuminer: [] };
    let error;
    for (let r = 0; r < rounds && !error; r++) {
      got.rolled.push(await cpuRate(best.name, threads, best.versions));
      got.one.push(await cpuRate(best.name, threads, 1));
      const c = await cpuminerRate(cpuminer.path, threads, seconds);
      if (c.error) error = c.error;
      else got.cpuminer.push(c.rate);
    }
    if (error) {
      sideBySide.push({ threads, error });
      continue;
    }
    const [rolled, one, other] = [median(got.rolled), median(got.one), median(got.cpuminer)];
    sideBySide.push({ threads, backend: best.name, versions: best.versions, rolled, one, cpuminer: other, rolledVsCpuminer: rolled / other, rolledVsOne: rolled / one, oneVsCpuminer: one / other, rounds: got });
  }
}

// The GPU engine on every adapter there is, with and without version rolling, and the CPU time
// its host side (the main thread, which feeds the device) uses meanwhile. On lavapipe the "GPU"
// is LLVM-compiled code on these same cores, so its rate shows the kernel's instruction economy.
// Where the rolled pipeline hands the versions' entries on with subgroup shuffles, the same
// tuning with loads instead (nosg) runs beside it: the two ways the kernel's lanes get them.
const gpuRows = [];
try {
  const { GpuEngine, gpuAdapters } = await import('../dist/src/engines/gpu-engine.js');
  const adapters = await gpuAdapters();
  for (const [index] of adapters.entries()) {
    const engine = await GpuEngine.create({ adapter: String(index) });
    const k = engine.versionsPerScan;
    const loads = engine.versionSource(k) === 'subgroup' ? await GpuEngine.create({ adapter: String(index), subgroups: false }) : undefined;
    try {
      const runs = [[engine, k], [engine, 1], ...(loads ? [[loads, k]] : [])];
      const byRun = runs.map(() => []);
      // Alternated, as above; an engine hashes 1 version or its K per nonce, one pipeline each.
      for (let r = 0; r < rounds; r++) {
        for (const [i, [e, versions]] of runs.entries()) {
          const before = mainThreadCpuSeconds();
          const row = await benchEngine(e, seconds, versions);
          const hostCpu = (mainThreadCpuSeconds() - before) / row.seconds;
          byRun[i].push({ rate: row.hashesPerSecond, hostCpu, backend: row.backend });
        }
      }
      for (const [i, [e, versions]] of runs.entries()) {
        const list = byRun[i];
        const rate = median(list.map((x) => x.rate));
        gpuRows.push({
          backend: list[0].backend,
          versions,
          versionSource: e.versionSource(versions),
          hashesPerSecond: rate,
          ratioToOpenSsl: rate / reference,
          hostCpuShare: median(list.map((x) => x.hostCpu)),
        });
      }
    } finally {
      await engine.close();
      await loads?.close();
    }
  }
} catch (err) {
  gpuRows.push({ error: String(err.message ?? err).split('\n')[0] });
}

// Cycles per hashed header on one thread against the port bound of each loop, both formulations.
const model = portModel();
const cycleRows = [];
for (const backend of usable) {
  for (const versions of [...new Set([1, backend.versions])]) {
    const nonces = backend.name === 'scalar' ? 256 : backend.lanes * 256 * versions;
    const probe = nativeAddon().probeBackend(backend.name, 300, nonces, 1, versions);
    const cyclesPerNonce = probe.nsPerNonce * 1e-9 * probe.coreHz;
    const bound = loopBound(nativeAddonOrigin().path, backend.name, model, versions);
    // Every core hashing, each trial started together: scaling without other processes' noise.
    const together = all > 1 ? nativeAddon().probeBackend(backend.name, 300, nonces, all, versions) : undefined;
    const allCoreScaling = together ? (all * probe.nsPerNonce) / together.nsPerNonce : undefined;
    cycleRows.push({ backend: backend.name, description: backend.description, versions, ...probe, cyclesPerNonce, ...bound, allCoreScaling });
  }
}

// Measured again at the end: if the machine's speed drifted during the run, this shows it.
const referenceAfter = opensslNoncesPerSecond(Math.min(seconds, 3));
const stop = await stopLatencyMs(best.name, all);

if (values.json) {
  console.log(
    JSON.stringify({ cpu: cpus()[0]?.model, flags, opensslNoncesPerSecond: [reference, referenceAfter], stopLatencyMs: stop, rows, cpuminer: cpuminer.path ?? null, cpuminerSkipped: cpuminer.why, sideBySide, cycleRows, portModel: model?.name, gpuRows }),
  );
} else {
  const fmt = (v, digits, width) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits)).padStart(width);
  const formulation = (k) => (k === 1 ? 'K=1' : `K=${k} rolled`);
  console.log(`cpu: ${cpus()[0]?.model} (${all} cores; ${flags.join(' ')})`);
  console.log(`openssl sha256 single stream: ${(reference / 1e6).toFixed(2)} M nonces/s equivalent (after the run: ${(referenceAfter / 1e6).toFixed(2)})`);
  console.log('hash rate per back end; K = header versions per nonce (K=1: each nonce\'s schedule used once; rolled: shared by K versions)');
  console.log('backend           threads  formulation       MH/s   × openssl   × 1 thread   × K=1');
  const single = new Map();
  const plain = new Map();
  for (const row of rows) {
    const key = `${row.backend}/${row.versions}`;
    if (row.threads === 1) single.set(key, row.hashesPerSecond);
    if (row.versions === 1) plain.set(`${row.backend}/${row.threads}`, row.hashesPerSecond);
    const scaling = row.threads === 1 ? '' : (row.hashesPerSecond / single.get(key)).toFixed(2);
    const vsPlain = row.versions === 1 ? '' : (row.hashesPerSecond / plain.get(`${row.backend}/${row.threads}`)).toFixed(2);
    console.log(
      `${row.description.padEnd(18)}${String(row.threads).padStart(7)}  ${formulation(row.versions).padEnd(14)}${(row.hashesPerSecond / 1e6).toFixed(2).padStart(8)}` +
        `${row.ratioToOpenSsl.toFixed(2).padStart(12)}${scaling.padStart(13)}${vsPlain.padStart(7)}`,
    );
  }
  console.log(`stop latency (${all} threads, best back end): ${stop.toFixed(2)} ms`);
  if (!cpuminer.path) {
    console.log(`cpuminer-opt: not measured: ${cpuminer.why}`);
  } else {
    console.log(`side by side with cpuminer-opt (${cpuminer.path}, sha256d --benchmark), ${rounds} alternating rounds of ${seconds} s, medians:`);
    console.log(`threads  ${best.name} K=${best.versions} MH/s  ${best.name} K=1 MH/s  cpuminer-opt MH/s  rolled × cpuminer-opt  rolled × K=1  K=1 × cpuminer-opt`);
    const one = sideBySide.find((s) => s.threads === 1 && !s.error);
    for (const s of sideBySide) {
      if (s.error) {
        console.log(`${String(s.threads).padStart(7)}  cpuminer-opt failed: ${s.error}`);
        continue;
      }
      console.log(
        `${String(s.threads).padStart(7)}${fmt(s.rolled / 1e6, 2, 19)}${fmt(s.one / 1e6, 2, 18)}${fmt(s.cpuminer / 1e6, 2, 19)}` +
          `${fmt(s.rolledVsCpuminer, 2, 23)}${fmt(s.rolledVsOne, 2, 14)}${fmt(s.oneVsCpuminer, 2, 20)}` +
          `${s.threads > 1 && one ? `   (${s.threads} threads × 1 thread: ${(s.rolled / one.rolled).toFixed(2)}, cpuminer-opt ${(s.cpuminer / one.cpuminer).toFixed(2)})` : ''}`,
      );
    }
  }
  console.log(
    `cycles per hashed header, one thread, fastest of 300 trials (port model: ${model ? model.name : 'none for this CPU, no bound'}; ` +
      `core clock from a dependent-add chain right after hashing, /proc/cpuinfo says ${cpuinfoMhz() ?? '?'} MHz):`,
  );
  console.log(`backend           formulation   TSC/hash  core GHz  cycles/hash  vector ops/hash  bound cycles/hash  of bound  × 1 thread, ${all} together`);
  for (const r of cycleRows) {
    const share = r.bound ? `${((r.bound / r.cyclesPerNonce) * 100).toFixed(0)}%` : '-';
    const ops = r.opsPerNonce === undefined ? '-' : `${r.opsPerNonce.toFixed(1)}${r.shaPerNonce ? ` (${r.shaPerNonce.toFixed(0)} rnds2)` : ''}`;
    console.log(
      `${r.description.padEnd(18)}${formulation(r.versions).padEnd(12)}${fmt(r.tscPerNonce || undefined, 1, 10)}${fmt(r.coreHz / 1e9, 2, 10)}${fmt(r.cyclesPerNonce, 1, 13)}` +
        `${ops.padStart(17)}${fmt(r.bound, 1, 19)}${share.padStart(10)}${fmt(r.allCoreScaling, 2, 14)}` +
        `${r.source === 'documented' ? '  (ops: documented count)' : ''}`,
    );
  }
  const gpuOne = new Map(gpuRows.filter((r) => r.versions === 1).map((r) => [r.backend, r.hashesPerSecond]));
  for (const row of gpuRows) {
    if (row.error) {
      console.log(`gpu: not measured (${row.error})`);
      continue;
    }
    const vsOne = row.versions === 1 ? '' : `, ${(row.hashesPerSecond / gpuOne.get(row.backend)).toFixed(2)} × K=1`;
    const source = row.versionSource === 'subgroup' ? 'subgroup shuffles' : 'loads';
    console.log(
      `gpu ${row.backend} ${formulation(row.versions)} (${source}): ${(row.hashesPerSecond / 1e6).toFixed(2)} MH/s (${row.ratioToOpenSsl.toFixed(2)} x openssl${vsOne}), ` +
        `host main thread ${(row.hostCpuShare * 100).toFixed(1)}% of a core`,
    );
  }
}
