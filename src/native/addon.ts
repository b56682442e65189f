// Typed access to the C++ addon (native/: built from source by scripts/build-native.mjs, or
// prebuilt by scripts/prebuild.mjs; addon-loader.ts picks the file). Every value is
// range-checked here before it crosses into C++, so a bad input becomes a typed error that
// names the field instead of a crash or a silent truncation.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

import { loadAddon, runtimeGlibc, type AddonKind, type AddonOrigin } from './addon-loader.js';

export { NativeAddonError, type AddonKind, type AddonOrigin } from './addon-loader.js';

export interface CpuFeatures {
  readonly sse41: boolean;
  readonly ssse3: boolean;
  readonly shaNi: boolean;
  readonly avx2: boolean;
  readonly avx512f: boolean;
  readonly avx512vl: boolean;
  readonly armSha2: boolean;
}

export interface NativeBackend {
  /** Stable identifier, accepted by --backend. */
  readonly name: string;
  /** For the log, e.g. "avx512(16way)". */
  readonly description: string;
  readonly lanes: number;
  /** Versions per scan it is fastest with (software AsicBoost; 1: it shares nothing between versions). */
  readonly versions: number;
  /** False when this CPU lacks the instructions or the back end failed its self-test. */
  readonly usable: boolean;
  readonly reason: string;
  /**
   * Why it is or is not offered. 'self-test-failed' means the CPU has the instructions but
   * the back end disagreed with the scalar reference (or wrote past the caller's buffer): a
   * bug, never a property of the machine. The test suite fails on it; check warns.
   */
  readonly state: BackendState;
}

export type BackendState = 'usable' | 'not-built' | 'cpu-lacks' | 'self-test-failed';

export interface NativeFound {
  readonly nonce: number;
  /** The header version it was found with. */
  readonly version: number;
  /** Double SHA-256 in display order (hex), already compared in full with the target. */
  readonly hash: string;
}

export interface NativeUpdate {
  readonly found: readonly NativeFound[];
  /** Headers hashed so far in this scan (nonces × versions). */
  readonly hashes: number;
  readonly seconds: number;
  readonly done: boolean;
  readonly stopped: boolean;
}

export interface NativeScanOptions {
  readonly header: Uint8Array;
  /** 32 bytes, big-endian: the largest hash (display order) that counts as found. */
  readonly target: Uint8Array;
  readonly start: number;
  readonly count: number;
  readonly backend: string;
  readonly threads: number;
  readonly progressMs: number;
  /** Header versions to hash every nonce with (1..16 distinct); the header's own when absent. */
  readonly versions?: readonly number[];
  /** End the scan at the first nonce found (stopped = true in the last update). */
  readonly stopOnFound: boolean;
  /** Hashing thread i runs only on CPU affinity[i % length] (Linux). */
  readonly affinity?: readonly number[];
  /** Scheduling of the hashing threads only (Linux): SCHED_IDLE, nice 19, or unchanged. */
  readonly priority?: CpuPriority;
  /** Percent of one core each hashing thread may use, 1..100. */
  readonly cpuLimit?: number;
}

export type CpuPriority = 'idle' | 'low' | 'normal';

/** What probeBackend measured: the fastest of its trials (see native/bench/probe.h). */
export interface NativeProbe {
  /** Time-stamp counter rate; 0 where none is read. */
  readonly tscHz: number;
  /** Core clock right after hashing, from a chain of dependent adds. */
  readonly coreHz: number;
  readonly tscPerNonce: number;
  readonly nsPerNonce: number;
}

export interface NativeScanJob {
  stop(): void;
}

interface NativeAddon {
  cpuFeatures(): CpuFeatures;
  backends(): NativeBackend[];
  sha256dHeader(header: Uint8Array): Uint8Array;
  /** Sibling hashes of position 0, concatenated, for these txids (n × 32 bytes). */
  merkleBranch(txids: Uint8Array): Uint8Array;
  /** Merkle root of n × 32 bytes of hashes. */
  merkleRoot(hashes: Uint8Array): Uint8Array;
  /** A Stratum share's hash: coinbase txid folded with the branch into header[36..68], SHA-256d of the header into out. */
  shareHash(coinbase: Uint8Array, branch: Uint8Array, header: Uint8Array, out: Uint8Array): void;
  /**
   * ChaCha20-Poly1305 (RFC 8439, native/noise/chacha20poly1305.h) with Stratum V2's Noise nonce
   * (4 zero bytes, the counter as 64-bit little-endian): the pieces input[ends[i-1]..ends[i]),
   * each sealed with `ad` under the nonce of counter + i, into `out` as ciphertext ‖ 16-byte tag
   * each. Returns the number of pieces (the nonces used).
   */
  aeadSeal(key: Uint8Array, counter: number, ad: Uint8Array, input: Uint8Array, ends: Uint32Array, out: Uint8Array): number;
  /**
   * One piece opened: input[inputOffset, + inputLength) is ciphertext ‖ tag, its plaintext goes
   * to out[outOffset, + inputLength - 16); false (those bytes zeroed) when the tag does not verify.
   */
  aeadOpen(key: Uint8Array, counter: number, ad: Uint8Array, input: Uint8Array, inputOffset: number, inputLength: number, out: Uint8Array, outOffset: number): boolean;
  /** RFC 8439 §2.4 ChaCha20 from block `counter` (the primitive under aeadSeal, for its vectors). */
  chacha20(key: Uint8Array, counter: number, nonce: Uint8Array, input: Uint8Array, out: Uint8Array): void;
  /** RFC 8439 §2.5 Poly1305 of `message` under a one-time key, into 16 bytes (for its vectors). */
  poly1305(key: Uint8Array, message: Uint8Array, out: Uint8Array): void;
  /** CPU indices this process may run on (sched_getaffinity); empty where the OS does not say. */
  allowedCpus(): number[];
  /**
   * Bench only: blocks the calling thread for trials × (hashing + ~0.1 ms). With threads > 1,
   * that many threads hash every trial together and the figures are per thread. With versions
   * > 1 each nonce is hashed with that many versions (the rolling formulation) and the figures
   * are per header hashed.
   */
  probeBackend(backend: string, trials: number, noncesPerTrial: number, threads?: number, versions?: number): NativeProbe;
  ScanJob: new (options: NativeScanOptions, onUpdate: (update: NativeUpdate) => void) => NativeScanJob;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

let loaded: { addon: NativeAddon; origin: AddonOrigin } | undefined;
let noteSink: ((note: string) => void) | undefined;

/**
 * Where the one-line notes of loading go (a prebuilt that did not load and the fallback taken,
 * a back end that failed its self-test): the command line prints them. Notes of a load that
 * happened before a sink was set are handed to it at once.
 */
export function setNativeNoteSink(sink: (note: string) => void): void {
  noteSink = sink;
  for (const note of loaded?.origin.notes ?? []) sink(note);
}

/** The back ends' self-test runs at load (the first backends() call); a failure is a note. */
function selfTestNotes(addon: NativeAddon): string[] {
  const all = addon.backends();
  const best = all.find((b) => b.usable);
  return all
    .filter((b) => b.state === 'self-test-failed')
    .map((b) => `native engine: back end ${b.name} failed its self-test against the scalar reference on a CPU that supports it; using ${best?.description ?? 'no back end'} instead (please report this)`);
}

/**
 * The addon, loaded on first use (src/native/addon-loader.ts picks the file; NativeAddonError,
 * one line, when none loads). `only` restricts the first load to one kind of file: the install
 * script checks the prebuilt alone with it.
 */
export function nativeAddon(only?: AddonKind): NativeAddon {
  if (loaded) return loaded.addon;
  const require = createRequire(import.meta.url);
  loaded = loadAddon<NativeAddon>(
    { root, platform: process.platform, arch: process.arch, glibc: runtimeGlibc, load: (path) => require(path) },
    selfTestNotes,
    only,
  );
  for (const note of loaded.origin.notes) noteSink?.(note);
  return loaded.addon;
}

/** The file loaded and why (loads the addon first); the bench reads its machine code. */
export function nativeAddonOrigin(): AddonOrigin {
  nativeAddon();
  return loaded!.origin;
}
