// Cycles per nonce of each CPU back end, next to the vector instructions its loop executes per
// nonce and the bound those imply for the core's execution ports: how far each loop runs from
// what the hardware allows. Used by scripts/bench.mjs.
//
// Cycles: native probeBackend (native/bench/probe.cpp) times short trials with the TSC and
// reads the core clock right after each trial from a chain of dependent adds (one per cycle);
// the fastest trial counts, so other processes on a shared machine do not.
//
// Instructions: counted from the built addon with objdump when it is installed (binutils),
// else the figures below, counted the same way from a GCC 12 -O3 build. The count walks the
// back end's nonce loop once: every instruction with an xmm/ymm/zmm operand except moves,
// loads, stores and broadcast loads (those use the load/store ports), with the instructions of
// the rolled round blocks inside it weighted by their trip count.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Per back end: the symbol of its scan loop, the trip count of inner loops (vector_body.h rolls
 * hash 1 rounds 40..63 and hash 2 rounds 33..56 into blocks of eight: 3 trips each), and the
 * counts of a GCC 12.2 -O3 build (Xeon model 207 run, December 2026) for when objdump is absent.
 */
const LOOPS = {
  avx512: { symbol: 'VectorScan<solominer::avx512::', innerTrips: 3, innerLoops: 2, fallback: { ops: 2855, lanes: 16 } },
  avx2: { symbol: 'VectorScan<solominer::avx2::', innerTrips: 3, innerLoops: 2, fallback: { ops: 5768, lanes: 8 } },
  x86_shani: { symbol: 'x86_shani::(anonymous namespace)::Scan(', innerTrips: 1, innerLoops: 0, fallback: { ops: 686, sha: 122, lanes: 2 } },
  arm_sha2: { symbol: 'arm_sha2::(anonymous namespace)::Scan(', innerTrips: 1, innerLoops: 0, fallback: undefined },
};

/**
 * Port models, measured on this project's reference CPU with throughput microbenchmarks
 * (independent instruction streams, best of 200 trials): Intel family 6 models 143 (Sapphire
 * Rapids) and 207 (Emerald Rapids), Golden Cove cores. 512-bit integer ALU work issues on two
 * ports (p0 and p5; vprold/vpsrld on p0 only), 256-bit on three (p0, p1, p5), SHA256RNDS2 one
 * every 3.1 core cycles (its own unit: 12 independent PADDD beside 4 of them cost nothing).
 */
const PORT_MODELS = {
  'golden-cove': { models: [143, 207, 151, 154, 183, 186, 191], avx512: 2, avx2: 3, x86_shani: 3, shaIssue: 3.1 },
};

function cpuModel() {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const field = (name) => text.split('\n').find((l) => l.startsWith(name))?.split(':')[1]?.trim();
    return { vendor: field('vendor_id'), family: Number(field('cpu family')), model: Number(field('model')) };
  } catch {
    return { vendor: undefined, family: NaN, model: NaN };
  }
}

export function portModel() {
  const cpu = cpuModel();
  if (cpu.vendor !== 'GenuineIntel' || cpu.family !== 6) return undefined;
  for (const [name, m] of Object.entries(PORT_MODELS)) if (m.models.includes(cpu.model)) return { name, ...m };
  return undefined;
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  return r.status === 0 ? r.stdout : undefined;
}

/** Vector ALU instructions per loop trip of one back end, counted with nm + objdump; undefined if unavailable. */
export function countLoopOps(addonPath, backend) {
  const loop = LOOPS[backend];
  if (!loop) return undefined;
  const nm = run('nm', ['-C', '--defined-only', '-n', addonPath]);
  if (!nm) return undefined;
  const syms = nm.split('\n').filter((l) => /^[0-9a-f]+ [tT] /.test(l));
  const i = syms.findIndex((l) => l.includes(loop.symbol) && !l.includes('.cold'));
  if (i < 0 || i + 1 >= syms.length) return undefined;
  const start = parseInt(syms[i], 16);
  const end = parseInt(syms[i + 1], 16);
  const dis = run('objdump', ['-d', '--no-show-raw-insn', `--start-address=${start}`, `--stop-address=${end}`, addonPath]);
  if (!dis) return undefined;
  const ins = [];
  for (const line of dis.split('\n')) {
    const m = /^\s+([0-9a-f]+):\s+(\S+)\s*(.*)$/.exec(line);
    if (m) ins.push({ at: parseInt(m[1], 16), op: m[2], args: m[3] });
  }
  const loops = [];
  for (const { at, op, args } of ins) {
    const m = /^([0-9a-f]+)/.exec(args);
    if (op.startsWith('j') && m && parseInt(m[1], 16) <= at) loops.push([parseInt(m[1], 16), at]);
  }
  if (loops.length === 0) return undefined;
  loops.sort((a, b) => b[1] - b[0] - (a[1] - a[0]));
  const outer = loops[0];
  const inner = loops.slice(1).filter(([a, b]) => outer[0] <= a && b <= outer[1]);
  if (inner.length !== loop.innerLoops) return undefined; // not the loop shape the weights assume
  let ops = 0;
  let sha = 0;
  for (const { at, op, args } of ins) {
    if (at < outer[0] || at > outer[1]) continue;
    if (!/%[xyz]mm/.test(args)) continue;
    if (/^v?mov/.test(op) || (op === 'vpbroadcastd' && args.includes('('))) continue;
    const weight = inner.some(([a, b]) => a <= at && at <= b) ? loop.innerTrips : 1;
    ops += weight;
    if (op === 'sha256rnds2') sha += weight;
  }
  return { ops, sha, source: 'objdump' };
}

/**
 * Vector ALU instructions per nonce and the cycles-per-nonce bound the port model implies,
 * for one back end. lanes: nonces per loop trip.
 */
export function loopBound(addonPath, backend, lanes, model) {
  const counted = countLoopOps(addonPath, backend);
  const fallback = LOOPS[backend]?.fallback;
  const counts = counted ?? (fallback && fallback.lanes === lanes ? { ...fallback, source: 'documented' } : undefined);
  if (!counts) return undefined;
  const opsPerNonce = counts.ops / lanes;
  const shaPerNonce = (counts.sha ?? 0) / lanes;
  let bound;
  if (model && model[backend] !== undefined) {
    bound = opsPerNonce / model[backend];
    if (shaPerNonce > 0) bound = Math.max(bound, shaPerNonce * model.shaIssue);
  }
  return { opsPerNonce, shaPerNonce, bound, source: counts.source };
}
