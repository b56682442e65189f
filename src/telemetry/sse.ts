// Server-Sent Events (the WHATWG HTML "text/event-stream" format) for GET /events: framing, and
// the set of open streams. A browser's EventSource reconnects by itself after a dropped stream,
// waiting the `retry` the server sent, so the page needs no polling loop of its own.
import type { ServerResponse } from 'node:http';

/** Thrown for an event name a stream cannot carry (it would end the field early). */
export class SseFrameError extends Error {
  override readonly name = 'SseFrameError';
}

/**
 * One event: `event: <name>`, then one `data:` line per line of `data` (a reader joins them with
 * "\n" again), ended by a blank line. CR, LF and CRLF all end a line in the format, so all three
 * split the data.
 */
export function sseFrame(event: string, data: string, id?: string): string {
  if (/[\r\n]/.test(event) || event === '') throw new SseFrameError(`sse event name: expected one non-empty line, got ${JSON.stringify(event)}`);
  if (id !== undefined && /[\r\n\0]/.test(id)) throw new SseFrameError(`sse id: expected one line without NUL, got ${JSON.stringify(id)}`);
  const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`);
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\n${lines.join('')}\n`;
}

/** A comment line: ignored by readers, it keeps proxies and the socket from calling the stream idle. */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

/** How long a reader waits before reconnecting after the stream dropped. */
export function sseRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.round(ms))}\n\n`;
}

export interface SseHubOptions {
  /** Streams open at once, in all and from one client address; beyond them a request gets 429. */
  readonly maxClients?: number;
  readonly maxPerAddress?: number;
  /** Comment sent to every stream this often (default 15 s). */
  readonly heartbeatMs?: number;
  readonly retryMs?: number;
}

interface Client {
  readonly res: ServerResponse;
  readonly address: string;
}

/** The open /events streams. */
export class SseHub {
  private readonly clients = new Set<Client>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly maxClients: number;
  private readonly maxPerAddress: number;
  private readonly retryMs: number;

  constructor(options: SseHubOptions = {}) {
    this.maxClients = options.maxClients ?? 64;
    this.maxPerAddress = options.maxPerAddress ?? 8;
    this.retryMs = options.retryMs ?? 3000;
    this.heartbeat = setInterval(() => this.write(sseComment('keep-alive')), options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Whether one more stream from `address` fits. */
  admits(address: string): boolean {
    if (this.clients.size >= this.maxClients) return false;
    let mine = 0;
    for (const c of this.clients) if (c.address === address) mine++;
    return mine < this.maxPerAddress;
  }

  /** Starts the stream on `res` (the caller checked `admits`) with the frames a new reader needs first. */
  open(res: ServerResponse, address: string, greeting: string): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // Tells nginx-style proxies not to buffer the stream.
      'x-accel-buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    res.write(sseRetry(this.retryMs) + greeting);
    const client: Client = { res, address };
    this.clients.add(client);
    res.on('close', () => this.clients.delete(client));
  }

  broadcast(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    this.write(sseFrame(event, JSON.stringify(data)));
  }

  private write(frame: string): void {
    for (const c of this.clients) {
      // A reader too slow to take what it was sent is dropped; EventSource reconnects and starts afresh.
      if (c.res.writableLength > 1 << 20) c.res.destroy();
      else c.res.write(frame);
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }
}
