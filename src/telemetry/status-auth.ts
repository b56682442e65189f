// The status port's access check when it is exposed beyond loopback (`--status-token`): a
// request carries the token in `Authorization: Bearer <token>` (Prometheus, curl, `solominer
// status`), or the session cookie the login form sets (a browser: EventSource cannot send a
// header). The cookie holds an HMAC of the token, never the token itself; comparisons take the
// same time whatever the guess.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Whether listening on `host` keeps a port on this machine: 127.0.0.0/8, ::1 (also as
 * ::ffff:127.x) and localhost. Anything else — 0.0.0.0, ::, a LAN address, a name — may be
 * reachable from the network.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  return /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export const SESSION_COOKIE = 'solominer_session';
/** A week: long enough for a phone on the kitchen wall, short enough to be signed in again now and then. */
export const SESSION_MAX_AGE_SECONDS = 7 * 86_400;

/** The token of `Authorization: Bearer <token>`, if that is the header's scheme. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return m?.[1];
}

/** A cookie's value from a Cookie header (`a=1; b=2`). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export class StatusAuth {
  private readonly tokenDigest: Buffer;
  private readonly session: string;

  constructor(token: string) {
    if (token === '') throw new RangeError('status token: expected a non-empty token');
    this.tokenDigest = digest(token);
    this.session = createHmac('sha256', token).update('solominer dashboard session v1').digest('base64url');
  }

  /** Whether `candidate` is the token. Both sides are hashed first, so the comparison's length and time say nothing. */
  matches(candidate: string): boolean {
    return timingSafeEqual(digest(candidate), this.tokenDigest);
  }

  /** Whether a request carries the token or a session cookie made from it. */
  allows(headers: IncomingHttpHeaders): boolean {
    const bearer = bearerToken(headers.authorization);
    if (bearer !== undefined && this.matches(bearer)) return true;
    const cookie = cookieValue(headers.cookie, SESSION_COOKIE);
    return cookie !== undefined && timingSafeEqual(digest(cookie), digest(this.session));
  }

  /** The Set-Cookie value after a good login: not readable by scripts, never sent by other sites. */
  sessionCookie(): string {
    return `${SESSION_COOKIE}=${this.session}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_MAX_AGE_SECONDS}`;
  }
}
