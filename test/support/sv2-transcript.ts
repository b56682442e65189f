/**
 * Recorded Stratum V2 sessions (test/fixtures/sv2/; the README there says what produced each,
 * with which versions and keys): the loader, the byte streams cut into the handshake and the
 * frames, and a replay of the job state a miner keeps, to rebuild the header of every share.
 * Test keys only: every secret in these fixtures was made for the recording.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { concatBytes, rootFromBranch, serializeHeader, sha256d } from '../../src/bitcoin/index.js';
import { encodeHeader, type Frame } from '../../src/stratum/v2/frames.js';
import {
  MessageType,
  type NewExtendedMiningJob,
  type NewMiningJob,
  type SubmitSharesExtended,
  type SubmitSharesStandard,
  type Sv2Message,
} from '../../src/stratum/v2/messages.js';

export type Direction = 'c2s' | 's2c';

/** One recorded connection: both byte streams, both sides' keys, and the frames in plaintext. */
export interface Sv2Fixture {
  readonly description: string;
  /** Who spoke as the initiator (name, version or commit). */
  readonly client: string;
  /** Who spoke as the responder. */
  readonly server: string;
  readonly recordedAt: string;
  /** Unix seconds at the recording: inside the certificate's validity window. */
  readonly clock: number;
  readonly settings: {
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly channel: 'standard' | 'extended';
    /** base58check, as the miner was configured. */
    readonly authorityKey: string;
  };
  /** The certificate's fields as the initiator logged them. */
  readonly certificate: { readonly version: number; readonly validFrom: number; readonly notValidAfter: number };
  readonly initiator: { readonly ephemeralSecret: string; readonly ephemeralEllswift: string };
  readonly responder: {
    readonly staticSecret?: string;
    readonly staticEllswift?: string;
    readonly ephemeralSecret?: string;
    readonly ephemeralEllswift: string;
    readonly authoritySecret?: string;
    /** BIP340 auxiliary randomness of the certificate's signature (solominer's pool). */
    readonly certificateAuxRand?: string;
  };
  /** Every byte each side wrote, in order (hex). */
  readonly wire: { readonly c2s: string; readonly s2c: string };
  /** Plaintext frames (6-byte header ‖ payload), in the order the recording side saw them. */
  readonly frames: readonly { readonly dir: Direction; readonly hex: string }[];
  /** Hashes (display order) of the blocks the node accepted during the recording. */
  readonly blocks: readonly string[];
  readonly outcome: { readonly accepted: number; readonly rejected: readonly string[] };
}

/** Reads test/fixtures/sv2/<name>.json from the source tree, wherever the compiled test runs. */
export function loadSv2Fixture(name: string): Sv2Fixture {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'test', 'fixtures', 'sv2', `${name}.json`);
    if (existsSync(candidate)) return JSON.parse(readFileSync(candidate, 'utf8')) as Sv2Fixture;
    dir = dirname(dir);
  }
  throw new Error(`sv2 fixture ${name} not found above ${fileURLToPath(import.meta.url)}`);
}

export function hex(text: string): Buffer {
  return Buffer.from(text, 'hex');
}

/** The plaintext frame bytes (header ‖ payload) of a decrypted frame, as recordings log them. */
export function plainFrame(f: Frame): Buffer {
  return Buffer.concat([encodeHeader(f.extensionType, f.msgType, f.payload.length), f.payload]);
}

/** Splits a logged plaintext frame back into its header fields and payload. */
export function parsePlainFrame(bytes: Uint8Array): Frame {
  const b = Buffer.from(bytes);
  return { extensionType: b.readUInt16LE(0), msgType: b[2]!, payload: b.subarray(6, 6 + b.readUIntLE(3, 3)) };
}

/**
 * One direction's recorded stream after the handshake, cut into its encrypted frames (the sizes
 * follow from the logged plaintext: a 22-byte header block, then the payload and its MAC).
 */
export function encryptedFrames(f: Sv2Fixture, dir: Direction): Buffer[] {
  const wire = hex(f.wire[dir]).subarray(dir === 'c2s' ? 64 : 234);
  const out: Buffer[] = [];
  let at = 0;
  for (const x of f.frames) {
    if (x.dir !== dir) continue;
    const len = hex(x.hex).length - 6;
    const size = 22 + (len > 0 ? len + 16 : 0);
    out.push(wire.subarray(at, at + size));
    at += size;
  }
  if (at !== wire.length) throw new Error(`${dir}: the recorded stream is not whole frames (${at} of ${wire.length} bytes)`);
  return out;
}

/** A share rebuilt from the messages around it. */
export interface ReplayedShare {
  readonly share: SubmitSharesStandard | SubmitSharesExtended;
  readonly header: Uint8Array;
  readonly hash: Uint8Array;
  /** The targets (little-endian U256) the channel had when the share's job was sent and since. */
  readonly targets: readonly Uint8Array[];
}

interface JobState {
  readonly job: NewMiningJob | NewExtendedMiningJob;
  prevHash?: Uint8Array;
  nbits?: number;
  /** Index into `targets` of the target in force when the job arrived. */
  readonly targetIndex: number;
}

/**
 * Follows one channel's messages in recorded order the way a miner does (sv2-spec §5.3.15–§5.3.16):
 * a job with min_ntime takes the current prev hash; a future job waits for the SetNewPrevHash
 * naming it, and the first SetNewPrevHash also activates every future job before it (ESP-Miner's
 * rule). Returns each submitted share with the header it stands for.
 */
export function replayShares(messages: readonly { dir: Direction; message: Sv2Message }[]): ReplayedShare[] {
  const jobs = new Map<number, JobState>();
  const targets: Uint8Array[] = [];
  let extranoncePrefix: Uint8Array = new Uint8Array(0);
  let current: { prevHash: Uint8Array; nbits: number } | undefined;
  const out: ReplayedShare[] = [];
  for (const { message: m } of messages) {
    switch (m.type) {
      case MessageType.OpenStandardMiningChannelSuccess:
      case MessageType.OpenExtendedMiningChannelSuccess:
        targets.push(m.target);
        extranoncePrefix = m.extranoncePrefix;
        break;
      case MessageType.SetTarget:
        targets.push(m.maximumTarget);
        break;
      case MessageType.NewMiningJob:
      case MessageType.NewExtendedMiningJob: {
        const state: JobState = { job: m, targetIndex: targets.length - 1 };
        if (m.minNtime !== undefined && current) Object.assign(state, current);
        jobs.set(m.jobId, state);
        break;
      }
      case MessageType.SetNewPrevHash: {
        const first = current === undefined;
        current = { prevHash: m.prevHash, nbits: m.nbits };
        for (const [id, state] of jobs) {
          if (id === m.jobId || (first && state.prevHash === undefined)) Object.assign(state, current);
        }
        break;
      }
      case MessageType.SubmitSharesStandard:
      case MessageType.SubmitSharesExtended: {
        const state = jobs.get(m.jobId);
        if (!state?.prevHash || state.nbits === undefined) throw new Error(`share ${m.sequenceNumber}: job ${m.jobId} was never active`);
        const job = state.job;
        let merkleRoot: Uint8Array;
        if (job.type === MessageType.NewMiningJob) {
          merkleRoot = job.merkleRoot;
        } else {
          if (m.type !== MessageType.SubmitSharesExtended) throw new Error(`share ${m.sequenceNumber}: a standard share for an extended job`);
          const coinbase = concatBytes(job.coinbaseTxPrefix, extranoncePrefix, m.extranonce, job.coinbaseTxSuffix);
          merkleRoot = rootFromBranch(sha256d(coinbase), job.merklePath);
        }
        const header = serializeHeader({ version: m.version, prevHash: state.prevHash, merkleRoot, time: m.ntime, bits: state.nbits, nonce: m.nonce });
        out.push({ share: m, header, hash: sha256d(header), targets: targets.slice(state.targetIndex) });
        break;
      }
      default:
        break;
    }
  }
  return out;
}
