// A webhook receiver for notification tests: every POST body, parsed, kept and emitted as a
// 'notification' event.
import { EventEmitter } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: {
    event: string;
    message: string;
    block?: { hash: string; height: number; status: string; confirmations: number | null; value?: string; knownTo?: { nodes: number; of: number; peers: number | null } };
    node?: { name?: string; error?: string };
  };
}

export interface Webhook {
  readonly url: string;
  readonly received: Received[];
  readonly events: EventEmitter;
  close(): Promise<void>;
}

export async function webhook(): Promise<Webhook> {
  const events = new EventEmitter();
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const r = { path: req.url ?? '', headers: req.headers, body: JSON.parse(body) as Received['body'] };
      received.push(r);
      res.writeHead(204).end();
      events.emit('notification', r);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, received, events, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
