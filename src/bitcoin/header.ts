/**
 * The 80-byte block header (Bitcoin Core primitives/block.h `CBlockHeader`):
 *
 *     nVersion(4 LE) ‖ hashPrevBlock(32) ‖ hashMerkleRoot(32) ‖ nTime(4 LE) ‖ nBits(4 LE) ‖ nNonce(4 LE)
 *
 * Hashes are in internal byte order (as serialized); the block hash is SHA-256d of the header,
 * shown reversed (display order).
 * @module
 */
import { assertBytes, assertInt, bytesToHex, concatBytes, readU32LE, reverseBytes, u32LE } from './bytes.js';
import { sha256d } from './hash.js';

/** Size of a serialized header. */
export const HEADER_SIZE = 80;
/** Byte offset of nTime in the header. */
export const HEADER_TIME_OFFSET = 68;
/** Byte offset of nBits in the header. */
export const HEADER_BITS_OFFSET = 72;
/** Byte offset of nNonce in the header (the last 4 bytes). */
export const HEADER_NONCE_OFFSET = 76;

/**
 * BIP320: version bits 13–28 (mask 0x1fffe000) are free for general-purpose use by miners
 * ("version rolling"), leaving the top 3 bits (BIP9's 001) and bits 0–12 for signalling.
 */
export const BIP320_VERSION_MASK = 0x1fffe000;

/** Header fields. */
export interface HeaderFields {
  /** nVersion; −2^31..2^32−1 accepted, serialized as its 32-bit two's complement. Parsed back unsigned. */
  version: number;
  /** Hash of the previous block, internal byte order (32 bytes). */
  prevHash: Uint8Array;
  /** Merkle root, internal byte order (32 bytes). */
  merkleRoot: Uint8Array;
  /** nTime, seconds since the Unix epoch, 0..2^32−1. */
  time: number;
  /** Compact target nBits, 0..2^32−1. */
  bits: number;
  /** nNonce, 0..2^32−1. */
  nonce: number;
}

/** Serializes header fields to the 80 bytes that are hashed. */
export function serializeHeader(h: HeaderFields): Uint8Array {
  assertInt(h.version, -0x80000000, 0xffffffff, 'header/version', '-2^31..2^32-1');
  assertBytes(h.prevHash, 'header/prevHash', 32);
  assertBytes(h.merkleRoot, 'header/merkleRoot', 32);
  return concatBytes(
    u32LE(h.version >>> 0, 'header/version'),
    h.prevHash,
    h.merkleRoot,
    u32LE(h.time, 'header/time'),
    u32LE(h.bits, 'header/bits'),
    u32LE(h.nonce, 'header/nonce'),
  );
}

/** Parses 80 header bytes; `version` comes back as an unsigned 32-bit number. */
export function parseHeader(header: Uint8Array): HeaderFields {
  assertBytes(header, 'header', HEADER_SIZE);
  return {
    version: readU32LE(header, 0),
    prevHash: header.slice(4, 36),
    merkleRoot: header.slice(36, 68),
    time: readU32LE(header, HEADER_TIME_OFFSET),
    bits: readU32LE(header, HEADER_BITS_OFFSET),
    nonce: readU32LE(header, HEADER_NONCE_OFFSET),
  };
}

/** SHA-256d of an 80-byte header, internal byte order (what is compared with the target). */
export function headerHash(header: Uint8Array): Uint8Array {
  assertBytes(header, 'header', HEADER_SIZE);
  return sha256d(header);
}

/** The block hash in display order hex, as RPC and explorers show it. */
export function blockHash(header: Uint8Array): string {
  return bytesToHex(reverseBytes(headerHash(header)));
}

/** A copy of `header` with nNonce replaced. */
export function withNonce(header: Uint8Array, nonce: number): Uint8Array {
  assertBytes(header, 'header', HEADER_SIZE);
  const out = Uint8Array.from(header);
  out.set(u32LE(nonce, 'header/nonce'), HEADER_NONCE_OFFSET);
  return out;
}

/** A copy of `header` with nVersion replaced (a rolled version, BIP320). */
export function withVersion(header: Uint8Array, version: number): Uint8Array {
  assertBytes(header, 'header', HEADER_SIZE);
  const out = Uint8Array.from(header);
  out.set(u32LE(version >>> 0, 'header/version'), 0);
  return out;
}

/**
 * BIP320 version rolling: `(base & ~mask) | (rolled & mask)` with mask 0x1fffe000, as an
 * unsigned 32-bit number. `rolled` supplies only the general-purpose bits.
 */
export function rollVersion(baseVersion: number, rolled: number, mask: number = BIP320_VERSION_MASK): number {
  assertInt(baseVersion, -0x80000000, 0xffffffff, 'version', '-2^31..2^32-1');
  assertInt(rolled, 0, 0xffffffff, 'version/rolled', '0..2^32-1');
  assertInt(mask, 0, 0xffffffff, 'version/mask', '0..2^32-1');
  return ((baseVersion & ~mask) | (rolled & mask)) >>> 0;
}
