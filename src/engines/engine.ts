// The shape every hashing engine has (docs/architecture.md): the scheduler hands it work,
// it reports candidates and hash counts, and it can be stopped. An engine never decides what
// a block is: the orchestrator re-checks every candidate with its own SHA-256d.
import type { EventEmitter } from 'node:events';

/** Most versions one scan hashes side by side (native/sha256/sha256.h kMaxVersions). */
export const MAX_SCAN_VERSIONS = 16;

/**
 * One piece of work: a nonce range of one header, with the target a candidate must meet. With
 * `versions`, every nonce is hashed with each of those header versions (version rolling,
 * software AsicBoost): count × versions headers in all.
 */
export interface ScanWork {
  /** Chosen by the scheduler; candidates carry it back so stale results can be told apart. */
  readonly id: string;
  /** The 80-byte header; its nonce field (bytes 76..79) is ignored, and so is its version field when `versions` is given. */
  readonly header: Uint8Array;
  /**
   * The header versions to hash every nonce with: 1..MAX_SCAN_VERSIONS distinct unsigned 32-bit
   * values (the orchestrator rolls BIP320's bits). Absent: the header's own version only.
   */
  readonly versions?: readonly number[];
  /** 32 bytes, big-endian: a hash (display order) at or below it is a candidate. */
  readonly target: Uint8Array;
  /** First nonce, 0..2^32-1. */
  readonly start: number;
  /** Number of nonces, 1..2^32, with start + count <= 2^32. */
  readonly count: number;
  /**
   * End the scan at the first candidate (its done event then says stopped). Set when the
   * target is the block target: one block makes the template dead, and at a trivial target
   * (regtest) half of all nonces would otherwise come back as candidates.
   */
  readonly stopOnFound?: boolean;
}

export interface Candidate {
  readonly workId: string;
  readonly nonce: number;
  /** The header version it was found with (one of the work's versions; the header's own without them). */
  readonly version: number;
  /** Double SHA-256 in display order, hex. */
  readonly hash: string;
}

export interface HashReport {
  readonly workId: string;
  /** Headers hashed since the previous report of the same work (nonces × versions). */
  readonly hashes: number;
}

export interface WorkDone {
  readonly workId: string;
  /** Total headers hashed for this work (nonces × versions). */
  readonly hashes: number;
  readonly seconds: number;
  /** True when stop() ended it before the range was exhausted. */
  readonly stopped: boolean;
}

export interface EngineEvents {
  candidate: [Candidate];
  hashes: [HashReport];
  done: [WorkDone];
  error: [Error];
}

export interface Engine extends EventEmitter<EngineEvents> {
  /** "cpu" or "gpu". */
  readonly kind: string;
  /** The back end (CPU) or adapter (GPU) doing the hashing, for logs and metrics. */
  readonly backend: string;
  readonly threads: number;
  /**
   * How many header versions this engine hashes best side by side (its back end's or kernel's
   * K, measured: npm run bench); 1 where sharing work between versions does not pay. The
   * orchestrator gives it that many when the job lets it roll versions.
   */
  readonly versionsPerScan: number;
  /** True between start() and the matching done event. */
  readonly busy: boolean;
  /** Starts hashing `work`; a previous scan must have finished or been stopped first. */
  start(work: ScanWork): void;
  /** Stops the current scan; resolves once its done event has been emitted. */
  stop(): Promise<void>;
  /** Releases everything the engine holds; it cannot be started again. */
  close(): Promise<void>;
}
