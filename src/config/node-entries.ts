/**
 * `--node`: the nodes to mine from, beyond (or instead of) the one the --rpc-* flags describe.
 *
 * One node is its RPC URL, then what it needs besides, comma-separated `key=value` items:
 *
 *     --node http://10.0.0.5:8332,zmq=tcp://10.0.0.5:28332,cookie=/srv/node-b/.cookie
 *     --node https://node.lan:8332,user=miner,password=…,ca=/etc/ssl/node-ca.pem
 *
 * keys `zmq`, `cookie`, `user`, `password`, `ca` (as --zmq, --rpc-cookie, --rpc-user,
 * --rpc-password, --rpc-ca). The flag is repeatable; SOLOMINER_NODE holds several, separated by
 * spaces or `;`. In the config file `"nodes"` is an array of such strings or of objects with the
 * field names of the configuration: `{"rpcUrl": "...", "zmq": "...", "rpcCookie": "..."}`.
 *
 * Errors are one line naming the entry (`--node #2 zmq: expected ...`) and never echo a password.
 * @module
 */
import type { NodeEntry } from '../node/node-link.js';
import { fieldSchemas, resolvePath } from './mine-config.js';

/** What a node entry of the file or the text form may hold, in the configuration's names. */
const ENTRY_KEYS = ['rpcUrl', 'zmq', 'rpcCookie', 'rpcUser', 'rpcPassword', 'rpcCa'] as const;
type EntryKey = (typeof ENTRY_KEYS)[number];

/** The text form's short keys. */
const TEXT_KEYS: Readonly<Record<string, EntryKey>> = { zmq: 'zmq', cookie: 'rpcCookie', user: 'rpcUser', password: 'rpcPassword', ca: 'rpcCa' };

const EXPECTED: Readonly<Record<EntryKey, string>> = {
  rpcUrl: 'an http:// or https:// URL such as http://127.0.0.1:8332, without user:password@',
  zmq: 'a ZMQ endpoint such as tcp://127.0.0.1:28332',
  rpcCookie: 'a file path',
  rpcUser: "a non-empty user name without ':'",
  rpcPassword: 'a non-empty password',
  rpcCa: 'a PEM file path',
};

/** A bad node entry: `where` is the item (`#2 zmq`), `detail` what is expected. */
export class NodeEntryError extends Error {
  override readonly name = 'NodeEntryError';
  constructor(
    readonly where: string,
    readonly detail: string,
  ) {
    super(`${where}: ${detail}`);
  }
}

/** A node entry as given, before defaults: what the loader resolves against the other fields. */
export interface GivenNode extends Partial<NodeEntry> {
  readonly rpcUrl: string;
  /** 1-based position among the entries of its source. */
  readonly position: number;
}

/** "http://a:1,zmq=x http://b:2" → ["http://a:1,zmq=x", "http://b:2"]. */
function splitEntries(text: string): string[] {
  return text.split(/[\s;]+/).filter((x) => x !== '');
}

/** One entry of the text form as an object in the configuration's names. */
function entryOfText(text: string, where: string): Record<string, unknown> {
  const [url, ...items] = text.split(',');
  const out: Record<string, unknown> = { rpcUrl: url };
  for (const item of items) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const name = TEXT_KEYS[key];
    if (name === undefined) {
      throw new NodeEntryError(where, `unknown item ${JSON.stringify(key.length > 20 ? `${key.slice(0, 20)}…` : key)}; after the URL come zmq=, cookie=, user=, password= or ca=, comma-separated`);
    }
    if (eq < 0 || eq === item.length - 1) throw new NodeEntryError(`${where} ${key}`, `expected ${key}=<value>`);
    if (out[name] !== undefined) throw new NodeEntryError(`${where} ${key}`, 'given twice');
    out[name] = item.slice(eq + 1);
  }
  return out;
}

/**
 * The node entries of one source: a flag's values, a variable's text, or the file's value.
 * `base`: the folder relative paths are relative to.
 */
export function parseNodeEntries(raw: unknown, base: string): GivenNode[] {
  const items: unknown[] = typeof raw === 'string' ? splitEntries(raw) : Array.isArray(raw) ? raw.flatMap((x) => (typeof x === 'string' ? splitEntries(x) : [x])) : [raw];
  if (items.length === 0) throw new NodeEntryError('', 'expected at least one node: its RPC URL, then zmq=, cookie=, user=, password= or ca= items');
  return items.map((item, i) => {
    const where = `#${i + 1}`;
    let entry: Record<string, unknown>;
    if (typeof item === 'string') entry = entryOfText(item, where);
    else if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
      entry = { ...(item as Record<string, unknown>) };
      const unknown = Object.keys(entry).find((k) => !(ENTRY_KEYS as readonly string[]).includes(k));
      if (unknown !== undefined) throw new NodeEntryError(`${where} ${unknown}`, `unknown key; a node takes ${ENTRY_KEYS.join(', ')}`);
      for (const k of ENTRY_KEYS) if (entry[k] === null) delete entry[k];
    } else {
      throw new NodeEntryError(where, 'expected a node: its RPC URL with zmq=, cookie=, user=, password= or ca= items, or an object such as {"rpcUrl": "http://127.0.0.1:8332", "zmq": "tcp://127.0.0.1:28332"}');
    }
    if (entry.rpcUrl === undefined) throw new NodeEntryError(`${where} rpcUrl`, `required: ${EXPECTED.rpcUrl}`);
    const out: Record<string, unknown> = { position: i + 1 };
    for (const k of ENTRY_KEYS) {
      const v = entry[k];
      if (v === undefined) continue;
      const checked = fieldSchemas[k].safeParse(v);
      if (!checked.success) {
        const shown = k === 'rpcPassword' ? '' : k === 'rpcUrl' && typeof v === 'string' ? `, got ${JSON.stringify(v.replace(/^([a-z+.-]+:\/\/)?[^/]*@/i, '$1***@'))}` : `, got ${JSON.stringify(v)}`;
        throw new NodeEntryError(`${where} ${keyName(k, typeof item === 'string')}`, `expected ${EXPECTED[k]}${shown}`);
      }
      out[k] = k === 'rpcCookie' || k === 'rpcCa' ? resolvePath(checked.data as string, base) : checked.data;
    }
    const has = (k: EntryKey) => out[k] !== undefined;
    const text = typeof item === 'string';
    if (has('rpcCookie') && (has('rpcUser') || has('rpcPassword'))) {
      throw new NodeEntryError(where, `conflicting credentials: ${keyName('rpcCookie', text)} and ${keyName(has('rpcUser') ? 'rpcUser' : 'rpcPassword', text)}; log in with a cookie file or with a user and password, not both`);
    }
    if (has('rpcUser') !== has('rpcPassword')) {
      throw new NodeEntryError(where, `conflicting credentials: ${keyName(has('rpcUser') ? 'rpcUser' : 'rpcPassword', text)} needs ${keyName(has('rpcUser') ? 'rpcPassword' : 'rpcUser', text)} as well`);
    }
    return out as unknown as GivenNode;
  });
}

/** How the user wrote a key: the short one in the text form, the field name in an object. */
function keyName(k: EntryKey, text: boolean): string {
  if (!text) return k;
  return Object.entries(TEXT_KEYS).find(([, v]) => v === k)?.[0] ?? 'url';
}

/** The same node twice: scheme, host and port (the default one filled in) and path compared. */
export function sameNodeUrl(a: string, b: string): boolean {
  const norm = (u: string) => {
    const url = new URL(u);
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    return `${url.protocol}//${url.hostname.toLowerCase()}:${port}${url.pathname.replace(/\/+$/, '')}`;
  };
  return norm(a) === norm(b);
}

/** Every password the text or file form of `raw` holds (so no error message can echo one). */
export function nodePasswords(raw: unknown): string[] {
  const out: string[] = [];
  const visit = (v: unknown): void => {
    if (typeof v === 'string') for (const m of v.matchAll(/(?:^|,)password=([^,\s;]+)/g)) out.push(m[1]!);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (typeof v === 'object' && v !== null) {
      const p = (v as Record<string, unknown>).rpcPassword;
      if (typeof p === 'string') out.push(p);
    }
  };
  visit(raw);
  return out;
}
