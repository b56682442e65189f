// The pool client of `mine --pool` against scripted Stratum servers written in this test (the
// pool side reversed): a version-rolling mask (the engines roll BIP320 bits; the server rebuilds
// each share's version from its BIP310 bits), no mask or a narrower one (no rolling, one line
// saying why), a fractional difficulty, set_extranonce,
// client.reconnect, fail-over to the second URL, every form of reject reason, and garbage — each
// garbage line one warning and a reconnect, never a crash or a wrong share. The shares are real:
// the CPU engine hashes, the server checks each header independently (test/support/stratum-client.ts).
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';

import { CpuEngine } from '../../src/engines/cpu-engine.js';
import { runPoolClientService, type PoolClientSummary } from '../../src/miner/client-service.js';
import type { UpstreamClient } from '../../src/stratum/upstream.js';
import { StratumClient } from '../../src/stratum/v1/client.js';
import type { Recorder } from '../../src/telemetry/recorder.js';
import { loadMineConfig } from '../../src/config/load-config.js';
import { freePorts } from '../../src/devnode/local-node.js';
import { within } from '../support/events.js';
import { scratchDir } from '../support/mining.js';
import { hashOf, headerOf, targetOfDifficulty, type Notify } from '../support/stratum-client.js';

const PREVHASH = '0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0'.slice(0, 64);
const COINB1 = '02000000010000000000000000000000000000000000000000000000000000000000000000ffffffff2503a0860108';
const COINB2 = 'ffffffff0100f2052a010000001600147c09d7a3c1e7c7a7d1b6e4c6e3b5d3b3a1f2e4d600000000';

interface Submitted {
  readonly params: unknown[];
  readonly en1: string;
  readonly notify: Notify;
  /** The header version the server hashed: the job's, with the share's BIP310 bits inside its mask. */
  readonly version: number;
  readonly ok: boolean;
}

/** A Stratum server the test scripts: it answers the login and then runs `script` per connection. */
class ScriptedPool {
  readonly server: Server;
  readonly connections: Socket[] = [];
  readonly submitted: Submitted[] = [];
  port = 0;
  en1 = 'a1b2c3d4';
  difficulty = 0.001;
  /** The mask mining.configure grants (BIP310); undefined: version rolling refused. */
  mask: string | undefined = '1fffe000';
  notifies = new Map<string, Notify>();
  answer: (params: unknown[], ok: boolean) => unknown = (_p, ok) => (ok ? { result: true, error: null } : { result: null, error: [23, 'low difficulty share', null] });

  constructor(private readonly script: (pool: ScriptedPool, socket: Socket, send: (o: unknown) => void) => void) {
    this.server = createServer((socket) => this.accept(socket));
  }

  async listen(port = 0): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  get url(): string {
    return `stratum+tcp://127.0.0.1:${this.port}`;
  }

  notify(send: (o: unknown) => void, id: string, clean = true, extra: Partial<Notify> = {}): Notify {
    const n: Notify = { jobId: id, prevhash: PREVHASH, coinb1: COINB1, coinb2: COINB2, branch: [], version: '20000000', nbits: '1d00ffff', ntime: '6758a000', clean, ...extra };
    this.notifies.set(id, n);
    send({ id: null, method: 'mining.notify', params: [n.jobId, n.prevhash, n.coinb1, n.coinb2, n.branch, n.version, n.nbits, n.ntime, n.clean] });
    return n;
  }

  private accept(socket: Socket): void {
    this.connections.push(socket);
    socket.setEncoding('utf8');
    let buffer = '';
    const send = (o: unknown) => socket.write(`${JSON.stringify(o)}\n`);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buffer.slice(0, nl)) as { id: number; method: string; params: unknown[] };
        buffer = buffer.slice(nl + 1);
        if (msg.method === 'mining.configure') {
          send({ id: msg.id, result: this.mask === undefined ? { 'version-rolling': false } : { 'version-rolling': true, 'version-rolling.mask': this.mask }, error: null });
        }
        else if (msg.method === 'mining.subscribe') send({ id: msg.id, result: [[['mining.notify', 'x']], this.en1, 4], error: null });
        else if (msg.method === 'mining.authorize') {
          send({ id: msg.id, result: true, error: null });
          send({ id: null, method: 'mining.set_difficulty', params: [this.difficulty] });
          this.script(this, socket, send);
        } else if (msg.method === 'mining.submit') {
          const [, jobId, en2, ntime, nonce, bits] = msg.params as string[];
          const n = this.notifies.get(jobId!)!;
          // BIP310: version = (job version & ~mask) | (bits & mask); bits outside the mask: refused.
          const mask = this.mask === undefined ? 0 : Number.parseInt(this.mask, 16);
          const rolled = bits === undefined ? 0 : Number.parseInt(bits, 16);
          const version = ((Number.parseInt(n.version, 16) & ~mask) | (rolled & mask)) >>> 0;
          const hash = hashOf(headerOf(n, this.en1, en2!, Number.parseInt(ntime!, 16), Number.parseInt(nonce!, 16), version));
          const ok = BigInt(`0x${hash}`) <= targetOfDifficulty(this.difficulty) && ntime === n.ntime && (rolled & ~mask) === 0;
          this.submitted.push({ params: msg.params, en1: this.en1, notify: n, version, ok });
          send({ id: msg.id, ...(this.answer(msg.params, ok) as object) });
        } else send({ id: msg.id, result: true, error: null });
      }
    });
  }

  close(): void {
    for (const s of this.connections) s.destroy();
    this.server.close();
  }
}

async function clientRun(
  urls: string[],
  onStarted: (live: { recorder: Recorder; client: UpstreamClient }) => void,
  stop: AbortSignal,
  log: (line: string) => void = () => undefined,
): Promise<PoolClientSummary> {
  const dir = await scratchDir();
  const config = await loadMineConfig({ argv: ['--report-dir', dir, ...urls.flatMap((u) => ['--pool', u]), '--user', 'tb1qworker.rig', '--threads', '1'], env: {}, cwd: dir });
  return runPoolClientService({
    config,
    log: (_level, msg) => log(msg),
    signal: stop,
    engines: [new CpuEngine({ threads: 1 })],
    reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    onStarted: ({ recorder, client }) => onStarted({ recorder, client }),
  });
}

describe('the pool client against scripted servers', { timeout: 120_000 }, () => {
  const pools: ScriptedPool[] = [];
  after(() => {
    for (const p of pools) p.close();
  });

  it('a fractional difficulty: real shares, each checked by the server, sent with the job ntime', async () => {
    const pool = await new ScriptedPool((p, _s, send) => p.notify(send, 'j1')).listen();
    pools.push(pool);
    pool.difficulty = 0.0005; // fractional: a share every ~2 million hashes
    const stop = new AbortController();
    let rec: Recorder | undefined;
    const run = clientRun([pool.url], ({ recorder, client }) => {
      rec = recorder;
      client.on('share', () => {
        if (pool.submitted.length >= 3) stop.abort();
      });
    }, stop.signal);
    const summary = await within('three shares', run, 60_000);
    assert.ok(pool.submitted.length >= 3);
    assert.ok(pool.submitted.every((s) => s.ok), 'every share meets the difficulty, with the job ntime');
    assert.ok(pool.submitted.every((s) => (s.params as string[])[0] === 'tb1qworker.rig'));
    assert.equal(new Set(pool.submitted.map((s) => `${String(s.params[2])}:${String(s.params[4])}`)).size, pool.submitted.length, "no share twice");
    assert.ok(summary.sharesAccepted >= 3);
    assert.equal(rec!.status().upstream?.difficulty, 0.0005);
  });

  it('version rolling: the engine rolls the granted BIP320 bits, and the server accepts each share with its BIP310 bits', async () => {
    const pool = await new ScriptedPool((p, _s, send) => p.notify(send, 'v1')).listen();
    pools.push(pool);
    pool.difficulty = 0.0005;
    const stop = new AbortController();
    const lines: string[] = [];
    const run = clientRun([pool.url], ({ client }) => {
      // Each share's version is one of 16 (the CPU engine's K): wait until rolled ones came.
      client.on('share', () => {
        if (pool.submitted.filter((s) => s.version !== 0x20000000).length >= 3) stop.abort();
      });
    }, stop.signal, (l) => lines.push(l));
    const summary = await within('three shares with rolled versions', run, 90_000);
    assert.ok(pool.submitted.every((s) => s.ok), 'every share meets the difficulty with the version its bits make');
    const rolled = pool.submitted.filter((s) => s.version !== 0x20000000);
    for (const s of rolled) {
      assert.equal((s.version & ~0x1fffe000) >>> 0, 0x20000000, s.version.toString(16));
      assert.equal(s.params[5], ((s.version & 0x1fffe000) >>> 0).toString(16).padStart(8, '0'), 'the bits sent are the version inside the mask');
    }
    for (const s of pool.submitted.filter((x) => x.version === 0x20000000)) assert.equal(s.params.length, 5, 'an un-rolled share sends no version bits');
    assert.ok(summary.sharesAccepted >= 3);
    assert.ok(lines.some((l) => l.startsWith('mining through')), lines.join('\n'));
    assert.ok(!lines.some((l) => l.startsWith('version rolling off')), lines.join('\n'));
  });

  for (const [what, mask, reason] of [
    ['no mask', undefined, /^version rolling off: the pool granted no version-rolling mask \(BIP310 mining\.configure\); one version per scan$/],
    ['a narrower mask', '00ffe000', /^version rolling off: the pool granted the mask 00ffe000, narrower than BIP320's 1fffe000; one version per scan$/],
  ] as const) {
    it(`a pool that grants ${what}: the job's version only, no version bits, one line saying why`, async () => {
      const pool = await new ScriptedPool((p, _s, send) => p.notify(send, 'n1')).listen();
      pools.push(pool);
      pool.mask = mask;
      pool.difficulty = 0.001;
      const stop = new AbortController();
      const lines: string[] = [];
      await within('three shares', clientRun([pool.url], ({ client }) => {
        client.on('share', () => {
          if (pool.submitted.length >= 3) stop.abort();
        });
      }, stop.signal, (l) => lines.push(l)), 60_000);
      assert.ok(pool.submitted.every((s) => s.ok && s.version === 0x20000000 && s.params.length === 5));
      assert.equal(lines.filter((l) => reason.test(l)).length, 1, lines.join('\n'));
    });
  }

  it('set_extranonce: shares of later jobs carry the new extranonce1', async () => {
    const pool = await new ScriptedPool((p, _s, send) => {
      p.notify(send, 'a');
      setTimeout(() => {
        p.en1 = 'beefcafe';
        send({ id: null, method: 'mining.set_extranonce', params: ['beefcafe', 4] });
        p.notify(send, 'b');
      }, 300);
    }).listen();
    pools.push(pool);
    pool.difficulty = 0.001;
    const stop = new AbortController();
    await within('shares after set_extranonce', clientRun([pool.url], ({ client }) => {
      client.on('share', () => {
        if (pool.submitted.some((s) => (s.params as string[])[1] === 'b')) stop.abort();
      });
    }, stop.signal), 60_000);
    const after = pool.submitted.filter((s) => (s.params as string[])[1] === 'b');
    assert.ok(after.length >= 1 && after.every((s) => s.ok && s.en1 === 'beefcafe'));
  });

  it('fail-over to the second URL, then client.reconnect to another port', async () => {
    const [closedPort] = await freePorts(1);
    const second = await new ScriptedPool((p, _s, send) => p.notify(send, 'z')).listen();
    const first = await new ScriptedPool((p, _s, send) => send({ id: null, method: 'client.reconnect', params: ['127.0.0.1', second.port, 0] })).listen();
    pools.push(first, second);
    const stop = new AbortController();
    const warnings: string[] = [];
    const connectedTo: string[] = [];
    await within('a share at the pool it was sent to', clientRun([`stratum+tcp://127.0.0.1:${closedPort}`, first.url], ({ client }) => {
      client.on('warning', (w) => warnings.push(w));
      client.on('connected', (c) => connectedTo.push(c.url));
      client.on('share', () => stop.abort());
    }, stop.signal), 60_000);
    assert.deepEqual(connectedTo.slice(0, 2), [first.url, second.url]);
    assert.ok(warnings.some((w) => w.includes(`asked to reconnect to ${second.url}`)));
    assert.ok(second.submitted.length >= 1);
  });

  it("every form of a pool's reject reason is counted with its text", async () => {
    const forms: unknown[] = [
      { result: null, error: [23, 'Low difficulty share', null] },
      { result: false, error: 'Stale share' },
      { result: null, error: { code: 21, message: 'Job not found' } },
      { result: false, error: null, 'reject-reason': 'duplicate' },
    ];
    let i = 0;
    const pool = await new ScriptedPool((p, _s, send) => p.notify(send, 'r')).listen();
    pool.difficulty = 0.001;
    pool.answer = () => forms[i++ % forms.length];
    pools.push(pool);
    const stop = new AbortController();
    let rec: Recorder | undefined;
    await within('four answers', clientRun([pool.url], ({ recorder, client }) => {
      rec = recorder;
      client.on('share', () => {
        if (i >= 4) stop.abort();
      });
    }, stop.signal), 60_000);
    const rejected = rec!.status().upstream!.sharesRejected;
    for (const text of ['Low difficulty share', 'Stale share', 'Job not found', 'duplicate']) assert.ok((rejected[text] ?? 0) >= 1, `${text}: ${JSON.stringify(rejected)}`);
  });

  it('garbage from the pool: one warning and a reconnect each, never a share for a bad job', async () => {
    const bad: Array<(p: ScriptedPool, send: (o: unknown) => void, socket: Socket) => void> = [
      (_p, _send, socket) => socket.write('{this is not json\n'),
      (p, send) => p.notify(send, 'short', true, { prevhash: 'abcd' }),
      (p, send) => p.notify(send, 'nothex', true, { version: '2000000g' }),
      (p, send) => p.notify(send, 'deep', true, { branch: Array.from({ length: 40 }, () => '00'.repeat(32)) }),
    ];
    let round = 0;
    const pool = await new ScriptedPool((p, socket, send) => {
      const step = bad[round++];
      if (step) step(p, send, socket);
      else p.notify(send, 'good');
    }).listen();
    pool.difficulty = 0.001;
    pools.push(pool);
    const stop = new AbortController();
    const warnings: string[] = [];
    await within('a share after four bad sessions', clientRun([pool.url], ({ client }) => {
      client.on('warning', (w) => warnings.push(w));
      client.on('share', () => stop.abort());
    }, stop.signal), 60_000);
    assert.equal(warnings.length, 4, warnings.join('\n'));
    assert.match(warnings[0]!, /sent invalid JSON; reconnecting$/);
    assert.match(warnings[1]!, /mining\.notify prevhash: expected 64 hex digits; reconnecting$/);
    assert.match(warnings[2]!, /mining\.notify version: expected 8 hex digits; reconnecting$/);
    assert.match(warnings[3]!, /merkle_branch: 40 hashes, more than any block has \(32\); reconnecting$/);
    assert.ok(pool.connections.length >= 5);
    assert.ok(pool.submitted.length >= 1 && pool.submitted.every((s) => (s.params as string[])[1] === 'good' && s.ok));
  });

  it('a pool that never answers the login: tried again and again, never logged in, never a crash', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const client = new StratumClient({ urls: [`stratum+tcp://127.0.0.1:${(silent.address() as { port: number }).port}`], user: 'u', password: 'x', userAgent: 't', requestTimeoutMs: 300, initialDelayMs: 50, maxDelayMs: 100 });
    let connected = 0;
    client.on('connected', () => connected++);
    client.start();
    // It keeps trying (a fresh connection each round) without ever logging in or crashing.
    let attempts = 0;
    await within('a second attempt', new Promise<void>((resolve) => silent.on('connection', () => ++attempts === 2 && resolve())), 10_000);
    await client.stop();
    silent.close();
    assert.equal(connected, 0);
  });
});
