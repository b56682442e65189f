// A reader of Server-Sent Events for the tests, written from the format's rules (WHATWG HTML,
// "Parsing an event stream") and independent of src/telemetry/sse.ts, so that a framing mistake
// there cannot be mirrored here: fields per line, "data" lines joined with "\n", a blank line
// dispatching the event, lines starting with ":" ignored, one leading space after the colon dropped.

export interface SseEvent {
  readonly event: string;
  readonly data: string;
  readonly id?: string;
}

export interface SseParse {
  readonly events: SseEvent[];
  /** The `retry` the stream asked for, if any. */
  readonly retry?: number;
  readonly comments: string[];
  /** Text after the last complete event (a partial event still arriving). */
  readonly rest: string;
}

export function parseSse(text: string): SseParse {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let retry: number | undefined;
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  let consumed = 0;
  const lineEnd = /\r\n|\r|\n/g;
  let start = 0;
  for (let m = lineEnd.exec(text); m !== null; m = lineEnd.exec(text)) {
    const line = text.slice(start, m.index);
    start = m.index + m[0].length;
    if (line === '') {
      if (data.length > 0) events.push({ event: event || 'message', data: data.join('\n'), ...(id !== undefined && { id }) });
      event = '';
      data = [];
      consumed = start;
      continue;
    }
    if (line.startsWith(':')) {
      comments.push(line.slice(1).trimStart());
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
  }
  return { events, comments, rest: text.slice(consumed), ...(retry !== undefined && { retry }) };
}

/** An open /events stream: every event so far, and a way to wait for the next matching one. */
export interface SseStream {
  readonly events: SseEvent[];
  readonly retry: () => number | undefined;
  /** The first event (already received or still to come) after index `from` that matches. */
  next(match: (e: SseEvent) => boolean, timeoutMs?: number, from?: number): Promise<SseEvent>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  if (res.status !== 200) throw new Error(`${url}: expected 200, got ${res.status}`);
  const events: SseEvent[] = [];
  let retry: number | undefined;
  const waiters = new Set<() => void>();
  let buffer = '';
  void (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        const parsed = parseSse(buffer);
        buffer = parsed.rest;
        retry ??= parsed.retry;
        events.push(...parsed.events);
        for (const w of waiters) w();
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    events,
    retry: () => retry,
    next(match, timeoutMs = 15_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.slice(from).find(match);
          if (found === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for a matching event on ${url}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => abort.abort(),
  };
}
