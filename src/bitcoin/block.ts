/**
 * Full block serialization (what `submitblock` takes as hex):
 *
 *     header(80) ‖ CompactSize(tx count) ‖ coinbase ‖ tx_1 ‖ … ‖ tx_n
 *
 * Transactions are given already serialized, in the form the block carries them: the
 * coinbase in witness form (`coinbaseWithWitness`) when it has a BIP141 commitment, and the
 * template's transactions as getblocktemplate's `data` (witness serialization where they have
 * witnesses).
 * @module
 */
import { assertBytes, bytesToHex, compactSize, concatBytes, toBytes } from './bytes.js';
import { LengthError } from './errors.js';
import { HEADER_SIZE, serializeHeader, type HeaderFields } from './header.js';

/**
 * Serializes a block. `header` is the 80 serialized bytes or the fields; `txs` are the
 * transactions after the coinbase, as bytes or hex.
 */
export function serializeBlock(
  header: Uint8Array | HeaderFields,
  coinbase: Uint8Array,
  txs: readonly (Uint8Array | string)[] = [],
): Uint8Array {
  const head = header instanceof Uint8Array ? header : serializeHeader(header);
  assertBytes(head, 'block/header', HEADER_SIZE);
  assertBytes(coinbase, 'block/coinbase');
  if (coinbase.length < 60) throw new LengthError('block/coinbase', `expected a serialized transaction, got ${coinbase.length} bytes`);
  if (!Array.isArray(txs)) throw new LengthError('block/txs', 'expected an array of transactions');
  const body = txs.map((tx, i) => {
    const b = toBytes(tx, `block/txs[${i}]`);
    if (b.length === 0) throw new LengthError(`block/txs[${i}]`, 'expected a serialized transaction, got 0 bytes');
    return b;
  });
  return concatBytes(head, compactSize(1 + body.length), coinbase, ...body);
}

/** `serializeBlock` as hex, the argument of `submitblock`. */
export function serializeBlockHex(
  header: Uint8Array | HeaderFields,
  coinbase: Uint8Array,
  txs: readonly (Uint8Array | string)[] = [],
): string {
  return bytesToHex(serializeBlock(header, coinbase, txs));
}

/** One output of a transaction: its value in satoshis and its scriptPubKey. */
export interface TxOutput {
  readonly value: bigint;
  readonly script: Uint8Array;
}

/**
 * The outputs of a serialized block's coinbase (its first transaction), read without parsing
 * the rest of the block: what it paid, and to whom. Used to tell the reward of a block kept as
 * hex (the found-blocks journal) when nothing else recorded it.
 * @throws LengthError when the bytes end early or are not a block with a transaction
 */
export function coinbaseOutputs(block: Uint8Array | string): TxOutput[] {
  const bytes = toBytes(block, 'block');
  let at = HEADER_SIZE;
  const need = (n: number, what: string): void => {
    if (at + n > bytes.length) throw new LengthError('block/coinbase', `ends inside ${what} at byte ${at} of ${bytes.length}`);
  };
  const varint = (what: string): number => {
    need(1, what);
    const first = bytes[at++]!;
    if (first < 0xfd) return first;
    const size = first === 0xfd ? 2 : first === 0xfe ? 4 : 8;
    need(size, what);
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + bytes[at + i]!;
    at += size;
    if (!Number.isSafeInteger(v)) throw new LengthError('block/coinbase', `${what} of ${v} is not a plausible count`);
    return v;
  };
  const skip = (n: number, what: string): void => {
    need(n, what);
    at += n;
  };
  if (varint('the transaction count') < 1) throw new LengthError('block/coinbase', 'expected at least one transaction, got 0');
  skip(4, 'the version');
  // BIP144: a zero where the input count would be is the segwit marker, followed by flag 1.
  if (bytes[at] === 0x00 && bytes[at + 1] === 0x01) skip(2, 'the segwit marker');
  const inputs = varint('the input count');
  for (let i = 0; i < inputs; i++) {
    skip(36, 'an outpoint');
    skip(varint('a scriptSig length'), 'a scriptSig');
    skip(4, 'a sequence');
  }
  const outputs: TxOutput[] = [];
  const count = varint('the output count');
  for (let i = 0; i < count; i++) {
    need(8, 'an output value');
    const value = new DataView(bytes.buffer, bytes.byteOffset + at, 8).getBigUint64(0, true);
    at += 8;
    const length = varint('a scriptPubKey length');
    need(length, 'a scriptPubKey');
    outputs.push({ value, script: bytes.slice(at, at + length) });
    at += length;
  }
  return outputs;
}
