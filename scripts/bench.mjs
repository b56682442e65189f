#!/usr/bin/env node
// npm run bench: hash rate of every CPU back end on one thread and on all cores, measured in
// one run next to the machine's single-stream OpenSSL SHA-256 rate (node:crypto over 1 MiB
// buffers, SHA-NI where the CPU has it) expressed as nonces/s: compressions/s ÷ 2, the two
// compressions a nonce costs once the midstate is known. Ratios measured in one run hold on
// a noisy machine; absolute figures do not. Then, per back end, cycles per nonce next to the
// vector instructions per nonce and the bound they imply for the core's ports
// (scripts/bench-cycles.mjs says how each is measured or counted).
//
//   node scripts/bench.mjs [--seconds s] [--json]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { availableParallelism, cpus } from 'node:os';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { loopBound, portModel } from './bench-cycles.mjs';
import { withVulkanEnv } from './vulkan-env.mjs';

// The GPU rows need software Vulkan's variables at process start (on machines without a GPU).
if (!process.env.VK_ICD_FILENAMES && withVulkanEnv().VK_ICD_FILENAMES) {
  const r = spawnSync(process.execPath, process.argv.slice(1), { stdio: 'inherit', env: withVulkanEnv() });
  process.exit(r.status ?? 1);
}

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } },
});
const seconds = Number(values.seconds);

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

const all = availableParallelism();
const reference = opensslNoncesPerSecond(Math.min(seconds, 3));
const rows = [];
for (const backend of cpuBackends().filter((b) => b.usable)) {
  for (const threads of all > 1 ? [1, all] : [1]) {
    const engine = new CpuEngine({ backend: backend.name, threads });
    try {
      // The yardstick is measured again right before each row: on a shared machine the speed
      // drifts within a run, and a ratio to an adjacent measurement drifts least.
      const adjacent = threads === 1 ? opensslNoncesPerSecond(1) : (rows.at(-1)?.openssl ?? reference);
      const row = await benchEngine(engine, seconds);
      rows.push({ ...row, description: backend.description, ratioToOpenSsl: row.hashesPerSecond / adjacent, openssl: adjacent });
    } finally {
      await engine.close();
    }
  }
}
// The GPU engine on every adapter there is, with the CPU time its host side (the main thread,
// which feeds the device) uses meanwhile. On lavapipe the "GPU" is LLVM-compiled code on these
// same cores, so its rate shows the kernel's instruction economy next to the CPU back ends.
const gpuRows = [];
try {
  const { GpuEngine, gpuAdapters } = await import('../dist/src/engines/gpu-engine.js');
  const adapters = await gpuAdapters();
  for (const [index] of adapters.entries()) {
    const engine = await GpuEngine.create({ adapter: String(index) });
    try {
      const before = mainThreadCpuSeconds();
      const row = await benchEngine(engine, seconds);
      const hostCpu = (mainThreadCpuSeconds() - before) / row.seconds;
      gpuRows.push({ ...row, description: row.backend, ratioToOpenSsl: row.hashesPerSecond / reference, hostCpuShare: hostCpu });
    } finally {
      await engine.close();
    }
  }
} catch (err) {
  gpuRows.push({ error: String(err.message ?? err).split('\n')[0] });
}

// Cycles per nonce on one thread against the port bound of each loop.
const model = portModel();
const cycleRows = [];
for (const backend of cpuBackends().filter((b) => b.usable)) {
  const nonces = backend.name === 'scalar' ? 256 : backend.lanes * 256;
  const probe = nativeAddon().probeBackend(backend.name, 300, nonces);
  const cyclesPerNonce = probe.nsPerNonce * 1e-9 * probe.coreHz;
  const bound = loopBound(nativeAddonOrigin().path, backend.name, backend.lanes, model);
  // Every core hashing, each trial started together: scaling without other processes' noise.
  const together = all > 1 ? nativeAddon().probeBackend(backend.name, 300, nonces, all) : undefined;
  const allCoreScaling = together ? (all * probe.nsPerNonce) / together.nsPerNonce : undefined;
  cycleRows.push({ backend: backend.name, description: backend.description, ...probe, cyclesPerNonce, ...bound, allCoreScaling });
}

// Measured again at the end: if the machine's speed drifted during the run, this shows it.
const referenceAfter = opensslNoncesPerSecond(Math.min(seconds, 3));
const stop = await stopLatencyMs(cpuBackends().find((b) => b.usable).name, all);

if (values.json) {
  console.log(JSON.stringify({ cpu: cpus()[0]?.model, flags, opensslNoncesPerSecond: [reference, referenceAfter], stopLatencyMs: stop, rows, cycleRows, portModel: model?.name, gpuRows }));
} else {
  console.log(`cpu: ${cpus()[0]?.model} (${all} cores; ${flags.join(' ')})`);
  console.log(`openssl sha256 single stream: ${(reference / 1e6).toFixed(2)} M nonces/s equivalent (after the run: ${(referenceAfter / 1e6).toFixed(2)})`);
  console.log('backend           threads      MH/s   × openssl   × 1 thread');
  const single = new Map();
  for (const row of rows) {
    if (row.threads === 1) single.set(row.backend, row.hashesPerSecond);
    const scaling = row.threads === 1 ? '' : (row.hashesPerSecond / single.get(row.backend)).toFixed(2);
    console.log(
      `${row.description.padEnd(18)}${String(row.threads).padStart(7)}${(row.hashesPerSecond / 1e6).toFixed(2).padStart(10)}` +
        `${row.ratioToOpenSsl.toFixed(2).padStart(12)}${scaling.padStart(13)}`,
    );
  }
  console.log(`stop latency (${all} threads, best back end): ${stop.toFixed(2)} ms`);
  console.log(
    `cycles per nonce, one thread, fastest of 300 trials (port model: ${model ? model.name : 'none for this CPU, no bound'}; ` +
      `core clock from a dependent-add chain right after hashing, /proc/cpuinfo says ${cpuinfoMhz() ?? '?'} MHz):`,
  );
  console.log(`backend            TSC/nonce  core GHz  cycles/nonce  vector ops/nonce  bound cycles/nonce  of bound  × 1 thread, ${all} together`);
  const fmt = (v, digits, width) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits)).padStart(width);
  for (const r of cycleRows) {
    const share = r.bound ? `${((r.bound / r.cyclesPerNonce) * 100).toFixed(0)}%` : '-';
    const ops = r.opsPerNonce === undefined ? '-' : `${r.opsPerNonce.toFixed(1)}${r.shaPerNonce ? ` (${r.shaPerNonce} rnds2)` : ''}`;
    console.log(
      `${r.description.padEnd(18)}${fmt(r.tscPerNonce || undefined, 1, 10)}${fmt(r.coreHz / 1e9, 2, 10)}${fmt(r.cyclesPerNonce, 1, 14)}` +
        `${ops.padStart(18)}${fmt(r.bound, 1, 20)}${share.padStart(10)}${fmt(r.allCoreScaling, 2, 14)}` +
        `${r.source === 'documented' ? '  (ops: documented count)' : ''}`,
    );
  }
  for (const row of gpuRows) {
    if (row.error) {
      console.log(`gpu: not measured (${row.error})`);
      continue;
    }
    console.log(
      `gpu ${row.backend}: ${(row.hashesPerSecond / 1e6).toFixed(2)} MH/s (${row.ratioToOpenSsl.toFixed(2)} x openssl), ` +
        `host main thread ${(row.hostCpuShare * 100).toFixed(1)}% of a core`,
    );
  }
}
