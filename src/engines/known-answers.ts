// Known answers (docs/architecture.md): real mainnet headers whose nonces and
// hashes are published. The same data as test/fixtures/headers/known-blocks.json, kept here so
// that shipped code (`mine --smoke-test`) can prove every engine and back end on this machine.
import { hexToBytes, reverseBytes } from '../bitcoin/bytes.js';
import { serializeHeader } from '../bitcoin/header.js';
import { bitsFromHex, bitsToTarget, targetToBytes } from '../bitcoin/target.js';
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
];

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
 * and checks that exactly the published nonce and hash come back. Resolves to the names of the
 * headers checked; rejects with one line naming the header and what came back instead.
 */
export async function checkKnownAnswers(engine: Engine, window = 20_003): Promise<string[]> {
  const names: string[] = [];
  for (const k of KNOWN_ANSWERS) {
    const half = Math.floor(window / 2);
    const result = await scanRange(engine, {
      id: `known-answer ${k.name}`,
      header: knownAnswerHeader(k),
      target: targetToBytes(bitsToTarget(bitsFromHex(k.bits))),
      start: k.nonce - half,
      count: window,
    });
    const got = result.found.map((f) => `${f.nonce}:${f.hash}`);
    if (result.hashes !== window || got.length !== 1 || got[0] !== `${k.nonce}:${k.hash}`) {
      const what = got.length === 0 ? 'nothing' : got.map((g) => g.split(':')[0]).join(', ');
      throw new Error(`${k.name}: expected nonce ${k.nonce} (hash ${k.hash.slice(0, 16)}…), got ${what} after ${result.hashes} of ${window} nonces`);
    }
    names.push(k.name);
  }
  return names;
}
