// The GPU engine's tunable shape, and the configurations a sweep (`bench --sweep`) compares.
// The kernel takes the workgroup size and the nonces per invocation as WGSL override
// constants (fixed when the pipeline is built); the host picks the dispatch size (calibrated
// to dispatchMs) and how many dispatches are queued at once. What is fastest depends on the
// GPU: wide workgroups and several nonces per invocation hide latency on a discrete GPU, while
// on lavapipe (LLVM on the CPU cores) they change little. Nothing here is tuned yet: the
// defaults are the values the engine was proven with.

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
   * AsicBoost: one message schedule per nonce, `versions` midstates), 1..16. The kernel takes
   * it per dispatch, so a job without rolling runs the same pipeline with one version.
   */
  readonly versions: number;
}

export const DEFAULT_TUNING: GpuTuning = { workgroupSize: 64, noncesPerInvocation: 16, dispatchMs: 40, inFlight: 2, versions: 16 };

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
 * dispatch durations, queue depths and versions per nonce (1: the formulation without version
 * rolling, each nonce's schedule used once). Shapes the adapter does not allow are left out (with
 * WebGPU's default limits, workgroups above 256; the engine asks for more when the adapter has it).
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
  return candidates;
}

/** A short name for a configuration, for bench rows: "wg64 n16 40ms q2 v16". */
export function tuningLabel(t: GpuTuning): string {
  return `wg${t.workgroupSize} n${t.noncesPerInvocation} ${t.dispatchMs}ms q${t.inFlight} v${t.versions}`;
}

/**
 * The tuning a label names ("wg256 n32 40ms q2 v16", the words in any order; an axis left out
 * keeps its default), or undefined when a word is not one of wg<n>, n<n>, <n>ms, q<n>, v<n>.
 * The config's gpuTuning and `tune` use the same words as bench rows.
 */
export function parseTuningLabel(label: string): GpuTuning | undefined {
  const t: { -readonly [K in keyof GpuTuning]: GpuTuning[K] } = { ...DEFAULT_TUNING };
  const words = label.trim().split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) return undefined;
  for (const word of words) {
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
