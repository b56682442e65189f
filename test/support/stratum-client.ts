// A Stratum V1 client for the tests, written from the miner's side and independently of
// src/stratum: it builds the header from mining.notify the way firmware does (prevhash words
// swapped back, coinbase = coinb1 ‖ extranonce1 ‖ extranonce2 ‖ coinb2, merkle fold, version,
// nbits and ntime from big-endian hex) so that a block the node accepts proves the byte orders.
// It can behave like ESP-Miner (pipelined configure/subscribe/authorize, mask ffffffff, integer
// suggest_difficulty, rolled version bits) or like cpuminer (no configure, string
// suggest_difficulty, extranonce.subscribe).
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';

export interface Notify {
  readonly jobId: string;
  readonly prevhash: string;
  readonly coinb1: string;
  readonly coinb2: string;
  readonly branch: readonly string[];
  readonly version: string;
  readonly nbits: string;
  readonly ntime: string;
  readonly clean: boolean;
}

export interface Reply {
  readonly id: number | string | null;
  readonly result: unknown;
  readonly error: [number, string, unknown] | null;
}

const DIFF1 = 0xffffn << 208n;

function sha256d(data: Buffer): Buffer {
  return createHash('sha256').update(createHash('sha256').update(data).digest()).digest();
}

/** The 80-byte header a miner hashes for `notify` with these fields (nonce included). */
export function headerOf(n: Notify, extranonce1: string, extranonce2: string, ntime: number, nonce: number, version: number): Buffer {
  let root = sha256d(Buffer.from(n.coinb1 + extranonce1 + extranonce2 + n.coinb2, 'hex'));
  for (const h of n.branch) root = sha256d(Buffer.concat([root, Buffer.from(h, 'hex')]));
  const prev = Buffer.from(n.prevhash, 'hex');
  for (let i = 0; i < 32; i += 4) prev.subarray(i, i + 4).reverse(); // undo the word swap
  const header = Buffer.alloc(80);
  header.writeUInt32LE(version >>> 0, 0);
  prev.copy(header, 4);
  root.copy(header, 36);
  header.writeUInt32LE(ntime >>> 0, 68);
  header.writeUInt32LE(Number.parseInt(n.nbits, 16) >>> 0, 72);
  header.writeUInt32LE(nonce >>> 0, 76);
  return header;
}

/** Display-order hash of a header. */
export function hashOf(header: Buffer): string {
  return Buffer.from(sha256d(header)).reverse().toString('hex');
}

export function targetOfDifficulty(difficulty: number): bigint {
  // Exact enough for tests: difficulty as a rational with 2^40 scaling.
  const scale = 2 ** 40;
  return (DIFF1 * BigInt(scale)) / BigInt(Math.max(1, Math.round(difficulty * scale)));
}

export function blockTarget(nbits: string): bigint {
  const bits = Number.parseInt(nbits, 16);
  const exp = bits >>> 24;
  const mant = BigInt(bits & 0x7fffff);
  return exp <= 3 ? mant >> BigInt(8 * (3 - exp)) : mant << BigInt(8 * (exp - 3));
}

export class TestStratumClient extends EventEmitter<{ notify: [Notify]; difficulty: [number]; extranonce: [string, number]; reconnect: [unknown[]]; closed: [] }> {
  private buffer = '';
  private nextId = 1;
  private readonly waiting = new Map<number | string, (r: Reply) => void>();
  readonly notifies: Notify[] = [];
  readonly replies: Reply[] = [];
  difficulty: number | undefined;
  extranonce1 = '';
  extranonce2Size = 0;
  versionMask = 0;
  closed = false;

  private constructor(readonly socket: Socket) {
    super();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('close', () => {
      this.closed = true;
      this.emit('closed');
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<TestStratumClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host }, () => resolve(new TestStratumClient(s)));
      s.once('error', reject);
    });
  }

  get job(): Notify | undefined {
    return this.notifies.at(-1);
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (line.trim() === '') continue;
      const msg = JSON.parse(line) as { id: number | string | null; method?: string; params?: unknown[]; result?: unknown; error?: Reply['error'] };
      if (msg.method === 'mining.notify') {
        const p = msg.params!;
        const n: Notify = { jobId: p[0] as string, prevhash: p[1] as string, coinb1: p[2] as string, coinb2: p[3] as string, branch: p[4] as string[], version: p[5] as string, nbits: p[6] as string, ntime: p[7] as string, clean: p[8] as boolean };
        this.notifies.push(n);
        this.emit('notify', n);
      } else if (msg.method === 'mining.set_difficulty') {
        this.difficulty = msg.params![0] as number;
        this.emit('difficulty', this.difficulty);
      } else if (msg.method === 'mining.set_extranonce') {
        this.extranonce1 = msg.params![0] as string;
        this.extranonce2Size = msg.params![1] as number;
        this.emit('extranonce', this.extranonce1, this.extranonce2Size);
      } else if (msg.method === 'client.reconnect') {
        this.emit('reconnect', msg.params ?? []);
      } else if (msg.method === undefined) {
        const reply: Reply = { id: msg.id, result: msg.result ?? null, error: msg.error ?? null };
        this.replies.push(reply);
        const w = msg.id === null ? undefined : this.waiting.get(msg.id);
        if (w && msg.id !== null) {
          this.waiting.delete(msg.id);
          w(reply);
        }
      }
    }
  }

  /** Sends a request and resolves with its reply. */
  request(method: string, params: unknown[], timeoutMs = 10_000): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no reply to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.socket.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  sendRaw(text: string): void {
    this.socket.write(text);
  }

  /** The first notify (after the ones seen so far) that satisfies `match`. */
  nextNotify(match: (n: Notify) => boolean = () => true, timeoutMs = 10_000): Promise<Notify> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('notify', on);
        reject(new Error(`no matching mining.notify within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (n: Notify) => {
        if (!match(n)) return;
        clearTimeout(timer);
        this.off('notify', on);
        resolve(n);
      };
      this.on('notify', on);
    });
  }

  /** ESP-Miner's start: configure, subscribe and authorize written at once, then the replies. */
  async startLikeEspMiner(user: string, password = 'x', suggest = 1): Promise<Reply[]> {
    const replies = await Promise.all([
      this.request('mining.configure', [['version-rolling'], { 'version-rolling.mask': 'ffffffff' }]),
      this.request('mining.subscribe', ['bitaxe/BM1370/v2.9.0']),
      this.request('mining.authorize', [user, password]),
      this.request('mining.suggest_difficulty', [suggest]),
    ]);
    const [configure, subscribe] = replies;
    this.versionMask = Number.parseInt(((configure!.result ?? {}) as Record<string, string>)['version-rolling.mask'] ?? '0', 16);
    this.takeSubscribe(subscribe!);
    return replies;
  }

  /** cpuminer's start: subscribe, extranonce.subscribe, authorize, a string suggest_difficulty. */
  async startLikeCpuminer(user: string, password = 'x', suggest = '0.5'): Promise<Reply[]> {
    const subscribe = await this.request('mining.subscribe', ['cpuminer-opt/25.6']);
    this.takeSubscribe(subscribe);
    const extranonce = await this.request('mining.extranonce.subscribe', []);
    const suggested = await this.request('mining.suggest_difficulty', [suggest]);
    const authorized = await this.request('mining.authorize', [user, password]);
    return [subscribe, extranonce, suggested, authorized];
  }

  private takeSubscribe(reply: Reply): void {
    const result = reply.result as [unknown, string, number];
    this.extranonce1 = result[1];
    this.extranonce2Size = result[2];
  }

  /**
   * Searches nonces from 0 with node:crypto until the hash meets `target` (regtest: about
   * every other nonce is a block), or until `limit` nonces.
   */
  solve(n: Notify, extranonce2: string, target: bigint, versionBits = 0, limit = 1_000_000): { nonce: number; ntime: number; version: number; hash: string } | undefined {
    const ntime = Number.parseInt(n.ntime, 16);
    const base = Number.parseInt(n.version, 16);
    const version = ((base & ~this.versionMask) | (versionBits & this.versionMask)) >>> 0;
    for (let nonce = 0; nonce < limit; nonce++) {
      const hash = hashOf(headerOf(n, this.extranonce1, extranonce2, ntime, nonce, version));
      if (BigInt(`0x${hash}`) <= target) return { nonce, ntime, version, hash };
    }
    return undefined;
  }

  /** The first nonce whose hash does NOT meet `target` (a share too weak). */
  weak(n: Notify, extranonce2: string, target: bigint): { nonce: number; ntime: number } {
    const ntime = Number.parseInt(n.ntime, 16);
    const version = Number.parseInt(n.version, 16);
    for (let nonce = 0; ; nonce++) {
      const hash = hashOf(headerOf(n, this.extranonce1, extranonce2, ntime, nonce, version));
      if (BigInt(`0x${hash}`) > target) return { nonce, ntime };
    }
  }

  submit(user: string, n: Notify, extranonce2: string, ntime: number, nonce: number, versionBits?: number): Promise<Reply> {
    const params: unknown[] = [user, n.jobId, extranonce2, hex8(ntime), hex8(nonce)];
    if (versionBits !== undefined) params.push(hex8(versionBits));
    return this.request('mining.submit', params);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.once('closed', () => resolve());
      this.socket.end();
    });
  }
}

export function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
