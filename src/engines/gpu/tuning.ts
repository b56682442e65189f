// The GPU engine's tunable shape, and the configurations a sweep (`bench --sweep`) compares.
// The kernel takes the workgroup size and the nonces per invocation as WGSL override
// constants (fixed when the pipeline is built); the host picks the dispatch size (calibrated
// to dispatchMs) and how many dispatches are queued at once. What is fastest depends on the
// GPU: wide workgroups and several nonces per invocation hide latency on a discrete GPU, while
// on lavapipe (LLVM on the CPU cores) they change little. How the lanes get each version's
// entry is an axis too (kernels/sha256d-scan.wgsl's header): subgroup shuffles made version
// rolling pay on lavapipe, where a uniform load indexed by the loop is a per-lane gather; a
// discrete GPU may do better with the plain load, which a sweep shows.

export interface GpuTuning {
  /** Invocations per workgroup (the kernel's WORKGROUP_SIZE). */
  readonly workgroupSize: number;
  /** Nonces each invocation hashes (the kernel's NONCES_PER_INVOCATION). */
  readonly noncesPerInvocation: number;
  /** Wanted duration of one dispatch; the start-up calibration sizes dispatches for it. */
  readonly dispatchMs: number;
  /** Dispatches queued on the GPU at once. */
  readonly inFlight: number;
  /**
   * Header versions each nonce is hashed with when the job lets the engine roll them (software
   * AsicBoost: one message schedule per nonce, `versions` midstates), 1..16. The kernel builds
   * a pipeline per count (the engine's, 1 for jobs without rolling, others on first use).
   */
  readonly versions: number;
  /**
   * Hand the versions' entries from lane to lane with subgroup shuffles (label word `sg`, the
   * default) where the adapter has WebGPU's `subgroups` feature and the count is a power of two
   * no larger than its smallest subgroup; otherwise, or with `nosg`, every lane loads each entry.
   */
  readonly subgroups: boolean;
}

// versions 8: the most that fit lavapipe's 8-lane subgroups on a 256-bit CPU (with 16 every lane
// loads the entries: measured slower there), and most GPUs' subgroups hold 8 lanes or more.
export const DEFAULT_TUNING: GpuTuning = { workgroupSize: 64, noncesPerInvocation: 16, dispatchMs: 40, inFlight: 2, versions: 8, subgroups: true };

/** What the adapter allows (GPUSupportedLimits' fields of the same names); WebGPU's defaults when unknown. */
export interface TuningLimits {
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupSizeX: number;
}

const WEBGPU_DEFAULT_LIMITS: TuningLimits = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256 };

const WORKGROUP_SIZES = [32, 64, 128, 256, 512, 1024] as const;
const NONCES_PER_INVOCATION = [1, 4, 8, 16, 32, 64] as const;
const DISPATCH_MS = [10, 20, 40, 80] as const;
const IN_FLIGHT = [1, 2, 3] as const;
const VERSIONS = [1, 2, 4, 8, 16] as const;

/**
 * The configurations to compare, the default first: every workgroup size with every count of
 * nonces per invocation (at the default dispatch timing), then the default shape with other
 * dispatch durations, queue depths, versions per nonce (1: the formulation without version
 * rolling, each nonce's schedule used once) and without subgroup shuffles. Shapes the adapter
 * does not allow are left out (with WebGPU's default limits, workgroups above 256; the engine
 * asks for more when the adapter has it).
 */
export function gpuTuningCandidates(limits: TuningLimits = WEBGPU_DEFAULT_LIMITS): GpuTuning[] {
  const maxWorkgroup = Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
  const candidates: GpuTuning[] = [DEFAULT_TUNING];
  const add = (t: GpuTuning) => {
    if (t.workgroupSize > maxWorkgroup) return;
    if (candidates.some((c) => tuningLabel(c) === tuningLabel(t))) return;
    candidates.push(t);
  };
  for (const workgroupSize of WORKGROUP_SIZES) {
    for (const noncesPerInvocation of NONCES_PER_INVOCATION) add({ ...DEFAULT_TUNING, workgroupSize, noncesPerInvocation });
  }
  for (const dispatchMs of DISPATCH_MS) add({ ...DEFAULT_TUNING, dispatchMs });
  for (const inFlight of IN_FLIGHT) add({ ...DEFAULT_TUNING, inFlight });
  for (const versions of VERSIONS) add({ ...DEFAULT_TUNING, versions });
  add({ ...DEFAULT_TUNING, subgroups: false });
  return candidates;
}

/** A short name for a configuration, for bench rows: "wg64 n16 40ms q2 v8" (" nosg" without subgroup shuffles). */
export function tuningLabel(t: GpuTuning): string {
  return `wg${t.workgroupSize} n${t.noncesPerInvocation} ${t.dispatchMs}ms q${t.inFlight} v${t.versions}${t.subgroups ? '' : ' nosg'}`;
}

/**
 * The tuning a label names ("wg256 n32 40ms q2 v8 nosg", the words in any order; an axis left
 * out keeps its default), or undefined when a word is not one of wg<n>, n<n>, <n>ms, q<n>, v<n>,
 * sg, nosg. The config's gpuTuning and `tune` use the same words as bench rows.
 */
export function parseTuningLabel(label: string): GpuTuning | undefined {
  const t: { -readonly [K in keyof GpuTuning]: GpuTuning[K] } = { ...DEFAULT_TUNING };
  const words = label.trim().split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) return undefined;
  for (const word of words) {
    if (word === 'sg' || word === 'nosg') {
      t.subgroups = word === 'sg';
      continue;
    }
    const m = /^(wg|n|q|v)?(\d+)(ms)?$/.exec(word);
    if (!m || (m[1] === undefined) === (m[3] === undefined)) return undefined;
    const n = Number(m[2]);
    if (!Number.isSafeInteger(n) || n < 1) return undefined;
    if (m[1] === 'wg') t.workgroupSize = n;
    else if (m[1] === 'n') t.noncesPerInvocation = n;
    else if (m[1] === 'q') t.inFlight = n;
    else if (m[1] === 'v') t.versions = n;
    else t.dispatchMs = n;
  }
  return t;
}
