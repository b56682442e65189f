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
