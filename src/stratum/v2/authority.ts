/**
 * The pool's Stratum V2 identity (docs/stratum.md, "The authority key"):
 * - the authority key, generated once and kept with the other durable state (a file beside the
 *   found-blocks journal, written atomically, mode 0600). Only its public half is ever shown; a
 *   file that cannot be read as a key stops the start-up with one line instead of being replaced
 *   (miners have the public key configured: a silent new key would lock them all out);
 * - the server's static key, new at every start (miners pin the authority, not the server);
 * - the certificate the authority signs for it, valid from an hour back (clocks differ) for a
 *   day, and signed again once half of that has passed, so a long-running pool never hands out
 *   an expired one.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { schnorr } from '@noble/curves/secp256k1.js';

import { writeFileAtomic } from '../../telemetry/hourly-report.js';
import { encodeAuthorityKey, signCertificate } from './certificate.js';
import { AuthorityKeyError } from './errors.js';
import { ellswiftKeyOf, generateEllswiftKey, StaticKey, type EllswiftKey, type NoiseResponder } from './noise.js';

/** The authority key's file, beside the found-blocks journal. */
export const AUTHORITY_KEY_FILE = 'stratum-v2-authority-key.json';
/** Certificates start this far back: a miner whose clock is behind still accepts them. */
export const CERTIFICATE_BACKDATE_SECONDS = 3600;
export const CERTIFICATE_VALIDITY_SECONDS = 24 * 3600;

interface KeyFile {
  readonly format: 1;
  /** The authority's secret key, hex. */
  readonly secret: string;
  readonly created: string;
}

/**
 * The authority secret kept at `path`: read when the file exists, generated (and fsynced) when
 * it does not. AuthorityKeyError when the file exists but is not a key (nothing is overwritten).
 */
export async function loadOrCreateAuthority(path: string, now: () => number = Date.now): Promise<{ secret: Uint8Array; created: boolean }> {
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new AuthorityKeyError(path, `cannot read the Stratum V2 authority key (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (text !== undefined) return { secret: parseKeyFile(path, text), created: false };
  const secret = schnorr.utils.randomSecretKey();
  const file: KeyFile = { format: 1, secret: Buffer.from(secret).toString('hex'), created: new Date(now()).toISOString() };
  await mkdir(dirname(path), { recursive: true });
  // Only its owner may read it: it is the pool's identity.
  await writeFileAtomic(path, `${JSON.stringify(file)}\n`, 0o600);
  // The rename itself is durable only once the folder is synced.
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync().catch(() => undefined);
  } finally {
    await dir.close();
  }
  return { secret, created: true };
}

function parseKeyFile(path: string, text: string): Uint8Array {
  const fix = 'move it away to have a new key generated (then give miners the new public key)';
  let v: Partial<KeyFile>;
  try {
    v = JSON.parse(text) as Partial<KeyFile>;
  } catch {
    throw new AuthorityKeyError(path, `expected the JSON of a Stratum V2 authority key; ${fix}`);
  }
  if (v.format !== 1 || typeof v.secret !== 'string' || !/^[0-9a-f]{64}$/.test(v.secret)) {
    throw new AuthorityKeyError(path, `expected {"format":1,"secret":<64 hex digits>}; ${fix}`);
  }
  const secret = Uint8Array.from(Buffer.from(v.secret, 'hex'));
  try {
    schnorr.getPublicKey(secret);
  } catch {
    throw new AuthorityKeyError(path, `the secret is not a valid secp256k1 key; ${fix}`);
  }
  return secret;
}

export interface IdentityOptions {
  readonly authoritySecret: Uint8Array;
  /** Injected for replayable transcripts; a fresh key at every start otherwise. */
  readonly staticKey?: EllswiftKey;
  /** Each handshake's ephemeral key (injected for transcripts); fresh otherwise. */
  readonly ephemeral?: () => EllswiftKey;
  /** BIP340 auxiliary randomness of the certificate's signature (fixed for transcripts). */
  readonly auxRand?: Uint8Array;
  /** Unix seconds (injected for tests). */
  readonly nowSeconds?: () => number;
}

/** The server's keys and its certificate of the moment. */
export class ServerIdentity {
  readonly authorityPublicKey: Uint8Array;
  /** base58check, what miners configure. */
  readonly authorityKey: string;
  private readonly staticKey: StaticKey;
  private certificate: Buffer;
  private notValidAfter: number;
  private validFrom: number;
  private readonly nowSeconds: () => number;

  constructor(private readonly options: IdentityOptions) {
    this.nowSeconds = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
    this.authorityPublicKey = schnorr.getPublicKey(options.authoritySecret);
    this.authorityKey = encodeAuthorityKey(this.authorityPublicKey);
    this.staticKey = new StaticKey(options.staticKey ?? generateEllswiftKey());
    [this.certificate, this.validFrom, this.notValidAfter] = this.sign();
  }

  private sign(): [Buffer, number, number] {
    const now = this.nowSeconds();
    const from = Math.max(0, now - CERTIFICATE_BACKDATE_SECONDS);
    const until = Math.min(0xffffffff, now + CERTIFICATE_VALIDITY_SECONDS);
    return [signCertificate(this.options.authoritySecret, this.staticKey.xOnly, from, until, this.options.auxRand ?? randomBytes(32)), from, until];
  }

  /** The certificate handed out now: signed again once half of its window has passed. */
  currentCertificate(): Buffer {
    const now = this.nowSeconds();
    if (now > this.validFrom + CERTIFICATE_BACKDATE_SECONDS + (this.notValidAfter - this.validFrom - CERTIFICATE_BACKDATE_SECONDS) / 2) {
      [this.certificate, this.validFrom, this.notValidAfter] = this.sign();
    }
    return this.certificate;
  }

  /** Unix seconds: the window of the certificate handed out now. */
  get window(): { validFrom: number; notValidAfter: number } {
    return { validFrom: this.validFrom, notValidAfter: this.notValidAfter };
  }

  /** A responder for one handshake; its ephemeral key injected, else from `fresh`, else made now. */
  responder(fresh?: () => EllswiftKey): NoiseResponder {
    return this.staticKey.responder(this.currentCertificate(), this.options.ephemeral?.() ?? fresh?.());
  }
}

/** A fixed static key from a secret (transcripts). */
export function staticKeyOf(secret: Uint8Array, ellswift?: Uint8Array): EllswiftKey {
  return ellswift ? { secret: Uint8Array.from(secret), ellswift: Uint8Array.from(ellswift) } : ellswiftKeyOf(secret);
}
