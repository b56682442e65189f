// The dashboard's live feed: the hash-rate history ring and its chart columns, Server-Sent Events
// framing, and GET /events on a running recorder (history first, then status and samples; a found
// block pushed at once rather than at the next period).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { RateColumns, Ring } from '../../src/telemetry/rate-history.js';
import { Recorder, type TelemetryTiming } from '../../src/telemetry/recorder.js';
import { sseComment, sseFrame, SseFrameError, sseRetry } from '../../src/telemetry/sse.js';
import type { HistoryColumns, MinerStatus, RateSample } from '../../src/telemetry/status-document.js';
import { tempDir } from '../support/files.js';
import { openSse, parseSse } from '../support/sse.js';

const sample = (t: number, total: number, engines: Record<string, number>, workers?: Record<string, number>): RateSample => ({ t, total, engines, ...(workers && { workers }) });

describe('history ring', { timeout: 10_000 }, () => {
  it('keeps the last `capacity` items, oldest first', () => {
    const ring = new Ring<number>(3);
    assert.deepEqual(ring.toArray(), []);
    assert.equal(ring.last(), undefined);
    ring.push(1);
    ring.push(2);
    assert.deepEqual(ring.toArray(), [1, 2]);
    for (const n of [3, 4, 5]) ring.push(n);
    assert.deepEqual(ring.toArray(), [3, 4, 5]);
    assert.equal(ring.length, 3);
    assert.equal(ring.last(), 5);
    for (let n = 6; n < 1000; n++) ring.push(n);
    assert.deepEqual(ring.toArray(), [997, 998, 999], 'wraps any number of times');
  });

  it('refuses a capacity that is not a positive integer', () => {
    assert.throws(() => new Ring(0), /ring capacity: expected an integer >= 1, got 0/);
    assert.throws(() => new Ring(2.5), RangeError);
  });

  it('a day at 10 s is 8640 samples, and pushing more keeps it at that', () => {
    const ring = new Ring<RateSample>(8640);
    for (let i = 0; i < 9000; i++) ring.push(sample(i * 10_000, i, {}));
    assert.equal(ring.length, 8640);
    assert.equal(ring.toArray()[0]!.total, 360);
  });
});

describe('chart columns', { timeout: 10_000 }, () => {
  it('turns samples into uPlot columns: seconds, the total, then one series per engine and worker', () => {
    const c = RateColumns.fromSamples([sample(10_000, 5, { 'cpu/avx2': 5 }), sample(20_000, 9, { 'cpu/avx2': 6, 'gpu/vk': 3 }, { rig: 7 })], 10);
    const h = c.toJSON();
    assert.equal(h.intervalSeconds, 10);
    assert.deepEqual(h.t, [10, 20]);
    assert.deepEqual(
      h.series.map((s) => [s.key, s.kind, s.label, s.values]),
      [
        ['total', 'total', 'total', [5, 9]],
        ['engine:cpu/avx2', 'engine', 'cpu/avx2', [5, 6]],
        ['engine:gpu/vk', 'engine', 'gpu/vk', [null, 3]],
        ['worker:rig', 'worker', 'rig', [null, 7]],
      ],
    );
  });

  it('append says when a series is new (the chart must be rebuilt) and not otherwise', () => {
    const c = new RateColumns(10, 100);
    assert.equal(c.append(sample(0, 1, { a: 1 })), true);
    assert.equal(c.append(sample(10_000, 2, { a: 2 })), false);
    assert.equal(c.append(sample(20_000, 3, { a: 1 }, { w: 2 })), true);
    assert.equal(c.append(sample(30_000, 3, {})), false, 'a series missing from a sample gets a gap');
    assert.deepEqual(c.series.find((s) => s.key === 'engine:a')!.values, [1, 2, 1, null]);
  });

  it('never holds more than maxPoints, dropping the oldest of every series alike', () => {
    const c = new RateColumns(1, 3);
    for (let i = 0; i < 5; i++) c.append(sample(i * 1000, i, { e: i * 10 }));
    assert.deepEqual(c.t, [2, 3, 4]);
    assert.deepEqual(c.series.map((s) => s.values), [[2, 3, 4], [20, 30, 40]]);
  });

  it('columns from the server round-trip, and the page can go on appending to them', () => {
    const sent: HistoryColumns = JSON.parse(JSON.stringify(RateColumns.fromSamples([sample(1000, 4, { e: 4 })], 1)));
    const page = RateColumns.fromColumns(sent, 10);
    assert.equal(page.append(sample(2000, 5, { e: 5 })), false);
    assert.deepEqual(page.toJSON(), { intervalSeconds: 1, t: [1, 2], series: [{ key: 'total', kind: 'total', label: 'total', values: [4, 5] }, { key: 'engine:e', kind: 'engine', label: 'e', values: [4, 5] }] });
    assert.deepEqual(RateColumns.fromColumns({ intervalSeconds: 10, t: [], series: [] }, 5).series.map((s) => s.key), ['total'], 'a total series always exists');
  });
});

describe('SSE framing', { timeout: 10_000 }, () => {
  it('one event: event line, a data line per line of data, a blank line', () => {
    assert.equal(sseFrame('status', '{"a":1}'), 'event: status\ndata: {"a":1}\n\n');
    assert.equal(sseFrame('x', 'one\ntwo\r\nthree\rfour', '7'), 'id: 7\nevent: x\ndata: one\ndata: two\ndata: three\ndata: four\n\n');
    assert.equal(sseFrame('x', ''), 'event: x\ndata: \n\n');
    assert.equal(sseComment('keep\nalive'), ': keep alive\n\n');
    assert.equal(sseRetry(2999.6), 'retry: 3000\n\n');
  });

  it('reads back, through an independent parser, exactly what was framed', () => {
    const payloads = ['{"t":1}', 'line one\nline two', ' leading space', 'data: inside', ':colon first', ''];
    const stream = sseRetry(1500) + sseComment('hello') + payloads.map((p, i) => sseFrame(`e${i}`, p)).join('');
    const parsed = parseSse(stream);
    assert.equal(parsed.retry, 1500);
    assert.deepEqual(parsed.comments, ['hello']);
    assert.deepEqual(parsed.events.map((e) => e.event), payloads.map((_, i) => `e${i}`));
    // The format cannot tell "\r\n" from "\n" inside data: both come back as "\n".
    assert.deepEqual(parsed.events.map((e) => e.data), payloads);
    assert.equal(parsed.rest, '');
  });

  it('a partial event stays in `rest` until its blank line arrives', () => {
    const frame = sseFrame('status', '{"x":2}');
    const first = parseSse(frame.slice(0, 20));
    assert.deepEqual(first.events, []);
    assert.deepEqual(parseSse(first.rest + frame.slice(20)).events, [{ event: 'status', data: '{"x":2}' }]);
  });

  it('refuses an event name or id that would break the stream', () => {
    assert.throws(() => sseFrame('a\nb', 'x'), SseFrameError);
    assert.throws(() => sseFrame('', 'x'), /sse event name: expected one non-empty line/);
    assert.throws(() => sseFrame('a', 'x', 'i\nd'), /sse id: expected one line without NUL/);
  });
});

async function withRecorder<T>(timing: TelemetryTiming, fn: (rec: Recorder) => Promise<T>): Promise<T> {
  const { dir, cleanup } = await tempDir();
  const rec = await Recorder.start({
    config: { network: 'regtest', reportDir: join(dir, 'reports'), metricsPort: 0, metricsHost: '127.0.0.1', logFormat: 'json' },
    log: () => undefined,
    timing,
  });
  try {
    return await fn(rec);
  } finally {
    await rec.close();
    await cleanup();
  }
}

describe('GET /events on a running recorder', { timeout: 60_000 }, () => {
  it('sends retry, the history, the status; then samples; a found block at once, not at the next push', async () => {
    // Status pushes a minute apart: a block that reaches the stream within seconds was pushed at once.
    await withRecorder({ historyIntervalMs: 1000, statusPushIntervalMs: 60_000 }, async (rec) => {
      rec.workSwitch({ job: { height: 101, bits: 0x207fffff, previousBlockHash: 'ab'.repeat(32), txCount: 4, coinbaseValue: 5_000_000_000 + 7_000 }, reason: 'zmq', newTip: true, latencyMs: 2, overheadMs: 1 });
      rec.hashes('cpu', 'avx2', 1_000_000);
      const stream = await openSse(`${rec.metricsUrl}/events`);
      try {
        const history = await stream.next((e) => e.event === 'history');
        const columns = JSON.parse(history.data) as HistoryColumns;
        assert.equal(columns.intervalSeconds, 1);
        assert.equal(columns.series[0]!.key, 'total');
        const first = await stream.next((e) => e.event === 'status');
        assert.equal(stream.events.indexOf(history) + 1, stream.events.indexOf(first), 'status right after the history');
        assert.equal(stream.retry(), 3000);
        const status = JSON.parse(first.data) as MinerStatus;
        assert.deepEqual(status.job, {
          height: 101,
          transactions: 3,
          coinbaseValueSats: 5_000_007_000,
          feesSats: 7_000,
          subsidySats: 5_000_000_000,
          networkDifficulty: status.job!.networkDifficulty,
          tipSeenAt: status.job!.tipSeenAt,
          tipAgeSeconds: status.job!.tipAgeSeconds,
        });
        assert.deepEqual(status.foundBlocks, []);

        const s = await stream.next((e) => e.event === 'sample');
        const point = JSON.parse(s.data) as RateSample;
        assert.ok(point.engines['cpu/avx2']! > 0, s.data);
        assert.equal(point.total, point.engines['cpu/avx2']);

        const block = { height: 101, hash: 'ef'.repeat(32), engine: 'cpu', backend: 'avx2' };
        const mark = stream.events.length;
        rec.blockFound(block);
        rec.blockOutcome(block, 'accepted');
        const pushed = await stream.next((e) => e.event === 'status' && (JSON.parse(e.data) as MinerStatus).foundBlocks.some((b) => b.outcome === 'accepted'), 10_000, mark);
        const found = (JSON.parse(pushed.data) as MinerStatus).foundBlocks;
        assert.deepEqual(found.map((b) => [b.height, b.hash, b.outcome]), [[101, 'ef'.repeat(32), 'accepted']]);
      } finally {
        stream.close();
      }
    });
  });

  it('the fees of a job are its coinbase value beyond the subsidy (regtest halves every 150 blocks)', async () => {
    await withRecorder({}, async (rec) => {
      rec.workSwitch({ job: { height: 300, bits: 0x207fffff, previousBlockHash: 'cd'.repeat(32), txCount: 41, coinbaseValue: 1_250_000_000 + 123_456 }, reason: 'refresh', newTip: false, latencyMs: 2, overheadMs: 1 });
      const job = rec.status().job!;
      assert.equal(job.subsidySats, 1_250_000_000);
      assert.equal(job.feesSats, 123_456);
      assert.equal(job.transactions, 40);
    });
  });

  it('the history ring is bounded by historyCapacity, and a new stream gets it whole', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval', 'Date'], now: 1_700_000_000_000 });
    await withRecorder({ historyIntervalMs: 1000, historyCapacity: 5 }, async (rec) => {
      rec.hashes('cpu', 'scalar', 10);
      for (let i = 0; i < 12; i++) t.mock.timers.tick(1000);
      const samples = rec.historySamples();
      assert.equal(samples.length, 5);
      assert.deepEqual(samples.map((s) => s.t), [8, 9, 10, 11, 12].map((k) => 1_700_000_000_000 + k * 1000));
      const stream = await openSse(`${rec.metricsUrl}/events`);
      try {
        const columns = JSON.parse((await stream.next((e) => e.event === 'history')).data) as HistoryColumns;
        assert.deepEqual(columns.t, samples.map((s) => s.t / 1000));
        assert.deepEqual(columns.series.map((s) => s.key), ['total', 'engine:cpu/scalar']);
      } finally {
        stream.close();
      }
    });
  });

  it('recent errors: newest first, at most 10; found blocks at most 20', async () => {
    await withRecorder({}, async (rec) => {
      for (let i = 0; i < 12; i++) rec.error('node-warning', 'warning', `warning ${i}`, 'kept mining');
      for (let i = 0; i < 25; i++) rec.blockFound({ height: i, hash: String(i).padStart(64, '0'), engine: 'cpu', backend: 'x' });
      const s = rec.status();
      assert.deepEqual(s.recentErrors.map((e) => e.message), [11, 10, 9, 8, 7, 6, 5, 4, 3, 2].map((i) => `warning ${i}`));
      assert.equal(s.errors, 12);
      assert.equal(s.foundBlocks.length, 20);
      assert.equal(s.foundBlocks[0]!.height, 24);
      assert.ok(s.foundBlocks.every((b) => b.outcome === 'pending'));
    });
  });
});
