// Known answers (docs/architecture.md): real mainnet headers whose nonces and
// hashes are published. The same data as test/fixtures/headers/known-blocks.json, kept here so
// that shipped code (`mine --smoke-test`) can prove every engine and back end on this machine.
// Block 785530 was mined with rolled version bits (version 3fffe000: all of BIP320's bits
// set): scanned among versions rolled from its un-rolled 20000000, it proves that an engine
// hashes each version of a scan with the right midstate and reports the right one.
import { hexToBytes, reverseBytes } from '../bitcoin/bytes.js';
import { BIP320_VERSION_MASK, serializeHeader } from '../bitcoin/header.js';
import { bitsFromHex, bitsToTarget, targetToBytes } from '../bitcoin/target.js';
import { rolledVersions } from '../bitcoin/version-rolling.js';
import type { Engine } from './engine.js';
import { scanRange } from './scan-range.js';

export interface KnownAnswer {
  readonly name: string;
  readonly version: number;
  /** Display hex. */
  readonly previousblockhash: string;
  /** Display hex. */
  readonly merkleroot: string;
  readonly time: number;
  readonly bits: string;
  readonly nonce: number;
  /** Display hex of the block hash. */
  readonly hash: string;
  /** A block mined with rolled BIP320 bits: its version with those bits cleared. */
  readonly unrolledVersion?: number;
}

export const KNOWN_ANSWERS: readonly KnownAnswer[] = [
  {
    name: 'genesis',
    version: 1,
    previousblockhash: '0000000000000000000000000000000000000000000000000000000000000000',
    merkleroot: '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b',
    time: 1231006505,
    bits: '1d00ffff',
    nonce: 2083236893,
    hash: '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
  },
  {
    name: 'block 125552',
    version: 1,
    previousblockhash: '00000000000008a3a41b85b8b29ad444def299fee21793cd8b9e567eab02cd81',
    merkleroot: '2b12fcf1b09288fcaff797d71e950e71ae42b91e8bdb2304758dfcffc2b620e3',
    time: 1305998791,
    bits: '1a44b9f2',
    nonce: 2504433986,
    hash: '00000000000000001e8d6829a8a21adc5d38d0a473b144b6765798e61f98bd1d',
  },
  {
    name: 'block 785530',
    version: 0x3fffe000,
    previousblockhash: '00000000000000000001d5521794ee7c51e45292c1ed187e43dc47920d3bfe5f',
    merkleroot: 'c0971e71060d7a8d34c4c9d09392781c606304a7fb282fcb2a6e82103ade6b20',
    time: 1681568188,
    bits: '1705e0b2',
    nonce: 1083895875,
    hash: '000000000000000000039a294df2039d5fc759f5fd4dde06f09a17efc29a01e4',
    unrolledVersion: 0x20000000,
  },
];

/**
 * The versions to scan a rolled known answer with: `count` - 1 versions rolled from its
 * un-rolled version (index 0 is the un-rolled version itself), then its real version last.
 * None of the others can meet its target (a chance of about 2^-70 each), so exactly the real
 * (version, nonce) must come back. count >= 2.
 */
export function knownAnswerVersions(k: KnownAnswer, count: number): number[] {
  if (k.unrolledVersion === undefined) throw new RangeError(`${k.name}: not a block with rolled version bits`);
  return [...rolledVersions(k.unrolledVersion, BIP320_VERSION_MASK, count - 1), k.version >>> 0];
}

/** The 80-byte header with nonce 0: the engine has to find the nonce itself. */
export function knownAnswerHeader(k: KnownAnswer): Uint8Array {
  return serializeHeader({
    version: k.version,
    prevHash: reverseBytes(hexToBytes(k.previousblockhash)),
    merkleRoot: reverseBytes(hexToBytes(k.merkleroot)),
    time: k.time,
    bits: bitsFromHex(k.bits),
    nonce: 0,
  });
}

/**
 * Scans a window of `window` nonces around each known nonce (not aligned to any lane count)
 * and checks that exactly the published nonce and hash come back. A block mined with rolled
 * version bits is scanned with the engine's number of versions per scan (at least 2; see
 * knownAnswerVersions), and must come back with its real version. Resolves to the names of the
 * headers checked; rejects with one line naming the header and what came back instead.
 */
export async function checkKnownAnswers(engine: Engine, window = 20_003): Promise<string[]> {
  const names: string[] = [];
  for (const k of KNOWN_ANSWERS) {
    const half = Math.floor(window / 2);
    const versions = k.unrolledVersion === undefined ? undefined : knownAnswerVersions(k, Math.max(2, engine.versionsPerScan));
    const result = await scanRange(engine, {
      id: `known-answer ${k.name}`,
      header: knownAnswerHeader(k),
      target: targetToBytes(bitsToTarget(bitsFromHex(k.bits))),
      start: k.nonce - half,
      count: window,
      ...(versions && { versions }),
    });
    const hashes = window * (versions?.length ?? 1);
    const got = result.found.map((f) => `${f.nonce}:${f.version.toString(16)}:${f.hash}`);
    const want = `${k.nonce}:${k.version.toString(16)}:${k.hash}`;
    if (result.hashes !== hashes || got.length !== 1 || got[0] !== want) {
      const what = got.length === 0 ? 'nothing' : got.map((g) => g.split(':').slice(0, 2).join(' version ')).join(', ');
      throw new Error(
        `${k.name}: expected nonce ${k.nonce} version ${k.version.toString(16)} (hash ${k.hash.slice(0, 16)}…), got ${what} after ${result.hashes} of ${hashes} hashes`,
      );
    }
    names.push(k.name);
  }
  return names;
}
