// The metrics endpoint of a running miner: GET /metrics (Prometheus text) and GET /status
// (JSON, what `solominer status` reads). Binds 127.0.0.1 unless told otherwise.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class MetricsListenError extends Error {
  override readonly name = 'MetricsListenError';
}

export interface StatusServerOptions {
  readonly host: string;
  readonly port: number;
  readonly metrics: () => Promise<{ contentType: string; body: string }>;
  readonly status: () => unknown;
}

export class StatusServer {
  private constructor(
    private readonly server: Server,
    /** Base URL, e.g. http://127.0.0.1:9464 */
    readonly url: string,
  ) {}

  static async listen(options: StatusServerOptions): Promise<StatusServer> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/metrics') {
        options
          .metrics()
          .then(({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body))
          .catch((err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`));
        return;
      }
      if (path === '/status') {
        try {
          res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(options.status())}\n`);
        } catch (err) {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`);
        }
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /status\n');
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
