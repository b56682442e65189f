// JSON-RPC to the node through the `bitcoin-core` package. This wrapper adds what a miner
// needs on top: cookie authentication that follows a restarted node (the cookie is re-read
// on HTTP 401), a clear split between "the node said no" (RpcError) and "the call did not
// get through" (NodeUnreachableError), and per-client time limits (a longpoll client has
// none: bitcoin-core's default of 30 s would cut every longpoll short).
import { readFile } from 'node:fs/promises';

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

  private async connect(): Promise<Client> {
    if (this.client) return this.client;
    let username: string;
    let password: string;
    if (this.credentials.kind === 'password') {
      ({ user: username, password } = this.credentials);
    } else {
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
      username = text.slice(0, colon);
      password = text.slice(colon + 1).trim();
      this.cookieRead = true;
    }
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
