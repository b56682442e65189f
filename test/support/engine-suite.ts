// Checks that every engine's tests share (test/engines/cpu-*, gpu-*): random agreement cases
// against node:crypto, the known-answer window around a published nonce, and stop() during
// a scan of the whole nonce space. What differs between engines (how many threads or which
// adapter, how long a case is) stays in the engine's own test file.
import assert from 'node:assert/strict';

import type { Engine } from '../../src/engines/engine.js';
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
): Promise<{ header: Uint8Array; target: Uint8Array }> {
  const header = seededBytes(4242, 80);
  const target = targetBytes(ONE_IN_256_HEX);
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
    const expected = result.hashes / 256;
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
