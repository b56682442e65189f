/**
 * Error types of the Bitcoin primitives layer.
 *
 * Every message has the shape `<where>: <what>` — for example
 * `coinbase/height: expected 0..2^31-1, got -1` — so that a caller can print it as one line
 * that names the field and what was expected. `where` and `what` are also kept as properties.
 * @module
 */

/** Base class of every error thrown by `src/bitcoin/`. */
export class BitcoinError extends Error {
  /** The field or function the error is about, e.g. `coinbase/height`. */
  readonly where: string;
  /** What is wrong, e.g. `expected 0..2^31-1, got -1`. */
  readonly what: string;
  constructor(where: string, what: string) {
    super(`${where}: ${what}`);
    this.name = new.target.name;
    this.where = where;
    this.what = what;
  }
}

/** A hex string that is not valid hex (odd length, non-hex character, wrong byte length). */
export class HexError extends BitcoinError {}

/** A byte array of the wrong length or a value of the wrong type. */
export class LengthError extends BitcoinError {}

/** A number outside the range its field allows (u32, u64, CompactSize, height, value). */
export class OutOfRangeError extends BitcoinError {}

/** A compact nBits value that Bitcoin Core's `DeriveTarget` would refuse (negative, overflow, zero). */
export class BitsError extends BitcoinError {}

/** A payout address that cannot be decoded, or is of a type a coinbase must not pay to. */
export class AddressError extends BitcoinError {}

/** A well-formed address of another network than the one expected. */
export class NetworkMismatchError extends AddressError {
  /** The network family the address belongs to, e.g. `mainnet` or `testnet/testnet4/signet`. */
  readonly addressNetwork: string;
  /** The network the caller asked for, e.g. `regtest`. */
  readonly expectedNetwork: string;
  constructor(where: string, what: string, addressNetwork: string, expectedNetwork: string) {
    super(where, what);
    this.addressNetwork = addressNetwork;
    this.expectedNetwork = expectedNetwork;
  }
}

/** A coinbase that would break a consensus rule (BIP34 height, scriptSig size 2..100). */
export class CoinbaseError extends BitcoinError {}
