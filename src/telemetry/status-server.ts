// The status port of a running miner: the dashboard page at GET / (with its scripts and styles),
// its live feed GET /events (Server-Sent Events), GET /metrics (Prometheus text) and GET /status
// (JSON, what `solominer status` reads). Binds 127.0.0.1 unless told otherwise; beyond loopback
// it requires a token (status-auth.ts). Every request is rate-limited per client address. It is
// read-only: nothing it serves changes the miner (the one POST, /login, only sets a cookie).
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { AssetMissingError, DashboardAssets } from './dashboard-assets.js';
import { TokenBucketLimiter } from './rate-limit.js';
import type { SseHub } from './sse.js';
import { isLoopbackHost, StatusAuth } from './status-auth.js';

export class MetricsListenError extends Error {
  override readonly name = 'MetricsListenError';
}

/**
 * The page's scripts, styles and fetches come from this server only; no inline script or style,
 * no frames, no plugins. uPlot styles its elements through the CSSOM, which style-src allows.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS: OutgoingHttpHeaders = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** Default per-address limit: a burst of 120 requests, then 10 a second (a page load is about 12). */
export const DEFAULT_RATE_LIMIT = { capacity: 120, refillPerSecond: 10 } as const;
/** What a request without the right token costs on top: a guesser gets about one try a second. */
const FAILED_AUTH_COST = 10;
const LOGIN_BODY_MAX_BYTES = 4096;

export interface StatusServerOptions {
  readonly host: string;
  readonly port: number;
  readonly metrics: () => Promise<{ contentType: string; body: string }>;
  readonly status: () => unknown;
  /** The live feed: open streams, and the frames a new stream gets first (history, then status). */
  readonly events?: { readonly hub: SseHub; readonly greeting: () => string };
  /** Required beyond loopback; with it, every request but /login must carry it. */
  readonly token?: string | undefined;
  readonly rateLimit?: { readonly capacity: number; readonly refillPerSecond: number };
  /** Clock of the rate limiter (tests). */
  readonly now?: () => number;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...extra }).end(body);
}

function text(res: ServerResponse, status: number, body: string, extra: OutgoingHttpHeaders = {}): void {
  send(res, status, 'text/plain; charset=utf-8', `${body}\n`, extra);
}

/** The body of a small form POST, or undefined when it is larger than `max` bytes. */
async function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export class StatusServer {
  private constructor(
    private readonly server: Server,
    /** Base URL, e.g. http://127.0.0.1:9464 */
    readonly url: string,
  ) {}

  static async listen(options: StatusServerOptions): Promise<StatusServer> {
    if (!isLoopbackHost(options.host) && !options.token) {
      throw new MetricsListenError(`--metrics-host: ${options.host} is beyond loopback: give --status-token <t> so that only those who know it can read the port`);
    }
    const auth = options.token ? new StatusAuth(options.token) : undefined;
    const limiter = new TokenBucketLimiter({ ...(options.rateLimit ?? DEFAULT_RATE_LIMIT), ...(options.now && { now: options.now }) });
    const assets = new DashboardAssets();

    const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      const address = req.socket.remoteAddress ?? 'unknown';
      const verdict = limiter.take(address);
      if (!verdict.allowed) return text(res, 429, 'too many requests from this address', { 'retry-after': String(verdict.retryAfterSeconds) });
      const path = (req.url ?? '/').split('?')[0]!;
      const isLogin = path === '/login' && auth !== undefined;
      if (req.method !== 'GET' && req.method !== 'HEAD' && !(isLogin && req.method === 'POST')) {
        return text(res, 405, 'read-only: GET or HEAD', { allow: isLogin ? 'GET, HEAD, POST' : 'GET, HEAD' });
      }
      if (isLogin) return login(req, res, address);
      if (auth !== undefined && !auth.allows(req.headers)) {
        limiter.charge(address, FAILED_AUTH_COST);
        // A browser asking for the page gets the login form; anything else a plain 401.
        if (path === '/' || path === '/index.html') return loginPage(res, 401, false);
        return text(res, 401, 'unauthorized: send Authorization: Bearer <status token>, or sign in at /login', { 'www-authenticate': 'Bearer realm="solominer"' });
      }
      switch (path) {
        case '/metrics': {
          const { contentType, body } = await options.metrics();
          return send(res, 200, contentType, body, { 'cache-control': 'no-store' });
        }
        case '/status':
          return send(res, 200, 'application/json', `${JSON.stringify(options.status())}\n`, { 'cache-control': 'no-store' });
        case '/events': {
          const events = options.events;
          if (events === undefined) break;
          if (req.method === 'HEAD') return send(res, 200, 'text/event-stream; charset=utf-8', '', { 'cache-control': 'no-store' });
          if (!events.hub.admits(address)) return text(res, 429, 'too many open event streams', { 'retry-after': '10' });
          events.hub.open(res, address, events.greeting());
          return;
        }
        case '/login':
          // No token: nothing to sign in to.
          res.writeHead(303, { ...SECURITY_HEADERS, location: '/' }).end();
          return;
      }
      const asset = await assets.get(path);
      if (asset === undefined) return text(res, 404, 'not found: try / (the dashboard), /metrics, /status or /events');
      send(res, 200, asset.type, asset.body, { 'cache-control': 'no-cache' });
    };

    const loginPage = async (res: ServerResponse, status: number, wrongToken: boolean): Promise<void> => {
      const page = (await assets.get('/login'))!.body.toString('utf8');
      const message = wrongToken ? 'That is not the token this miner was started with.' : '';
      send(res, status, 'text/html; charset=utf-8', page.replace('<!--message-->', message), { 'cache-control': 'no-store' });
    };

    const login = async (req: IncomingMessage, res: ServerResponse, address: string): Promise<void> => {
      if (req.method !== 'POST') return loginPage(res, 200, false);
      const body = await readBody(req, LOGIN_BODY_MAX_BYTES);
      if (body === undefined) return text(res, 413, `login form: expected at most ${LOGIN_BODY_MAX_BYTES} bytes`);
      const token = new URLSearchParams(body).get('token') ?? '';
      if (!auth!.matches(token)) {
        limiter.charge(address, FAILED_AUTH_COST);
        return loginPage(res, 401, true);
      }
      res.writeHead(303, { ...SECURITY_HEADERS, location: '/', 'set-cookie': auth!.sessionCookie(), 'cache-control': 'no-store' }).end();
    };

    const server = createServer((req, res) => {
      handle(req, res).catch((err: unknown) => {
        const message = err instanceof AssetMissingError || err instanceof Error ? err.message : String(err);
        if (res.headersSent) res.destroy();
        else text(res, 500, message);
      });
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new MetricsListenError(`--metrics-port: cannot listen on ${options.host}:${options.port}: ${err.code ?? err.message}`)),
      );
      server.listen(options.port, options.host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return new StatusServer(server, `http://${host}:${address.port}`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
