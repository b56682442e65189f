// Typed access to the C++ addon (native/, built by scripts/build-native.mjs). Every value is
// range-checked here before it crosses into C++, so a bad input becomes a typed error that
// names the field instead of a crash or a silent truncation.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

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
  /** Double SHA-256 in display order (hex), already compared in full with the target. */
  readonly hash: string;
}

export interface NativeUpdate {
  readonly found: readonly NativeFound[];
  /** Nonces hashed so far in this scan. */
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
   * that many threads hash every trial together and the figures are per thread.
   */
  probeBackend(backend: string, trials: number, noncesPerTrial: number, threads?: number): NativeProbe;
  ScanJob: new (options: NativeScanOptions, onUpdate: (update: NativeUpdate) => void) => NativeScanJob;
}

/** The addon could not be loaded: not built, or built for another Node. */
export class NativeAddonError extends Error {
  override readonly name = 'NativeAddonError';
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const addonPath = join(root, 'build', 'Release', 'solominer_native.node');
/** Where the built addon lives (the bench reads its machine code to count instructions). */
export const nativeAddonPath = addonPath;

let loaded: NativeAddon | undefined;

export function nativeAddon(): NativeAddon {
  if (loaded) return loaded;
  if (!existsSync(addonPath)) {
    throw new NativeAddonError('the native engine is not built: run npm install (or npm run build:native)');
  }
  try {
    loaded = createRequire(import.meta.url)(addonPath) as NativeAddon;
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new NativeAddonError(`the native engine failed to load (${reason}): run npm run build:native`);
  }
  return loaded;
}
