/**
 * Stratum V1 as real firmware speaks it (ESP-Miner, cgminer/bmminer, cpuminer): newline-framed
 * JSON-RPC 1.0 over TCP, the error codes everyone uses, and the byte orders of `mining.notify`.
 * Pure functions over bytes and jobs; the server (server.ts) and connections (connection.ts)
 * do the I/O.
 *
 * Byte orders (docs/stratum.md):
 * - prevhash: the header's 32 bytes (internal order) with each 4-byte word byte-swapped;
 * - coinb1/coinb2: the non-witness coinbase before and after extranonce1 ‖ extranonce2;
 * - merkle branch: hashes in internal order, folded as SHA-256d(root ‖ branch[i]);
 * - version, nbits, ntime: exactly 8 hex digits, big-endian (the number as written);
 * - submit's ntime and nonce: 8 hex digits big-endian; version bits (BIP310) likewise.
 * @module
 */
import { bytesToHex } from '../../bitcoin/bytes.js';
import type { Job } from '../../work/job.js';
import { SERVER_VERSION_MASK, type RejectKind } from '../share.js';

/** Error codes of `[code, message, null]` errors (the de facto set of every pool). */
export const StratumErrorCode = {
  OTHER: 20,
  JOB_NOT_FOUND: 21,
  DUPLICATE_SHARE: 22,
  LOW_DIFFICULTY: 23,
  UNAUTHORIZED: 24,
  NOT_SUBSCRIBED: 25,
} as const;
export type StratumErrorCode = (typeof StratumErrorCode)[keyof typeof StratumErrorCode];

/** What a rejected share is counted as (metrics, reports), by error code. */
export const REJECT_REASON: Readonly<Record<StratumErrorCode, string>> = {
  20: 'other',
  21: 'stale',
  22: 'duplicate',
  23: 'low-difficulty',
  24: 'unauthorized',
  25: 'not-subscribed',
};

/** The error code of each way a share or request is refused (the pool's protocol-free kinds). */
export const ERROR_CODE: Readonly<Record<RejectKind, StratumErrorCode>> = {
  invalid: 20,
  'invalid-channel': 20,
  'unknown-job': 21,
  stale: 21,
  duplicate: 22,
  'low-difficulty': 23,
  unauthorized: 24,
  'not-subscribed': 25,
};

/** BIP310: the version bits a miner may roll, as every pool offers them (BIP320's range). */
export { SERVER_VERSION_MASK };

/** A line longer than this is not Stratum: the connection is closed. */
export const MAX_LINE_BYTES = 16 * 1024;

export type StratumId = number | string | null;

export interface StratumRequest {
  readonly id: StratumId;
  readonly method: string;
  readonly params: readonly unknown[];
}

/** A message that could not be read as a request: why, and its id when one was readable. */
export interface StratumParseFailure {
  readonly error: string;
  readonly id: StratumId;
}

/** One line of JSON → a request, or why not (never throws). */
export function parseRequest(line: string): StratumRequest | StratumParseFailure {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { error: 'invalid JSON', id: null };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'expected a JSON object', id: null };
  const o = value as Record<string, unknown>;
  const id = typeof o.id === 'number' || typeof o.id === 'string' ? o.id : null;
  if (typeof o.method !== 'string' || o.method === '') return { error: 'expected "method": a string', id };
  // Some firmware sends no params for parameterless calls, or null.
  const params = o.params === undefined || o.params === null ? [] : o.params;
  if (!Array.isArray(params)) return { error: `${o.method}: expected "params": an array`, id };
  return { id, method: o.method, params };
}

export function resultLine(id: StratumId, result: unknown): string {
  return `${JSON.stringify({ id, result, error: null })}\n`;
}

export function errorLine(id: StratumId, code: StratumErrorCode, message: string): string {
  return `${JSON.stringify({ id, result: null, error: [code, message, null] })}\n`;
}

export function notificationLine(method: string, params: readonly unknown[]): string {
  return `${JSON.stringify({ id: null, method, params })}\n`;
}

/** A 32-bit number as exactly 8 hex digits, big-endian. */
export function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/** Exactly 8 hex digits → the number, else undefined. */
export function parseHex32(text: unknown): number | undefined {
  if (typeof text !== 'string' || !/^[0-9a-fA-F]{8}$/.test(text)) return undefined;
  return Number.parseInt(text, 16) >>> 0;
}

/** Each 4-byte word of 32 bytes byte-swapped (its own inverse). */
export function swapWords(bytes: Uint8Array): Buffer {
  const out = Buffer.from(bytes);
  out.swap32();
  return out;
}

/** The header's previous-block hash (internal order) with each 4-byte word byte-swapped. */
export function stratumPrevHash(prevHashInternal: Uint8Array): string {
  return swapWords(prevHashInternal).toString('hex');
}

/** `mining.notify` params: [job_id, prevhash, coinb1, coinb2, branch, version, nbits, ntime, clean]. */
export function notifyParams(stratumJobId: string, job: Job, ntime: number, cleanJobs: boolean): unknown[] {
  return [
    stratumJobId,
    stratumPrevHash(job.prevHash),
    bytesToHex(job.coinbase.coinb1),
    bytesToHex(job.coinbase.coinb2),
    job.merkleBranch.map((h) => bytesToHex(h)),
    hex32(job.version),
    hex32(job.bits),
    hex32(ntime),
    cleanJobs,
  ];
}

/**
 * A difficulty from a client: ESP-Miner sends `mining.suggest_difficulty` as an integer,
 * cpuminer-opt as a numeric string. Undefined unless a finite number > 0.
 */
export function parseDifficulty(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** Splits a byte stream into lines; a line over the limit is reported instead of buffered. */
export class LineSplitter {
  private partial = '';

  constructor(private readonly maxBytes = MAX_LINE_BYTES) {}

  /** The complete lines in `chunk` (without '\n'), or 'too-long' when a line exceeds the limit. */
  push(chunk: string): string[] | 'too-long' {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length > this.maxBytes) return 'too-long';
    for (const line of lines) if (line.length > this.maxBytes) return 'too-long';
    return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)).filter((l) => l.trim() !== '');
  }
}
