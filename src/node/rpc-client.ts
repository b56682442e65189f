// JSON-RPC to the node through the `bitcoin-core` package. This wrapper adds what a miner
// needs on top: cookie authentication that follows a restarted node (the cookie is re-read
// on HTTP 401), a clear split between "the node said no" (RpcError) and "the call did not
// get through" (NodeUnreachableError), and per-client time limits (a longpoll client has
// none: bitcoin-core's default of 30 s would cut every longpoll short).
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';

import Client from 'bitcoin-core';

import { NodeAuthError, NodeUnreachableError, RpcError } from './errors.js';

export type Credentials =
  | { readonly kind: 'password'; readonly user: string; readonly password: string }
  | { readonly kind: 'cookie'; readonly path: string };

export interface RpcClientOptions {
  readonly url: string;
  readonly credentials: Credentials;
  /** Per-call limit in milliseconds; 0 for none (longpoll). */
  readonly timeoutMs?: number;
}

/** bitcoin-core logs every request through this when DEBUG is set; a miner keeps it silent. */
const SILENT_LOGGER = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return SILENT_LOGGER;
  },
};

// A day stands for "no limit": the request library reads 0 as "use the default".
const NO_LIMIT_MS = 24 * 60 * 60 * 1000;

interface TransportError {
  code?: unknown;
  message?: unknown;
}

export class RpcClient {
  readonly url: string;
  private readonly credentials: Credentials;
  private readonly timeoutMs: number;
  private client: Client | undefined;
  private cookieRead = false;
  private login: { username: string; password: string } | undefined;
  private requestId = 0;

  constructor(options: RpcClientOptions) {
    this.url = options.url;
    this.credentials = options.credentials;
    this.timeoutMs = options.timeoutMs === 0 ? NO_LIMIT_MS : (options.timeoutMs ?? 30_000);
  }

  /** A second client for the same node with another time limit (0: none, for longpoll). */
  withTimeout(timeoutMs: number): RpcClient {
    return new RpcClient({ url: this.url, credentials: this.credentials, timeoutMs });
  }

  async call<T>(method: string, ...params: unknown[]): Promise<T> {
    const client = await this.connect();
    try {
      return (await client.command(method, ...params)) as T;
    } catch (err) {
      const status = httpStatus(err);
      if (status === 401 && this.credentials.kind === 'cookie' && this.cookieRead) {
        // A restarted node writes a new cookie: read it once more and retry the call once.
        this.client = undefined;
        this.login = undefined;
        const fresh = await this.connect();
        try {
          return (await fresh.command(method, ...params)) as T;
        } catch (again) {
          throw this.translate(method, again);
        }
      }
      throw this.translate(method, err);
    }
  }

  /**
   * A call made over node:http and parsed with JSON.parse, for the hot path only (templates).
   * bitcoin-core parses every answer with json-bigint, which took 40-55 ms for a template of
   * 3,000 transactions against 7 ms for JSON.parse, on the thread that must also hand out new
   * work and submit blocks. Every number in a template is a safe integer (coinbasevalue is at
   * most 21e14), so nothing is lost. Same errors and cookie re-read as call().
   */
  async callDirect<T>(method: string, ...params: unknown[]): Promise<T> {
    try {
      return await this.post<T>(method, params);
    } catch (err) {
      if (err instanceof NodeAuthError && this.credentials.kind === 'cookie' && this.cookieRead) {
        this.login = undefined;
        this.client = undefined;
        return this.post<T>(method, params);
      }
      throw err;
    }
  }

  private async post<T>(method: string, params: unknown[]): Promise<T> {
    const { username, password } = await this.credentialsNow();
    const url = new URL(this.url);
    const body = JSON.stringify({ jsonrpc: '1.0', id: ++this.requestId, method, params });
    const transport = url.protocol === 'https:' ? https : http;
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = transport.request(
        {
          hostname: url.hostname,
          port: url.port,
          path: url.pathname || '/',
          method: 'POST',
          // A connection per call: no idle socket outlives the miner (loopback connects in
          // well under a millisecond, a template is one call per block).
          agent: false,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(body);
    }).catch((err: unknown) => {
      const e = err as TransportError;
      throw new NodeUnreachableError(this.url, typeof e?.code === 'string' ? e.code : String((err as Error)?.message ?? err));
    });
    if (status === 401 || status === 403) throw this.translate(method, Object.assign(new Error('Unauthorized'), { code: status }));
    let answer: { result?: unknown; error?: { code?: number; message?: string } | null };
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      // No JSON-RPC body: a proxy's error page, a node still warming its HTTP server.
      throw new NodeUnreachableError(this.url, `HTTP ${status}`);
    }
    if (answer.error) throw new RpcError(method, answer.error.code ?? -32603, answer.error.message ?? 'no message');
    return answer.result as T;
  }

  private async credentialsNow(): Promise<{ username: string; password: string }> {
    if (this.login) return this.login;
    if (this.credentials.kind === 'password') {
      this.login = { username: this.credentials.user, password: this.credentials.password };
      return this.login;
    }
    let text: string;
    try {
      text = await readFile(this.credentials.path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      // Missing while the node starts up is a transport-like condition: retried by callers.
      throw new NodeUnreachableError(this.url, `cannot read the RPC cookie ${this.credentials.path}: ${code}`);
    }
    const colon = text.indexOf(':');
    if (colon < 0) throw new NodeAuthError(this.url, `the cookie file ${this.credentials.path} is malformed`);
    this.cookieRead = true;
    this.login = { username: text.slice(0, colon), password: text.slice(colon + 1).trim() };
    return this.login;
  }

  private async connect(): Promise<Client> {
    if (this.client) return this.client;
    const { username, password } = await this.credentialsNow();
    this.client = new Client({ host: this.url, username, password, timeout: this.timeoutMs, logger: SILENT_LOGGER });
    return this.client;
  }

  private translate(method: string, err: unknown): Error {
    const status = httpStatus(err);
    if (status === 401 || status === 403) {
      return new NodeAuthError(
        this.url,
        this.credentials.kind === 'cookie' ? `cookie ${this.credentials.path} was not accepted` : `user ${JSON.stringify(this.credentials.user)} with the given password`,
      );
    }
    if (typeof status === 'number' && status >= 100) {
      // An HTTP status without a JSON-RPC body: 404 (wrong path or wallet), 5xx while warming up.
      return new NodeUnreachableError(this.url, `HTTP ${status}`);
    }
    if (err instanceof Error && typeof (err as TransportError).code === 'number') {
      return new RpcError(method, (err as TransportError).code as number, err.message);
    }
    const e = err as TransportError;
    const code = typeof e?.code === 'string' ? e.code : undefined;
    const message = typeof e?.message === 'string' ? e.message : String(err);
    return new NodeUnreachableError(this.url, code ?? message);
  }
}

/** The HTTP status bitcoin-core attaches to an error that came with no JSON-RPC body. */
function httpStatus(err: unknown): number | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as TransportError).code;
  // bitcoin-core reports HTTP failures as RpcError(statusCode) and node errors as RpcError(code < 0).
  return typeof code === 'number' && code >= 100 && code < 600 ? code : undefined;
}
