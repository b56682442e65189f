// JSON-RPC to the node, over two paths that share one set of credentials (credentials.ts), one
// TLS setting and one error mapping:
//
// - call(): the `bitcoin-core` package, for everything but templates;
// - callDirect(): node:http(s) with JSON.parse, for getblocktemplate only. bitcoin-core parses
//   every answer with json-bigint, which took 40-55 ms for a template of 3,000 transactions
//   against 7 ms for JSON.parse, on the thread that must also hand out new work and submit
//   blocks. Every number in a template is a safe integer (coinbasevalue is at most 21e14).
//
// Both re-read the cookie once on HTTP 401 (a restarted node wrote a new one) and fail with the
// same typed errors: the node said no (RpcError), the call did not get through
// (NodeUnreachableError), the login was refused (NodeAuthError), the node's TLS certificate is
// not trusted (NodeTlsError). Each client has its own time limit (a longpoll client has none).
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';

import Client from 'bitcoin-core';

import { CredentialStore, credentialsOf, type Credentials, type Login, type NodeSettings } from './credentials.js';
import { NodeAuthError, NodeTlsError, NodeUnreachableError, RpcError } from './errors.js';

export type { Credentials } from './credentials.js';

export interface RpcClientOptions {
  readonly url: string;
  readonly credentials: Credentials;
  /** Per-call limit in milliseconds; 0 for none (longpoll). */
  readonly timeoutMs?: number;
  /** PEM file of a certificate authority trusted for an https:// URL (besides the system's). */
  readonly caFile?: string | undefined;
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

/** Node's codes for a certificate chain or name it would not accept. */
const TLS_TRUST_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What went wrong with one call, whichever path made it. */
type Failure =
  | { readonly kind: 'http'; readonly status: number }
  | { readonly kind: 'rpc'; readonly code: number; readonly message: string }
  | { readonly kind: 'transport'; readonly code: string };

interface ErrorLike {
  code?: unknown;
  message?: unknown;
}

/** Shared by a client and the clients withTimeout() makes from it. */
interface Shared {
  readonly store: CredentialStore;
  readonly caFile: string | undefined;
  ca: Promise<Buffer | undefined> | undefined;
}

export class RpcClient {
  readonly url: string;
  private readonly shared: Shared;
  private readonly timeoutMs: number;
  private client: { login: Login; client: Client } | undefined;
  private requestId = 0;

  /** `shared`: only withTimeout() passes it, so both clients hold one login and one CA. */
  constructor(options: RpcClientOptions, shared?: Shared) {
    this.url = options.url;
    this.timeoutMs = options.timeoutMs === 0 ? NO_LIMIT_MS : (options.timeoutMs ?? 30_000);
    this.shared = shared ?? { store: new CredentialStore(options.credentials, options.url), caFile: options.caFile, ca: undefined };
  }

  /** A second client for the same node and credentials with another time limit (0: none, for longpoll). */
  withTimeout(timeoutMs: number): RpcClient {
    return new RpcClient({ url: this.url, credentials: this.shared.store.credentials, timeoutMs }, this.shared);
  }

  /** A call through bitcoin-core. */
  call<T>(method: string, ...params: unknown[]): Promise<T> {
    return this.withLoginRetry(method, async (login) => {
      const client = await this.bitcoinCore(login);
      try {
        return (await client.command(method, ...params)) as T;
      } catch (err) {
        throw failureOfBitcoinCore(err);
      }
    });
  }

  /** A call over node:http(s), parsed with JSON.parse: the template path (see the file comment). */
  callDirect<T>(method: string, ...params: unknown[]): Promise<T> {
    return this.withLoginRetry(method, (login) => this.post<T>(method, params, login, undefined));
  }

  /**
   * callDirect that `signal` can abandon: the request is destroyed and the call fails with
   * NodeUnreachableError (reason "aborted"). A fetch stuck on a node that stalls is dropped this
   * way when templates move to another node.
   */
  callDirectAbortable<T>(signal: AbortSignal, method: string, ...params: unknown[]): Promise<T> {
    return this.withLoginRetry(method, (login) => this.post<T>(method, params, login, signal));
  }

  /** Runs `attempt`; on HTTP 401 with a cookie, reads the cookie again and tries once more. */
  private async withLoginRetry<T>(method: string, attempt: (login: Login) => Promise<T>): Promise<T> {
    const store = this.shared.store;
    try {
      return await attempt(await store.current());
    } catch (err) {
      if (isFailure(err) && err.kind === 'http' && err.status === 401 && store.refresh()) {
        try {
          return await attempt(await store.current());
        } catch (again) {
          throw this.toNodeError(method, again);
        }
      }
      throw this.toNodeError(method, err);
    }
  }

  private async bitcoinCore(login: Login): Promise<Client> {
    if (this.client?.login === login) return this.client.client;
    const client = new Client({ host: this.url, username: login.username, password: login.password, timeout: this.timeoutMs, logger: SILENT_LOGGER });
    const ca = await this.ca();
    if (ca !== undefined) {
      // bitcoin-core builds its `request` defaults without TLS options; the CA is added the
      // same way (request's own defaults()), with the promisified calls bitcoin-core uses.
      const request = client.request.defaults({ ca } as unknown as Parameters<typeof client.request.defaults>[0]) as unknown as {
        get: (...a: unknown[]) => void;
        post: (...a: unknown[]) => void;
        getAsync?: unknown;
        postAsync?: unknown;
      };
      request.getAsync = promisify(request.get);
      request.postAsync = promisify(request.post);
      client.request = request as unknown as typeof client.request;
    }
    this.client = { login, client };
    return client;
  }

  private async post<T>(method: string, params: unknown[], login: Login, signal: AbortSignal | undefined): Promise<T> {
    const url = new URL(this.url);
    const body = JSON.stringify({ jsonrpc: '1.0', id: ++this.requestId, method, params });
    const secure = url.protocol === 'https:';
    const ca = secure ? await this.ca() : undefined;
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const options: https.RequestOptions = {
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
          authorization: `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}`,
        },
        ...(ca !== undefined && { ca }),
        ...(signal !== undefined && { signal }),
      };
      const req = (secure ? https : http).request(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(body);
    }).catch((err: unknown) => {
      const e = err as ErrorLike;
      if (signal?.aborted) throw transport('aborted');
      throw transport(typeof e?.code === 'string' ? e.code : String((err as Error)?.message ?? err));
    });
    if (status === 401 || status === 403) throw { kind: 'http', status } satisfies Failure;
    let answer: { result?: unknown; error?: { code?: number; message?: string } | null };
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      // No JSON-RPC body: a proxy's error page, a node still warming its HTTP server.
      throw { kind: 'http', status } satisfies Failure;
    }
    if (answer.error) throw { kind: 'rpc', code: answer.error.code ?? -32603, message: answer.error.message ?? 'no message' } satisfies Failure;
    return answer.result as T;
  }

  /** The --rpc-ca file's contents, read once; undefined without one. */
  private ca(): Promise<Buffer | undefined> {
    const file = this.shared.caFile;
    if (file === undefined) return Promise.resolve(undefined);
    this.shared.ca ??= readFile(file).catch((err: NodeJS.ErrnoException) => {
      throw new NodeTlsError(this.url, `cannot read the CA file ${file} (${err.code ?? err.message})`, 'rpc-ca');
    });
    return this.shared.ca;
  }

  /** The one mapping of a failed call to the node layer's typed errors. */
  private toNodeError(method: string, err: unknown): Error {
    if (err instanceof NodeTlsError || err instanceof NodeAuthError || err instanceof NodeUnreachableError || err instanceof RpcError) return err;
    if (!isFailure(err)) return new NodeUnreachableError(this.url, err instanceof Error ? err.message : String(err));
    switch (err.kind) {
      case 'rpc':
        return new RpcError(method, err.code, err.message);
      case 'http':
        if (err.status === 401 || err.status === 403) return new NodeAuthError(this.url, this.shared.store.describe());
        // An HTTP status without a JSON-RPC body: 404 (wrong path or wallet), 5xx while warming up.
        return new NodeUnreachableError(this.url, `HTTP ${err.status}`);
      case 'transport':
        if (TLS_TRUST_CODES.has(err.code)) {
          const what = err.code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? 'is issued for another host name' : 'is not trusted';
          return new NodeTlsError(this.url, `its TLS certificate ${what} (${err.code}); give the certificate authority that signed it with --rpc-ca <file>`, 'rpc-ca');
        }
        if (err.code === 'EPROTO' || err.code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
          return new NodeTlsError(this.url, `the TLS handshake failed (${err.code}); is it an https:// port?`, 'rpc-url');
        }
        return new NodeUnreachableError(this.url, err.code);
    }
  }
}

function transport(code: string): Failure {
  return { kind: 'transport', code };
}

function isFailure(err: unknown): err is Failure {
  return typeof err === 'object' && err !== null && !(err instanceof Error) && 'kind' in err;
}

/**
 * bitcoin-core reports an HTTP failure without a JSON-RPC body as an error whose numeric `code`
 * is the status, a node's answer as one whose `code` is the JSON-RPC code (negative), and a
 * transport failure as request's error with a string `code`.
 */
function failureOfBitcoinCore(err: unknown): Failure {
  const e = (err ?? {}) as ErrorLike;
  if (typeof e.code === 'number') {
    if (e.code >= 100 && e.code < 600) return { kind: 'http', status: e.code };
    return { kind: 'rpc', code: e.code, message: typeof e.message === 'string' ? e.message : 'no message' };
  }
  return transport(typeof e.code === 'string' ? e.code : typeof e.message === 'string' ? e.message : String(err));
}

/** The client for a configuration's node settings (URL, login, CA). */
export function rpcClientFor(settings: NodeSettings): RpcClient {
  return new RpcClient({ url: settings.rpcUrl, credentials: credentialsOf(settings), caFile: settings.rpcCa });
}
