/**
 * The coinbase transaction, in the shape Stratum distributes it.
 *
 * Non-witness serialization (the txid's preimage):
 *
 *     coinb1 = nVersion(2) ‖ 0x01 (one input) ‖ prevout (32 zero bytes ‖ 0xffffffff)
 *              ‖ scriptSig length ‖ BIP34 height push ‖ [tag push] ‖ extranonce push opcode
 *     extranonce (extranonceSize bytes, chosen by the miner per job)
 *     coinb2 = nSequence 0xffffffff ‖ output count ‖ payout output ‖ [witness commitment output]
 *              ‖ nLockTime 0
 *
 * so `coinb1 ‖ extranonce ‖ coinb2` is the transaction. The scriptSig therefore starts with
 * exactly the bytes `CScript() << height` (BIP34, checked by prefix in Bitcoin Core's
 * `ContextualCheckBlock`, "bad-cb-height") and has 2..100 bytes (`CheckTransaction`,
 * "bad-cb-length"). The extranonce is pushed as data, so that any extranonce bytes give a
 * well-formed script.
 * @module
 */
import { assertBytes, assertInt, compactSize, concatBytes, describe, u32LE, u64LE } from './bytes.js';
import { CoinbaseError, LengthError, OutOfRangeError } from './errors.js';
import { sha256d } from './hash.js';
import { merkleRoot } from './merkle.js';
import { OP_RETURN, pushData, pushInt, pushOpcode } from './script.js';

/** Transaction version of the coinbase (Bitcoin Core's `CTransaction::CURRENT_VERSION`). */
export const COINBASE_TX_VERSION = 2;
/** Smallest coinbase scriptSig allowed by consensus (bad-cb-length). */
export const COINBASE_SCRIPTSIG_MIN = 2;
/** Largest coinbase scriptSig allowed by consensus (bad-cb-length). */
export const COINBASE_SCRIPTSIG_MAX = 100;
/** Highest BIP34 height: `nHeight` is a signed 32-bit int. */
export const MAX_HEIGHT = 0x7fffffff;
/** 21 million BTC in satoshis (consensus/amount.h `MAX_MONEY`). */
export const MAX_MONEY = 2_100_000_000_000_000n;
/** BIP141 witness reserved value used by this miner: 32 zero bytes. */
export const WITNESS_RESERVED_VALUE: Uint8Array = new Uint8Array(32);
/** BIP141 commitment header: the 4 bytes after OP_RETURN 0x24. */
export const WITNESS_COMMITMENT_HEADER: Uint8Array = Uint8Array.of(0xaa, 0x21, 0xa9, 0xed);

/** Inputs of `buildCoinbase`. */
export interface CoinbaseOptions {
  /** Height of the block being mined (BIP34), 0..2^31−1. */
  height: number;
  /** Bytes reserved for the extranonce (Stratum extranonce1 + extranonce2), 0..(what fits in 100). */
  extranonceSize: number;
  /** Optional miner tag (UTF-8 text or bytes), pushed after the height; empty means none. */
  tag?: string | Uint8Array;
  /** scriptPubKey of the payout output (e.g. from `addressToScript`). */
  payoutScript: Uint8Array;
  /** Value of the payout output in satoshis (`coinbasevalue` of getblocktemplate), 0..MAX_MONEY. */
  value: bigint | number;
  /** BIP141 commitment hash (32 bytes, from `witnessCommitment`); omit for a block without one. */
  witnessCommitment?: Uint8Array;
}

/** A coinbase split around its extranonce. */
export interface CoinbaseParts {
  /** Serialization bytes before the extranonce. */
  coinb1: Uint8Array;
  /** Serialization bytes after the extranonce. */
  coinb2: Uint8Array;
  /** Number of extranonce bytes between coinb1 and coinb2. */
  extranonceSize: number;
  /** Total scriptSig size in bytes, 2..100. */
  scriptSigSize: number;
  /** Whether coinb2 carries a witness commitment output (then the block needs the witness serialization). */
  hasWitnessCommitment: boolean;
}

/** BIP34 height push: exactly the bytes of Bitcoin Core's `CScript() << nHeight`. */
export function bip34HeightPush(height: number): Uint8Array {
  assertInt(height, 0, MAX_HEIGHT, 'coinbase/height', '0..2^31-1');
  return pushInt(height, 'coinbase/height');
}

/**
 * The witness commitment output's scriptPubKey (BIP141 §Commitment structure):
 * `OP_RETURN 0x24 0xaa21a9ed ‖ commitment` (38 bytes).
 */
export function witnessCommitmentScript(commitment: Uint8Array): Uint8Array {
  assertBytes(commitment, 'coinbase/witnessCommitment', 32);
  return concatBytes(Uint8Array.of(OP_RETURN, 0x24), WITNESS_COMMITMENT_HEADER, commitment);
}

function txOut(value: bigint | number, script: Uint8Array, where: string): Uint8Array {
  return concatBytes(u64LE(value, `${where}/value`), compactSize(script.length), script);
}

/**
 * Builds the coinbase and splits it around the extranonce (see the module comment for the layout).
 * @throws OutOfRangeError / LengthError for a malformed field,
 *   CoinbaseError when the scriptSig would exceed 100 bytes
 */
export function buildCoinbase(opts: CoinbaseOptions): CoinbaseParts {
  const { height, extranonceSize, payoutScript, value, witnessCommitment } = opts;
  const heightPush = bip34HeightPush(height);
  assertInt(extranonceSize, 0, COINBASE_SCRIPTSIG_MAX, 'coinbase/extranonceSize', '0..100');
  const tag = opts.tag === undefined ? new Uint8Array(0) : typeof opts.tag === 'string' ? new TextEncoder().encode(opts.tag) : opts.tag;
  assertBytes(tag, 'coinbase/tag');
  const tagPush = tag.length > 0 ? pushData(tag, 'coinbase/tag') : new Uint8Array(0);
  const extranonceOpcode = pushOpcode(extranonceSize, 'coinbase/extranonceSize');
  const scriptSigSize = heightPush.length + tagPush.length + extranonceOpcode.length + extranonceSize;
  if (scriptSigSize > COINBASE_SCRIPTSIG_MAX)
    throw new CoinbaseError(
      'coinbase/scriptSig',
      `expected at most ${COINBASE_SCRIPTSIG_MAX} bytes, got ${scriptSigSize} ` +
        `(height push ${heightPush.length}, tag push ${tagPush.length}, extranonce push ${extranonceOpcode.length}+${extranonceSize})`,
    );
  // Height push ≥ 1 byte and extranonce opcode ≥ 1 byte, so the minimum of 2 always holds.
  if (scriptSigSize < COINBASE_SCRIPTSIG_MIN)
    throw new CoinbaseError('coinbase/scriptSig', `expected at least ${COINBASE_SCRIPTSIG_MIN} bytes, got ${scriptSigSize}`);

  assertBytes(payoutScript, 'coinbase/payoutScript');
  if (payoutScript.length === 0) throw new LengthError('coinbase/payoutScript', 'expected a non-empty scriptPubKey');
  if (typeof value !== 'bigint' && (typeof value !== 'number' || !Number.isSafeInteger(value)))
    throw new OutOfRangeError('coinbase/value', `expected an integer number of satoshis, got ${describe(value)}`);
  const sats = BigInt(value);
  if (sats < 0n || sats > MAX_MONEY)
    throw new OutOfRangeError('coinbase/value', `expected 0..${MAX_MONEY} satoshis, got ${describe(value)}`);

  const outputs: Uint8Array[] = [txOut(sats, payoutScript, 'coinbase/payout')];
  if (witnessCommitment !== undefined) {
    // BIP141: the commitment is in the coinbase output with the highest index matching the
    // pattern; Bitcoin Core puts it last (`GenerateCoinbaseCommitment`). Its value is 0.
    outputs.push(txOut(0n, witnessCommitmentScript(witnessCommitment), 'coinbase/witnessCommitment'));
  }

  const coinb1 = concatBytes(
    u32LE(COINBASE_TX_VERSION),
    Uint8Array.of(0x01), // one input
    new Uint8Array(32), // prevout hash: null
    u32LE(0xffffffff), // prevout index: null
    compactSize(scriptSigSize),
    heightPush,
    tagPush,
    extranonceOpcode,
  );
  const coinb2 = concatBytes(
    u32LE(0xffffffff), // nSequence
    compactSize(outputs.length),
    ...outputs,
    u32LE(0), // nLockTime
  );
  return { coinb1, coinb2, extranonceSize, scriptSigSize, hasWitnessCommitment: witnessCommitment !== undefined };
}

/**
 * The coinbase's non-witness serialization, `coinb1 ‖ extranonce ‖ coinb2` — the preimage of
 * its txid, and what a block carries when it has no witness commitment.
 * @throws LengthError when the extranonce is not `extranonceSize` bytes
 */
export function coinbaseTx(parts: CoinbaseParts, extranonce: Uint8Array): Uint8Array {
  assertBytes(extranonce, 'coinbase/extranonce', parts.extranonceSize);
  return concatBytes(parts.coinb1, extranonce, parts.coinb2);
}

/**
 * The witness serialization (BIP144) of a one-input coinbase given in non-witness form:
 * marker 0x00, flag 0x01 after nVersion, and before nLockTime the input's witness: one item,
 * the 32-byte witness reserved value (BIP141: "the coinbase's input's witness must consist of
 * a single 32-byte array"). Required when the coinbase has a witness commitment.
 * @throws LengthError when `tx` is not a non-witness one-input transaction
 */
export function coinbaseWithWitness(tx: Uint8Array, reservedValue: Uint8Array = WITNESS_RESERVED_VALUE): Uint8Array {
  assertBytes(tx, 'coinbase/tx');
  assertBytes(reservedValue, 'coinbase/reservedValue', 32);
  if (tx.length < 4 + 1 + 41 + 1 + 4 || tx[4] !== 0x01)
    throw new LengthError('coinbase/tx', 'expected the non-witness serialization of a one-input transaction');
  return concatBytes(
    tx.subarray(0, 4),
    Uint8Array.of(0x00, 0x01), // marker, flag
    tx.subarray(4, tx.length - 4),
    Uint8Array.of(0x01, 0x20), // one witness item of 32 bytes
    reservedValue,
    tx.subarray(tx.length - 4),
  );
}

/** txid of a transaction: SHA-256d of its non-witness serialization, internal byte order. */
export function txid(nonWitnessTx: Uint8Array): Uint8Array {
  return sha256d(nonWitnessTx);
}

/**
 * The witness merkle root (BIP141 §Commitment structure): the merkle root of all wtxids with the
 * coinbase's wtxid taken as 32 zero bytes. `wtxids` are the block's other transactions, in block
 * order, internal byte order (getblocktemplate's `hash`, reversed).
 */
export function witnessMerkleRoot(wtxids: readonly Uint8Array[]): Uint8Array {
  if (!Array.isArray(wtxids)) throw new LengthError('witnessMerkleRoot/wtxids', 'expected an array of 32-byte hashes');
  wtxids.forEach((h, i) => assertBytes(h, `witnessMerkleRoot/wtxids[${i}]`, 32));
  return merkleRoot([new Uint8Array(32), ...wtxids]);
}

/**
 * The BIP141 commitment hash: SHA-256d(witness merkle root ‖ witness reserved value), for the
 * block's non-coinbase wtxids (see `witnessMerkleRoot`). Internal byte order; this is what
 * follows 0xaa21a9ed in the commitment output.
 */
export function witnessCommitment(
  wtxids: readonly Uint8Array[],
  reservedValue: Uint8Array = WITNESS_RESERVED_VALUE,
): Uint8Array {
  assertBytes(reservedValue, 'witnessCommitment/reservedValue', 32);
  return sha256d(concatBytes(witnessMerkleRoot(wtxids), reservedValue));
}
