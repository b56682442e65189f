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
 * Per back end and formulation: the symbol of its scan loop and the loop's shape, and the counts
 * of a GCC 12.2 -O3 build (Xeon model 207, December 2026) for when objdump is absent.
 *  - one (K = 1, the schedule per nonce): `noncesPerTrip` nonces per trip of the outer loop;
 *    vector_body.h rolls hash 1 rounds 40..63 and hash 2 rounds 33..56 into blocks of eight
 *    (`innerLoops` loops of `innerTrips` trips each);
 *  - rolled (K versions, one schedule per nonce step): the outer loop (nonces) computes the
 *    schedule once, a version loop inside it hashes `versionsPerTrip` versions per trip (the
 *    inner round blocks as above: `innerLoops` of them, `innerTrips` trips each); other loops
 *    inside the outer one (a remainder of fewer versions) do not run when K is a multiple of
 *    versionsPerTrip. The fallback counts are per nonce step (perNonce) and per version-loop
 *    trip (perVersion).
 */
const LOOPS = {
  avx512: {
    one: { symbol: 'VectorScan<solominer::avx512::(anonymous namespace)::Avx512>::ScanOne(', noncesPerTrip: 16, innerTrips: 3, innerLoops: 2, fallback: { ops: 2855 } },
    // Two versions per trip (Avx512::kVersionPairs); hash 2's rolled rounds come out unrolled.
    rolled: {
      symbol: 'VectorScan<solominer::avx512::(anonymous namespace)::Avx512>::ScanRolled(',
      noncesPerTrip: 16,
      versionsPerTrip: 2,
      innerTrips: 3,
      innerLoops: 1,
      fallback: { perNonce: 464, perVersion: 4789 },
    },
  },
  avx2: {
    one: { symbol: 'VectorScan<solominer::avx2::(anonymous namespace)::Avx2>::ScanOne(', noncesPerTrip: 8, innerTrips: 3, innerLoops: 2, fallback: { ops: 5768 } },
    rolled: {
      symbol: 'VectorScan<solominer::avx2::(anonymous namespace)::Avx2>::ScanRolled(',
      noncesPerTrip: 8,
      versionsPerTrip: 1,
      innerTrips: 3,
      innerLoops: 2,
      fallback: { perNonce: 861, perVersion: 4931 },
    },
  },
  x86_shani: {
    one: { symbol: 'x86_shani::(anonymous namespace)::ScanOne(', noncesPerTrip: 2, innerTrips: 1, innerLoops: 0, fallback: { ops: 686, sha: 122 } },
    rolled: {
      symbol: 'x86_shani::(anonymous namespace)::ScanRolled(',
      noncesPerTrip: 1,
      versionsPerTrip: 4,
      innerTrips: 1,
      innerLoops: 0,
      fallback: { perNonce: 128, perVersion: 864, shaPerVersion: 244 },
    },
  },
  arm_sha2: { one: { symbol: 'arm_sha2::(anonymous namespace)::ScanVersion(', noncesPerTrip: 3, innerTrips: 1, innerLoops: 0 } },
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

/** The instructions of `symbol` in the addon, disassembled with nm + objdump; undefined if unavailable. */
function disassemble(addonPath, symbol) {
  const nm = run('nm', ['-C', '--defined-only', '-n', addonPath]);
  if (!nm) return undefined;
  const syms = nm.split('\n').filter((l) => /^[0-9a-f]+ [tT] /.test(l));
  const i = syms.findIndex((l) => l.includes(symbol) && !l.includes('.cold'));
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
  return ins;
}

/** Loops as [first, last] address pairs (a backward jump), largest first. */
function loopsOf(ins) {
  const loops = [];
  for (const { at, op, args } of ins) {
    const m = /^([0-9a-f]+)/.exec(args);
    if (op.startsWith('j') && m && parseInt(m[1], 16) <= at) loops.push([parseInt(m[1], 16), at]);
  }
  return loops.sort((a, b) => b[1] - b[0] - (a[1] - a[0]));
}

const inside = ([a, b], [c, d]) => c <= a && b <= d && !(a === c && b === d);
/** Loops directly inside `outer` (not inside another loop that is inside it). */
const children = (loops, outer) => loops.filter((l) => inside(l, outer) && !loops.some((m) => inside(l, m) && inside(m, outer)));

/** Vector ALU instructions (and SHA256RNDS2) in [a, b]: every instruction with an xmm/ymm/zmm operand but moves, loads and broadcast loads. */
function countIn(ins, [a, b]) {
  let ops = 0;
  let sha = 0;
  for (const { at, op, args } of ins) {
    if (at < a || at > b) continue;
    if (!/%[xyz]mm/.test(args)) continue;
    if (/^v?mov/.test(op) || (op === 'vpbroadcastd' && args.includes('('))) continue;
    ops++;
    if (op === 'sha256rnds2') sha++;
  }
  return { ops, sha };
}

/** A loop's count with its inner loops weighted by their trips. */
function weighted(ins, loops, loop, trips, innerLoops) {
  const inner = children(loops, loop);
  if (inner.length !== innerLoops) return undefined; // not the loop shape the weights assume
  const all = countIn(ins, loop);
  let { ops, sha } = all;
  for (const l of inner) {
    const c = countIn(ins, l);
    ops += (trips - 1) * c.ops;
    sha += (trips - 1) * c.sha;
  }
  return { ops, sha };
}

/**
 * Vector ALU instructions (and SHA256RNDS2) per hashed header of one back end's loop, counted
 * from the built addon: `versions` 1 counts ScanOne, more count ScanRolled with its schedule
 * shared by that many versions. Undefined when objdump is missing or the loop's shape changed.
 */
export function countLoopOps(addonPath, backend, versions = 1) {
  const shape = versions > 1 ? LOOPS[backend]?.rolled : LOOPS[backend]?.one;
  if (!shape) return undefined;
  const ins = disassemble(addonPath, shape.symbol);
  if (!ins) return undefined;
  const loops = loopsOf(ins);
  if (loops.length === 0) return undefined;
  const outer = loops[0];
  if (versions === 1) {
    const c = weighted(ins, loops, outer, shape.innerTrips, shape.innerLoops);
    return c && { ops: c.ops / shape.noncesPerTrip, sha: c.sha / shape.noncesPerTrip, source: 'objdump' };
  }
  // The version loop is the largest loop that starts inside the nonce loop; any other is a
  // remainder loop (fewer versions than a trip takes), whose code the compiler may place partly
  // past the nonce loop's back jump. What no such loop covers runs once per nonce step.
  const others = loops.filter((l) => l !== outer && outer[0] <= l[0] && l[0] <= outer[1]);
  const versionLoop = others[0];
  if (!versionLoop) return undefined;
  const perTrip = weighted(ins, loops, versionLoop, shape.innerTrips, shape.innerLoops);
  if (!perTrip) return undefined;
  const nonceOnly = { ops: 0, sha: 0 };
  for (const x of ins) {
    if (x.at < outer[0] || x.at > outer[1] || others.some(([a, b]) => a <= x.at && x.at <= b)) continue;
    const c = countIn([x], [x.at, x.at]);
    nonceOnly.ops += c.ops;
    nonceOnly.sha += c.sha;
  }
  const per = (nonce, version) => (nonce / versions + version / shape.versionsPerTrip) / shape.noncesPerTrip;
  return { ops: per(nonceOnly.ops, perTrip.ops), sha: per(nonceOnly.sha, perTrip.sha), source: 'objdump' };
}

/** The documented counts of `backend`'s loop (LOOPS fallback) per hashed header. */
function documentedOps(backend, versions) {
  const shape = versions > 1 ? LOOPS[backend]?.rolled : LOOPS[backend]?.one;
  const f = shape?.fallback;
  if (!f) return undefined;
  if (versions === 1) return { ops: f.ops / shape.noncesPerTrip, sha: (f.sha ?? 0) / shape.noncesPerTrip, source: 'documented' };
  const per = (nonce, version) => (nonce / versions + version / shape.versionsPerTrip) / shape.noncesPerTrip;
  return { ops: per(f.perNonce, f.perVersion), sha: per(0, f.shaPerVersion ?? 0), source: 'documented' };
}

/**
 * Vector ALU instructions per hashed header and the cycles-per-header bound the port model
 * implies, for one back end hashing `versions` versions per nonce (1: the formulation without
 * version rolling).
 */
export function loopBound(addonPath, backend, model, versions = 1) {
  const counts = countLoopOps(addonPath, backend, versions) ?? documentedOps(backend, versions);
  if (!counts) return undefined;
  const opsPerNonce = counts.ops;
  const shaPerNonce = counts.sha ?? 0;
  let bound;
  if (model && model[backend] !== undefined) {
    bound = opsPerNonce / model[backend];
    if (shaPerNonce > 0) bound = Math.max(bound, shaPerNonce * model.shaIssue);
  }
  return { opsPerNonce, shaPerNonce, bound, source: counts.source };
}
