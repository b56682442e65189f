// Checks that every engine's tests share (test/engines/cpu-*, gpu-*): random agreement cases
// against node:crypto, the known-answer window around a published nonce, and stop() during
// a scan of the whole nonce space. What differs between engines (how many threads or which
// adapter, how long a case is) stays in the engine's own test file.
import assert from 'node:assert/strict';

import type { Engine } from '../../src/engines/engine.js';
import { knownAnswerVersions } from '../../src/engines/known-answers.js';
import { scanRange, type ScanResult } from '../../src/engines/scan-range.js';
import { bitsTarget, headerHashHex, knownHeader, seededBytes, type KnownBlock } from './reference.js';

/** Why a GPU test fails on a machine without an adapter (no adapter is a failure, not a skip). */
export const GPU_PROVISION_HINT =
  'no WebGPU adapter: on a machine without a GPU provision lavapipe (bash scripts/provision-vulkan.sh) and start the tests ' +
  'with its environment (. .cache/vulkan/env.sh sets VK_ICD_FILENAMES and LD_LIBRARY_PATH)';

export function targetBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** The number one less than `hex` (a 256-bit display-order value), as 64 hex digits. */
export function minusOne(hex: string): string {
  return (BigInt(`0x${hex}`) - 1n).toString(16).padStart(64, '0');
}

/** One random header and range with a target chosen from the range's own hashes. */
export interface AgreementCase {
  readonly header: Uint8Array;
  readonly start: number;
  readonly count: number;
  /** 64 hex digits, display order. */
  readonly target: string;
  /** Every nonce of the range at or below the target (node:crypto), in order. */
  readonly expected: number[];
}

/**
 * Case `i` with `count` nonces: every fifth range ends at 0xffffffff, and the target admits
 * none (i % 4 = 0: just below the smallest hash, usually with the same top word, so only a
 * full compare rejects it), exactly one (1: equal to the smallest hash; equality counts),
 * several (2) or all (3) of the nonces.
 */
export function agreementCase(i: number, count: number): AgreementCase {
  const header = seededBytes(i + 1, 80);
  const random = Buffer.from(seededBytes(i + 100_000, 4)).readUInt32LE(0);
  const start = i % 5 === 0 ? 2 ** 32 - count : random % (2 ** 32 - count);
  const hashes = Array.from({ length: count }, (_, k) => ({ nonce: start + k, hash: headerHashHex(header, start + k) }));
  const sorted = [...hashes].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  const target = [minusOne(sorted[0]!.hash), sorted[0]!.hash, sorted[1 + (i % 7)]!.hash, 'f'.repeat(64)][i % 4]!;
  const expected = hashes.filter((h) => h.hash <= target).map((h) => h.nonce);
  return { header, start, count, target, expected };
}

/** The cases include targets admitting none, one, several and all nonces, and a range ending at 0xffffffff. */
export function assertCasesCoverEveryKind(cases: readonly AgreementCase[], allOfMoreThan = 0): void {
  assert.ok(cases.some((c) => c.expected.length === 0));
  assert.ok(cases.some((c) => c.expected.length === 1));
  assert.ok(cases.some((c) => c.expected.length > 2 && c.expected.length < c.count));
  assert.ok(cases.some((c) => c.expected.length === c.count && c.count > allOfMoreThan));
  assert.ok(cases.some((c) => c.start + c.count === 2 ** 32));
}

/** Scans case `i` on `engine` and checks the whole set found (nonces and hashes) against node:crypto. */
export async function assertCaseAgrees(engine: Engine, c: AgreementCase, i: number): Promise<ScanResult> {
  const result = await scanRange(engine, { id: `case-${i}`, header: c.header, target: targetBytes(c.target), start: c.start, count: c.count });
  const label = `case ${i}: start ${c.start} count ${c.count} target ${c.target} (${engine.kind} ${engine.backend} x${engine.threads})`;
  assert.equal(result.hashes, c.count, `${label}: hash count`);
  assert.deepEqual(
    result.found.map((f) => f.nonce),
    c.expected,
    label,
  );
  for (const f of result.found) assert.equal(f.hash, headerHashHex(c.header, f.nonce), `${label}: hash of ${f.nonce}`);
  return result;
}

/** One random header, range and set of versions (version rolling) with a target chosen from their own hashes. */
export interface RolledCase {
  readonly header: Uint8Array;
  readonly versions: number[];
  readonly start: number;
  readonly count: number;
  readonly target: string;
  /** Every (nonce, version) at or below the target (node:crypto), by nonce then by the order of `versions`. */
  readonly expected: [number, number][];
}

/**
 * Case `i`: a random header hashed with 2..16 random distinct versions (random bits of BIP320's
 * mask over a random base), `count` nonces; targets as in agreementCase (none, one, several,
 * all), every fifth range ending at 0xffffffff.
 */
export function rolledAgreementCase(i: number, count: number): RolledCase {
  const header = seededBytes(i + 500_000, 80);
  const words = Buffer.from(seededBytes(i + 600_000, 4 * 64));
  const k = 2 + (words.readUInt32LE(0) % 15);
  const base = words.readUInt32LE(4);
  const set = new Set<number>();
  for (let j = 3; set.size < k && j < 64; j++) set.add(((base & ~0x1fffe000) | (words.readUInt32LE(4 * j) & 0x1fffe000)) >>> 0);
  const versions = [...set];
  const start = i % 5 === 0 ? 2 ** 32 - count : words.readUInt32LE(8) % (2 ** 32 - count);
  const hashes: { nonce: number; version: number; hash: string }[] = [];
  for (let n = start; n < start + count; n++) {
    for (const version of versions) hashes.push({ nonce: n, version, hash: headerHashHex(withVersion(header, version), n) });
  }
  const sorted = [...hashes].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  const target = [minusOne(sorted[0]!.hash), sorted[0]!.hash, sorted[1 + (i % 7)]!.hash, 'f'.repeat(64)][i % 4]!;
  const expected = hashes.filter((h) => h.hash <= target).map((h): [number, number] => [h.nonce, h.version]);
  return { header, versions, start, count, target, expected };
}

/** `header` with its version field set. */
export function withVersion(header: Uint8Array, version: number): Uint8Array {
  const h = Buffer.from(header);
  h.writeUInt32LE(version >>> 0, 0);
  return new Uint8Array(h);
}

/** Scans a rolled case on `engine` and checks every (nonce, version) found, and each hash, against node:crypto. */
export async function assertRolledCaseAgrees(engine: Engine, c: RolledCase, i: number): Promise<void> {
  const result = await scanRange(engine, { id: `rolled-${i}`, header: c.header, versions: c.versions, target: targetBytes(c.target), start: c.start, count: c.count });
  const label = `rolled case ${i}: ${c.versions.length} versions, start ${c.start} count ${c.count} target ${c.target} (${engine.kind} ${engine.backend} x${engine.threads})`;
  assert.equal(result.hashes, c.count * c.versions.length, `${label}: hash count`);
  assert.deepEqual(
    result.found.map((f) => [f.nonce, f.version]),
    c.expected,
    label,
  );
  for (const f of result.found) assert.equal(f.hash, headerHashHex(withVersion(c.header, f.version), f.nonce), `${label}: hash of ${f.nonce}/${f.version.toString(16)}`);
}

/**
 * A block mined with rolled version bits, scanned from its header (140 003 nonces around its
 * nonce) first with the version un-rolled alone — nothing — then with `k` versions rolled from
 * it, the real one last: exactly its nonce, version and hash.
 */
export async function assertRolledKnownAnswer(engine: Engine, block: KnownBlock, k: number): Promise<void> {
  const window = { target: bitsTarget(block.bits), start: block.nonce - 70_001, count: 140_003 };
  const header = knownHeader(block);
  const unrolled = await scanRange(engine, { id: `${block.name} un-rolled`, header, versions: [block.unrolledVersion!], ...window });
  assert.equal(unrolled.hashes, 140_003);
  assert.deepEqual(unrolled.found, [], 'the un-rolled header meets no target');
  const versions = knownAnswerVersions(block, k);
  const rolled = await scanRange(engine, { id: `${block.name} rolled`, header, versions, ...window });
  assert.equal(rolled.hashes, 140_003 * k);
  assert.equal(rolled.stopped, false);
  assert.deepEqual(
    rolled.found.map((f) => [f.nonce, f.version, f.hash]),
    [[block.nonce, block.version, block.hash]],
  );
}

/** A window of 140 003 nonces around the block's published nonce (aligned to no lane count): exactly that nonce and hash. */
export async function assertKnownAnswer(engine: Engine, block: KnownBlock): Promise<void> {
  const result = await scanRange(engine, {
    id: block.name,
    header: knownHeader(block),
    target: bitsTarget(block.bits),
    start: block.nonce - 70_001,
    count: 140_003,
  });
  assert.equal(result.hashes, 140_003);
  assert.equal(result.stopped, false);
  assert.deepEqual(
    result.found.map((f) => [f.nonce, f.hash]),
    [[block.nonce, block.hash]],
  );
}

/** About one nonce in 256 qualifies, so the nonces found show which part of a range was covered. */
export const ONE_IN_256_HEX = `00${'f'.repeat(62)}`;
/**
 * About one nonce in 65,536: for an engine whose dispatches can grow past what its result list
 * holds at one in 256 (the GPU's pacer sizes dispatches by measured speed; an overflowed
 * dispatch is rescanned in pieces, so a stop then covers more than a prefix).
 */
export const ONE_IN_65536_HEX = `0000${'f'.repeat(60)}`;

/**
 * Starts a scan of all 2^32 nonces, lets it run `runMs`, stops it and checks: done says
 * stopped, the hash events add up to its count, the nonces found lie in the covered prefix (the
 * engine covers its range in order and finishes each piece it started) at about the expected
 * density, and stop() returned within a generous bound that only a hang or a scan running on
 * would break (the real latency is reported by npm run bench). `whileRunning` adds checks on
 * the busy engine. Resolves to the header and target used, for a follow-up scan.
 */
export async function assertStopsWholeRange(
  engine: Engine,
  runMs: number,
  whileRunning?: (header: Uint8Array, target: Uint8Array) => void,
  targetHex = ONE_IN_256_HEX,
): Promise<{ header: Uint8Array; target: Uint8Array }> {
  const header = seededBytes(4242, 80);
  const target = targetBytes(targetHex);
  let progress = 0;
  const onHashes = (r: { hashes: number }) => {
    progress += r.hashes;
  };
  engine.on('hashes', onHashes);
  try {
    const running = scanRange(engine, { id: 'full', header, target, start: 0, count: 2 ** 32 });
    whileRunning?.(header, target);
    await new Promise((resolve) => setTimeout(resolve, runMs));
    const asked = performance.now();
    await engine.stop();
    const stopLatencyMs = performance.now() - asked;
    const result = await running;

    assert.equal(result.stopped, true);
    assert.ok(result.hashes > 0 && result.hashes < 2 ** 32, `hashes ${result.hashes}`);
    assert.equal(progress, result.hashes, 'hash events add up to the final count');
    for (const f of result.found) assert.ok(f.nonce < result.hashes, `nonce ${f.nonce} beyond ${result.hashes}`);
    const expected = (result.hashes * Number(BigInt(`0x${targetHex}`) + 1n)) / 2 ** 256;
    assert.ok(
      result.found.length > expected * 0.5 && result.found.length < expected * 1.5 + 20,
      `${result.found.length} found over ${result.hashes} hashes`,
    );
    for (const f of result.found.slice(0, 50)) assert.equal(f.hash, headerHashHex(header, f.nonce));
    assert.ok(stopLatencyMs < 2000, `stop took ${stopLatencyMs.toFixed(1)} ms`);
    assert.equal(engine.busy, false);
  } finally {
    engine.off('hashes', onHashes);
  }
  return { header, target };
}
