/**
 * Errors of the Stratum V2 wire layer. Every message reads `<where>: <what>` (which field or step,
 * what was expected and what came), so a connection can be closed with one readable line.
 * @module
 */

/** Base class: a peer sent something this layer cannot accept. */
export class Sv2Error extends Error {
  readonly where: string;
  readonly what: string;
  constructor(where: string, what: string) {
    super(`${where}: ${what}`);
    this.name = new.target.name;
    this.where = where;
    this.what = what;
  }
}

/** The Noise handshake or an encrypted frame failed (a wrong key, a bad MAC, a replay). */
export class NoiseError extends Sv2Error {}

/** A message that does not decode (truncated, a length out of range, trailing bytes). */
export class DecodeError extends Sv2Error {}

/** An authority key or certificate that cannot be used (bad checksum, wrong version, not a point). */
export class AuthorityKeyError extends Sv2Error {}
