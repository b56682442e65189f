/**
 * Where `--notify <url>` sends, told from the URL alone (docs/notifications.md):
 *
 * - **Discord**: host `discord.com` or `discordapp.com` (also `ptb.` and `canary.`) with a path
 *   under `/api/webhooks/` → `{"content": "<message>"}`.
 * - **ntfy**: host `ntfy.sh` or any host whose first label starts with `ntfy` (`ntfy.example.org`,
 *   `ntfy-home.lan`), or any URL written with the prefix `ntfy+` (`ntfy+https://push.example.org/topic`)
 *   for a server named otherwise → the message as plain text with `Title`, `Priority` and `Tags`
 *   headers, ntfy's publish-by-POST.
 * - **webhook**: anything else → the JSON body of `notification-events.ts`.
 *
 * Credentials: `user:password@` in the URL is sent as HTTP basic authentication (fetch refuses
 * URLs that hold credentials) and never shown; logs name a destination by `label`, which drops the
 * user and password, masks every query value (`?auth=***`), the ntfy topic and the Discord webhook
 * token, and any path segment that looks like a token (16 characters or more); `secrets` lists
 * the texts an error message must not repeat.
 * @module
 */

export type NotifyKind = 'ntfy' | 'discord' | 'webhook';

export interface NotifyTarget {
  readonly kind: NotifyKind;
  /** Where requests go: without user:password@ and without the `ntfy+` prefix. */
  readonly url: string;
  /** Authorization, when the URL held a user and password. */
  readonly headers: Readonly<Record<string, string>>;
  /** The URL as logs show it: kind and a redacted URL. */
  readonly label: string;
  /** Texts never to print: the password, the user, query values, masked path segments. */
  readonly secrets: readonly string[];
}

const NTFY_PREFIX = /^ntfy\+(?=https?:)/i;
const DISCORD_HOSTS = new Set(['discord.com', 'discordapp.com', 'ptb.discord.com', 'canary.discord.com', 'ptb.discordapp.com', 'canary.discordapp.com']);
/** A path segment this long, of URL-safe token characters, is treated as a secret. */
const TOKEN_SEGMENT = /^[A-Za-z0-9_\-.~%]{16,}$/;

/** A URL `--notify` takes: http(s), or ntfy+http(s); nothing else is sent to. */
export function isNotifyUrl(text: string): boolean {
  const plain = text.replace(NTFY_PREFIX, '');
  if (!URL.canParse(plain)) return false;
  const u = new URL(plain);
  return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
}

function kindOf(raw: string, u: URL): NotifyKind {
  if (NTFY_PREFIX.test(raw)) return 'ntfy';
  const host = u.hostname.toLowerCase();
  if (DISCORD_HOSTS.has(host) && u.pathname.startsWith('/api/webhooks/')) return 'discord';
  if (host === 'ntfy.sh' || host.endsWith('.ntfy.sh') || /^ntfy/.test(host.split('.')[0] ?? '')) return 'ntfy';
  return 'webhook';
}

/** @throws Error (without the URL in its message) for a URL isNotifyUrl refuses */
export function notifyTarget(raw: string): NotifyTarget {
  if (!isNotifyUrl(raw)) throw new Error('notify: expected an http:// or https:// URL');
  const u = new URL(raw.replace(NTFY_PREFIX, ''));
  const kind = kindOf(raw, u);
  const secrets: string[] = [];
  const headers: Record<string, string> = {};
  const user = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  if (user !== '' || password !== '') {
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    secrets.push(user, password, u.username, u.password);
    u.username = '';
    u.password = '';
  }
  const shown = new URL(u.toString());
  for (const [key, value] of u.searchParams) {
    secrets.push(value, encodeURIComponent(value));
    shown.searchParams.set(key, '***');
  }
  const segments = u.pathname.split('/');
  const masked = segments.map((s, i) => {
    const last = i === segments.length - 1 || (i === segments.length - 2 && segments.at(-1) === '');
    // The ntfy topic is its password (anyone who knows it reads it); a Discord webhook's token is
    // the segment after its id.
    const secret = s !== '' && ((kind === 'ntfy' && last) || (kind === 'discord' && i >= 4) || TOKEN_SEGMENT.test(s));
    if (secret) secrets.push(s, decodeURIComponent(s));
    return secret ? '***' : s;
  });
  shown.pathname = masked.join('/');
  shown.hash = '';
  const auth = user !== '' || password !== '' ? '***@' : '';
  const label = `${kind} ${shown.protocol}//${auth}${shown.host}${decodeURIComponent(shown.pathname)}${shown.search.replaceAll('%2A', '*')}`;
  u.hash = '';
  return { kind, url: u.toString(), headers, label, secrets: [...new Set(secrets.filter((s) => s.length >= 3))] };
}

/** The URL as logs may show it (config descriptions, errors): see `notifyTarget().label`. */
export function redactNotifyUrl(raw: string): string {
  return isNotifyUrl(raw) ? notifyTarget(raw).label.replace(/^\S+ /, '') : '(not a URL)';
}

/** `text` with every secret of `target` replaced by `***`. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so a secret that contains another is masked whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
  return out;
}
