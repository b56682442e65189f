// Proxies in front of a real node's ports, for faults the node cannot produce on demand:
//
// - TcpProxy forwards bytes to a port and can stall (connections stay open, nothing moves: a hung
//   node or a frozen network path), resume, or be pointed at another port (another node under the
//   same URL).
// - RpcProxy forwards JSON-RPC over HTTP and lets a test answer chosen calls itself: the answer a
//   node gives when its disk is full, which a test cannot make a real node give on demand.
import { request, createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private stalled = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private target: number,
  ) {}

  /** A proxy on a free port of 127.0.0.1 forwarding to `targetPort` on 127.0.0.1. */
  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => proxy!.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    proxy = new TcpProxy(server, port, targetPort);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private accept(client: Socket): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    if (this.stalled) {
      // Accepted, read, never answered.
      client.resume();
      return;
    }
    const upstream = connect(this.target, '127.0.0.1');
    this.sockets.add(upstream);
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.on('data', (d) => {
      if (!this.stalled) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!this.stalled) client.write(d);
    });
  }

  /** From now on nothing moves: open connections and new ones stay open and silent. */
  stall(): void {
    this.stalled = true;
  }

  /** Forwards again; connections held during the stall are closed (their calls are lost). */
  resume(): void {
    this.stalled = false;
    for (const s of this.sockets) s.destroy();
  }

  /** Forwards to another port from now on (open connections are closed). */
  pointAt(targetPort: number): void {
    this.target = targetPort;
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** What an interceptor returns: a JSON-RPC answer of its own, or undefined to forward the call. */
export type RpcAnswer = { readonly result: unknown } | { readonly error: { readonly code: number; readonly message: string } } | undefined;

export class RpcProxy {
  /** Calls answered by the interceptor, by method. */
  readonly intercepted: string[] = [];

  private constructor(
    private readonly server: HttpServer,
    readonly port: number,
  ) {}

  /** Forwards to `targetPort` on 127.0.0.1; `intercept` sees every call first. */
  static async start(targetPort: number, intercept: (method: string, params: unknown[]) => RpcAnswer): Promise<RpcProxy> {
    let proxy: RpcProxy | undefined;
    const server = createHttpServer((req, res) => proxy!.handle(req, res, targetPort, intercept));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new RpcProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse, targetPort: number, intercept: (method: string, params: unknown[]) => RpcAnswer): void {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let call: { id?: unknown; method?: string; params?: unknown[] } = {};
      try {
        call = JSON.parse(body.toString('utf8')) as typeof call;
      } catch {
        // not JSON-RPC: forwarded as it is
      }
      const answer = typeof call.method === 'string' ? intercept(call.method, call.params ?? []) : undefined;
      if (answer !== undefined) {
        this.intercepted.push(call.method!);
        // Bitcoin Core answers an error with HTTP 500 and a JSON-RPC body.
        const status = 'error' in answer ? 500 : 200;
        const text = JSON.stringify({ result: 'result' in answer ? answer.result : null, error: 'error' in answer ? answer.error : null, id: call.id ?? null });
        res.writeHead(status, { 'content-type': 'application/json' }).end(text);
        return;
      }
      const upstream = request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
