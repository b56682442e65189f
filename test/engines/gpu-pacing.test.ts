// The GPU engine's timing model (src/engines/gpu/pacing.ts) without a GPU: a fake clock, and a
// simulated GPU that runs dispatches one after another at a rate the test sets (and changes).
// The simulated scan loop makes the same calls in the same order as GpuEngine.runScan
// (shouldSubmit, nextDispatchSize, planDispatch, nextWake, collected), so what it shows is what
// the engine does: calibration, resizing as the GPU gets slower or faster, the submit deadline
// that keeps the GPU fed while little work waits behind a stop, and the probes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  DispatchPacer,
  EARLY_WAKE,
  LATE_WAKE,
  MAX_DISPATCH_NONCES,
  overflowPieces,
  PROBE_EVERY,
  SUBMIT_LEAD,
  type DispatchTiming,
} from '../../src/engines/gpu/pacing.js';

const GRANULE = 1024;
const DISPATCH_MS = 40;

/** A clock that moves only when the test moves it. */
function fakeClock(start = 0): { now: () => number; set: (t: number) => void; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    set: (at) => {
      t = at;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

/** A dispatch's duration on a GPU with `msPerNonce` and a fixed cost per dispatch. */
const duration = (count: number, msPerNonce: number, overheadMs = 0.3) => overheadMs + count * msPerNonce;

/** A pacer calibrated on a GPU of constant speed, the clock advanced by each measurement. */
async function calibrated(msPerNonce: number, options: { inFlight?: number; fixed?: number } = {}) {
  const clock = fakeClock();
  const pacer = new DispatchPacer({ granule: GRANULE, inFlight: options.inFlight ?? 2, now: clock.now });
  const measured: number[] = [];
  await pacer.calibrate(
    async (count) => {
      measured.push(count);
      const ms = duration(count, msPerNonce);
      clock.advance(ms);
      return ms;
    },
    DISPATCH_MS,
    options.fixed,
  );
  return { pacer, clock, measured };
}

interface SimResult {
  pacer: DispatchPacer;
  dispatches: number;
  /** Time the GPU sat idle between dispatches, after the first, over its busy time. */
  idleShare: number;
  /** Time spent with a mapping pending (the binding would poll), over the run. */
  pollShare: number;
  /** The most GPU work queued ahead when a dispatch was submitted, after `warmup` dispatches. */
  maxQueuedMs: number;
  /** Duration of the last full-size dispatch (not the range's tail) at the GPU's true speed. */
  lastDispatchMs: number;
}

/**
 * Scans `total` nonces the way GpuEngine.runScan does, on a GPU whose time per nonce is
 * `rateAt(time)`; a mapping resolves `mapMs` after the later of the ask and the dispatch's end.
 */
async function simulate(rateAt: (t: number) => number, total: number, options: { inFlight?: number; warmup?: number } = {}): Promise<SimResult> {
  const inFlight = options.inFlight ?? 2;
  const warmup = options.warmup ?? 20;
  const clock = fakeClock();
  const pacer = new DispatchPacer({ granule: GRANULE, inFlight, now: clock.now });
  let gpuFreeAt = 0;
  let idle = 0;
  let busy = 0;
  let polled = 0;
  let maxQueuedMs = 0;
  let lastDispatchMs = 0;
  const runOnGpu = (count: number): number => {
    const t = clock.now();
    if (gpuFreeAt > 0 && t > gpuFreeAt) idle += t - gpuFreeAt;
    const start = Math.max(t, gpuFreeAt);
    const ms = duration(count, rateAt(start));
    busy += ms;
    gpuFreeAt = start + ms;
    return gpuFreeAt;
  };
  await pacer.calibrate(async (count) => {
    const t0 = clock.now();
    clock.set(runOnGpu(count));
    return clock.now() - t0;
  }, DISPATCH_MS);
  gpuFreeAt = 0; // the calibration waited for each dispatch: no idle time to count
  busy = 0;

  const started = clock.now();
  const inflight: Array<DispatchTiming & { doneAt: number }> = [];
  let cursor = 0;
  let free = inFlight;
  let dispatches = 0;
  while (cursor < total || inflight.length > 0) {
    while (free > 0 && cursor < total && pacer.shouldSubmit(inflight.length)) {
      const size = pacer.nextDispatchSize();
      const count = Math.min(size, total - cursor);
      cursor += count;
      if (count === size) lastDispatchMs = duration(count, rateAt(Math.max(clock.now(), gpuFreeAt)));
      if (dispatches >= warmup) maxQueuedMs = Math.max(maxQueuedMs, gpuFreeAt - clock.now());
      const timing = pacer.planDispatch(count);
      inflight.push({ ...timing, doneAt: runOnGpu(count) });
      free--;
      dispatches++;
    }
    const head = inflight[0]!;
    const wake = pacer.nextWake(head, free > 0 && cursor < total);
    clock.set(Math.max(clock.now(), wake.at));
    if (wake.then === 'submit') continue;
    const askedAt = clock.now();
    const doneAt = Math.max(askedAt, head.doneAt) + 0.1;
    polled += Math.max(0, head.doneAt - askedAt);
    clock.set(doneAt);
    pacer.collected(head, askedAt, doneAt, inflight);
    inflight.shift();
    free++;
  }
  const elapsed = clock.now() - started;
  return { pacer, dispatches, idleShare: idle / busy, pollShare: polled / elapsed, maxQueuedMs, lastDispatchMs };
}

const within = (actual: number, expected: number, share: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= share * expected, `${what}: ${actual} is not within ${share * 100}% of ${expected}`);

describe('GPU dispatch pacing', { timeout: 60_000 }, () => {
  describe('calibration', () => {
    it('grows the dispatch by 4 until it is long enough to time, then sizes it to dispatchMs', async () => {
      const rate = 1e-5; // 100 M nonces/s
      const { pacer, measured } = await calibrated(rate);
      assert.equal(measured[0], GRANULE * 16);
      for (let i = 1; i < measured.length; i++) assert.equal(measured[i], measured[i - 1]! * 4);
      // The last measurement is the first one at or above min(dispatchMs / 2, 10 ms).
      assert.ok(duration(measured.at(-1)!, rate) >= 10);
      assert.ok(duration(measured.at(-2)!, rate) < 10);
      assert.equal(pacer.dispatchNonces % GRANULE, 0);
      within(pacer.dispatchNonces * rate, DISPATCH_MS, 0.05, 'dispatch duration');
    });

    it('a slow GPU is measured once, and the dispatch never goes below one workgroup', async () => {
      const { pacer, measured } = await calibrated(1e-2); // 16384 nonces take 164 ms
      assert.equal(measured.length, 1);
      assert.equal(pacer.nextDispatchSize(), 4 * GRANULE); // 40 ms / 1e-2 ms = 4000 nonces, in granules
      const { pacer: crawl } = await calibrated(1);
      assert.equal(crawl.nextDispatchSize(), GRANULE);
    });

    it('a GPU too fast to time stops growing past 2^29 nonces and is capped at 2^31 per dispatch', async () => {
      const { pacer, measured } = await calibrated(1e-12);
      assert.ok(measured.at(-1)! >= MAX_DISPATCH_NONCES / 4 && measured.at(-2)! < MAX_DISPATCH_NONCES / 4, measured.join(' '));
      assert.equal(pacer.dispatchNonces, MAX_DISPATCH_NONCES);
    });

    it('a fixed dispatch size is measured once and never resized', async () => {
      const { pacer, measured } = await calibrated(1e-5, { fixed: 8192 });
      assert.deepEqual(measured, [8192]);
      assert.equal(pacer.nextDispatchSize(), 8192);
      const d = pacer.planDispatch(8192);
      // A mapping that had to wait 10x the estimate moves the estimate, not the size.
      pacer.collected(d, d.expectedDone, d.submittedAt + 10 * d.expectedMs, [d]);
      assert.ok(pacer.msPerNonce > 2 * 1e-5);
      assert.equal(pacer.nextDispatchSize(), 8192);
    });
  });

  describe('deadlines', () => {
    it('queues the next dispatch when SUBMIT_LEAD of one is left on the GPU', async () => {
      const { pacer, clock } = await calibrated(1e-5);
      clock.set(1000);
      const size = pacer.nextDispatchSize();
      const dispatchMs = size * pacer.msPerNonce;
      assert.equal(pacer.shouldSubmit(0), true, 'nothing queued: submit at once');
      const first = pacer.planDispatch(size);
      assert.equal(first.submittedAt, 1000);
      within(first.expectedDone, 1000 + dispatchMs, 1e-9, 'first expected end');
      within(pacer.submitDeadline(), first.expectedDone - SUBMIT_LEAD * dispatchMs, 1e-9, 'deadline');
      assert.equal(pacer.shouldSubmit(1), false);
      clock.set(pacer.submitDeadline() - 0.01);
      assert.equal(pacer.shouldSubmit(1), false);
      clock.set(pacer.submitDeadline());
      assert.equal(pacer.shouldSubmit(1), true);
      // Queued behind the first: its expected end follows the first's, not the clock.
      const second = pacer.planDispatch(size);
      within(second.expectedDone, first.expectedDone + dispatchMs, 1e-9, 'second expected end');
    });

    it('wakes late by default and early on every PROBE_EVERY-th dispatch', async () => {
      const { pacer } = await calibrated(1e-5);
      const size = pacer.nextDispatchSize();
      const planned = Array.from({ length: 3 * PROBE_EVERY }, () => pacer.planDispatch(size));
      const probes = planned.filter((d) => d.probe).length;
      assert.ok(probes >= 3 && probes <= 4, `${probes} probes in ${planned.length}`);
      for (const d of planned) {
        const wake = pacer.collectAt(d);
        const expected = d.expectedDone + (d.probe ? EARLY_WAKE : LATE_WAKE) * d.expectedMs;
        within(wake, expected, 1e-12, 'collect time');
        assert.equal(wake < d.expectedDone, d.probe);
      }
    });

    it('with one dispatch in flight every wake is early (a late one would idle the GPU)', async () => {
      const { pacer } = await calibrated(1e-5, { inFlight: 1 });
      for (let i = 0; i < 2 * PROBE_EVERY; i++) assert.equal(pacer.planDispatch(pacer.nextDispatchSize()).probe, true);
    });

    it('nextWake: a submit when the deadline comes before the collect, else the collect', async () => {
      const { pacer } = await calibrated(1e-5);
      const head = pacer.planDispatch(pacer.nextDispatchSize());
      assert.deepEqual(pacer.nextWake(head, true), { at: pacer.submitDeadline(), then: 'submit' });
      assert.deepEqual(pacer.nextWake(head, false), { at: pacer.collectAt(head), then: 'collect' });
      pacer.planDispatch(pacer.nextDispatchSize()); // the deadline is now past the head's end
      assert.equal(pacer.nextWake(head, true).then, 'collect');
    });

    it('after idle() the next dispatch is timed from now, not from the old queue', async () => {
      const { pacer, clock } = await calibrated(1e-5);
      const size = pacer.nextDispatchSize();
      pacer.planDispatch(size);
      pacer.planDispatch(size);
      pacer.idle(); // a new device, or a dispatch waited for directly
      clock.advance(1);
      const d = pacer.planDispatch(size);
      within(d.expectedDone, clock.now() + d.expectedMs, 1e-9, 'expected end after idle');
    });
  });

  describe('learning from mappings', () => {
    it('a mapping that had to wait moves the queued dispatches later and the estimate 30% towards the measurement', async () => {
      const { pacer, clock } = await calibrated(1e-5);
      const estimate = pacer.msPerNonce;
      const size = pacer.nextDispatchSize();
      const first = pacer.planDispatch(size);
      const second = pacer.planDispatch(size);
      const secondDone = second.expectedDone;
      // The GPU took twice the estimate: the mapping asked at the expected end waited that long.
      const doneAt = first.submittedAt + 2 * first.expectedMs;
      clock.set(doneAt);
      pacer.collected(first, first.expectedDone, doneAt, [first, second]);
      within(second.expectedDone, secondDone + (doneAt - first.expectedDone), 1e-9, 'queued dispatch moved');
      within(pacer.msPerNonce, 0.7 * estimate + 0.3 * 2 * estimate, 1e-9, 'estimate');
      assert.ok(pacer.nextDispatchSize() < size, 'slower GPU: smaller dispatches');
    });

    it('a mapping that resolved at once teaches nothing unless it was a probe; a probe lowers the estimate and probes again', async () => {
      const { pacer, clock } = await calibrated(1e-5);
      const estimate = pacer.msPerNonce;
      const size = pacer.nextDispatchSize();
      pacer.settled(0);
      let d = pacer.planDispatch(size);
      while (d.probe) d = pacer.planDispatch(size);
      const half = d.submittedAt + d.expectedMs / 2;
      clock.set(half);
      pacer.collected(d, half, half, [d]); // done long before: only an upper bound
      assert.equal(pacer.msPerNonce, estimate);

      pacer.idle();
      let probe = pacer.planDispatch(size);
      while (!probe.probe) probe = pacer.planDispatch(size);
      pacer.idle();
      probe = { ...probe, submittedAt: clock.now() };
      const early = clock.now() + 0.6 * probe.expectedMs; // done before the early wake
      clock.set(early);
      pacer.collected(probe, early, early, [probe]);
      within(pacer.msPerNonce, 0.6 * estimate, 1e-9, 'estimate after a fast probe');
      assert.equal(pacer.planDispatch(size).probe, true, 'the next dispatch probes again');
      assert.ok(pacer.nextDispatchSize() > size, 'faster GPU: larger dispatches');
    });

    it('small dispatches (rescan pieces, short ranges) teach nothing: they are mostly fixed cost', async () => {
      const { pacer } = await calibrated(1e-5);
      const estimate = pacer.msPerNonce;
      const small = pacer.planDispatch(GRANULE);
      pacer.collected(small, small.expectedDone, small.expectedDone + 50, [small]);
      assert.equal(pacer.msPerNonce, estimate);
    });

    it('a dispatch queued behind another is measured from the previous one’s end, not its submission', async () => {
      const { pacer } = await calibrated(1e-5);
      const size = pacer.nextDispatchSize();
      const first = pacer.planDispatch(size);
      const second = pacer.planDispatch(size);
      const estimate = pacer.msPerNonce;
      // Each took exactly 1.5x the estimate, back to back.
      const firstDone = first.submittedAt + 1.5 * first.expectedMs;
      pacer.collected(first, first.expectedDone, firstDone, [first, second]);
      const afterFirst = pacer.msPerNonce;
      pacer.collected(second, second.expectedDone, firstDone + 1.5 * second.expectedMs, [second]);
      within(afterFirst, 0.7 * estimate + 0.3 * 1.5 * estimate, 1e-9, 'after the first');
      within(pacer.msPerNonce, 0.7 * afterFirst + 0.3 * 1.5 * estimate, 1e-9, 'after the second');
    });

    it('after a stop, the drain settles the clock: the next scan is not charged for it', async () => {
      const { pacer, clock } = await calibrated(1e-5);
      const size = pacer.nextDispatchSize();
      pacer.planDispatch(size); // abandoned by stop(), drained in the background
      clock.advance(500);
      pacer.settled(); // the drain saw it done
      pacer.idle();
      const estimate = pacer.msPerNonce;
      clock.advance(2);
      const d = pacer.planDispatch(size);
      const doneAt = d.submittedAt + d.expectedMs * 1.0001;
      pacer.collected(d, doneAt - 2, doneAt, [d]);
      within(pacer.msPerNonce, estimate, 0.001, 'estimate unchanged by the drain');
    });
  });

  describe('a simulated scan', () => {
    const NONCES = 3e9; // some 30 s at 100 M nonces/s

    it('a steady GPU: never idle, dispatches of dispatchMs, little polling, little work queued ahead', async () => {
      const r = await simulate(() => 1e-5, NONCES);
      within(r.pacer.msPerNonce, 1e-5, 0.05, 'estimate');
      within(r.lastDispatchMs, DISPATCH_MS, 0.1, 'dispatch duration');
      assert.ok(r.idleShare < 0.005, `GPU idle ${(r.idleShare * 100).toFixed(2)}%`);
      // Asking for every mapping right after submitting would keep one pending (polled) nearly
      // all the time; the timer waits leave only the probes' early wakes.
      assert.ok(r.pollShare < 0.05, `mapping pending ${(r.pollShare * 100).toFixed(2)}% of the time`);
      // What a stop or a new tip waits behind: about SUBMIT_LEAD of a dispatch, plus the new one.
      assert.ok(r.maxQueuedMs < 0.5 * DISPATCH_MS, `${r.maxQueuedMs.toFixed(1)} ms queued ahead of a submit`);
    });

    it('a GPU that gets twice as slow: the estimate follows and dispatches shrink back to dispatchMs', async () => {
      const r = await simulate((t) => (t < 10_000 ? 1e-5 : 2e-5), NONCES);
      within(r.pacer.msPerNonce, 2e-5, 0.05, 'estimate');
      within(r.lastDispatchMs, DISPATCH_MS, 0.1, 'dispatch duration');
      assert.ok(r.idleShare < 0.005, `GPU idle ${(r.idleShare * 100).toFixed(2)}%`);
    });

    it('a GPU that gets twice as fast: the probes notice and dispatches grow back to dispatchMs', async () => {
      const r = await simulate((t) => (t < 10_000 ? 2e-5 : 1e-5), NONCES);
      within(r.pacer.msPerNonce, 1e-5, 0.05, 'estimate');
      within(r.lastDispatchMs, DISPATCH_MS, 0.1, 'dispatch duration');
      assert.ok(r.idleShare < 0.02, `GPU idle ${(r.idleShare * 100).toFixed(2)}%`);
    });

    it('one dispatch in flight: every wake is early, so the GPU idles only for the round trip', async () => {
      const r = await simulate(() => 1e-5, NONCES / 3, { inFlight: 1 });
      within(r.pacer.msPerNonce, 1e-5, 0.05, 'estimate');
      assert.ok(r.idleShare < 0.02, `GPU idle ${(r.idleShare * 100).toFixed(2)}%`);
      assert.equal(r.maxQueuedMs <= 0, true, 'nothing is ever queued ahead');
    });
  });

  describe('overflow pieces', () => {
    it('cuts an overflowed range into pieces expected to fill half the list each, covering it exactly', () => {
      const range = { first: 2 ** 32 - 10_000, count: 10_000 };
      const parts = overflowPieces(range, 700, 64); // 700 candidates, 32 per piece: 22 pieces
      assert.equal(parts.length, 22);
      assert.equal(parts[0]!.first, range.first);
      let next = range.first;
      for (const p of parts) {
        assert.equal(p.first, next);
        assert.ok(p.count > 0 && p.count <= Math.ceil(10_000 / 22));
        next += p.count;
      }
      assert.equal(next, 2 ** 32);
    });
  });
});
