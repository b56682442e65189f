// The GPU engine: kernels/sha256d-scan.wgsl behind the Engine interface, through WebGPU (the
// `webgpu` package, Dawn). Same semantics as the CPU engine: every nonce of the range whose
// SHA-256d is at or below the target is reported, with its hash, and nothing else.
//
// Three parts:
//  - gpu/device.ts: the adapter, the device, the kernel's pipeline and one set of buffers per
//    in-flight dispatch (default 2), the watch for loss and WebGPU errors, destroy().
//  - gpu/pacing.ts: the timing model: dispatch sizes (calibrated at start-up to about
//    `dispatchMs`), when to queue the next dispatch (shortly before the GPU runs dry, so a new
//    tip finds little stale work queued: WebGPU cannot cancel it) and when to ask for results
//    (sleep on a timer until a dispatch should be done, because the Node binding busy-polls
//    while a mapping is pending).
//  - this file: the scan loop that composes them, the start-up self-test and the Engine
//    interface (start, stop, close, events).
//
// How a scan runs:
//  - The host prepares the header once (midstate, first rounds, nonce-free schedule words).
//  - The kernel reports nonces whose hash passes a filter on its top 32 bits; the host
//    re-hashes each with node:crypto and compares the whole target, which is also where a
//    candidate's reported hash comes from. A dispatch whose result list overflowed is scanned
//    again in pieces small enough not to overflow, so no nonce is lost.
//  - stop() interrupts the wait: done is emitted at once with the nonces covered so far; the
//    dispatches still on the GPU are drained in the background before the next scan uses
//    their buffers.
//  - Device loss (driver reset, GPU removed): the scan in progress ends with an `error` event
//    (GpuDeviceLostError: the work is not finished, the scheduler must hand it out again) and
//    a `done` event with stopped: true; the next start() opens a new device on a fresh
//    adapter, so the engine itself stays usable.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';

import type { Engine, EngineEvents, ScanWork } from './engine.js';
import { loadWebGpu, type WebGpu } from './gpu/adapters.js';
import { GpuKernelError, type KernelShape, readKernel, ScanDevice, type Slot } from './gpu/device.js';
import { HEADER_PARAM_WORDS, headerScanParams, SCAN_PARAM_WORDS, targetTopWord } from './gpu/header-precompute.js';
import { type DispatchTiming, DispatchPacer, MAX_DISPATCH_NONCES, type NonceRange, overflowPieces } from './gpu/pacing.js';
import { DEFAULT_TUNING, type GpuTuning } from './gpu/tuning.js';
import { checkScanWork } from './work-checks.js';

export { gpuAdapters, GpuAdapterError, type GpuAdapterInfo } from './gpu/adapters.js';
export { GpuKernelError } from './gpu/device.js';
export { DEFAULT_TUNING, gpuTuningCandidates, type GpuTuning, tuningLabel, type TuningLimits } from './gpu/tuning.js';

/** The tuning (gpu/tuning.ts; DEFAULT_TUNING where absent) and what tests and sweeps may fix besides. */
export interface GpuEngineOptions extends Partial<GpuTuning> {
  /** --gpu-adapter: an index into gpuAdapters() or part of an adapter's name; the default adapter when absent. */
  readonly adapter?: string;
  /** Candidate nonces one dispatch can return (the kernel's RESULT_CAPACITY). */
  readonly resultCapacity?: number;
  /** A fixed dispatch size in nonces instead of the calibration (tests, tuning). */
  readonly dispatchNonces?: number;
}

/** The device went away during a scan; the work it had is not finished and must be handed out again. */
export class GpuDeviceLostError extends Error {
  override readonly name = 'GpuDeviceLostError';
  constructor(
    readonly workId: string,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** Counters for tests and benchmarks. */
export interface GpuEngineStats {
  /** Dispatches submitted, rescans included. */
  dispatches: number;
  /** Dispatches whose candidate list overflowed (and were scanned again in pieces). */
  overflows: number;
  /** Devices opened, the first included (more than one means a device was lost). */
  devices: number;
  /** Time spent with a mapping pending, when the binding polls (keep it small). */
  mapWaitMs: number;
}

interface InFlight extends NonceRange, DispatchTiming {
  readonly slot: Slot;
  /** The mapAsync once asked for; the background drain reuses it. */
  mapping?: Promise<void>;
}

const DEFAULT_RESULT_CAPACITY = 4096;

/** The genesis block header with its published nonce (2083236893): the start-up self-test. */
const GENESIS_HEADER_HEX =
  '0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c';
const GENESIS_NONCE = 2083236893;

function checkPositiveInt(field: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${field}: expected an integer 1..${max}, got ${value}`);
  }
  return value;
}

function sha256d(data: Uint8Array): Buffer {
  return createHash('sha256').update(createHash('sha256').update(data).digest()).digest();
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export class GpuEngine extends EventEmitter<EngineEvents> implements Engine {
  readonly kind = 'gpu';
  /** The adapter's name (for llvmpipe: its Mesa description). */
  readonly backend: string;
  /** One host thread feeds the device; --threads does not apply to the GPU. */
  readonly threads = 1;
  readonly workgroupSize: number;
  readonly noncesPerInvocation: number;
  readonly resultCapacity: number;
  readonly inFlight: number;
  readonly stats: GpuEngineStats = { dispatches: 0, overflows: 0, devices: 0, mapWaitMs: 0 };

  private readonly webgpu: WebGpu;
  private readonly adapterChoice: string | undefined;
  private readonly kernel: string;
  private readonly shape: KernelShape;
  private readonly pacer: DispatchPacer;
  private dev: ScanDevice;

  private running = false;
  private stopRequested = false;
  /** Set by stop(), a device loss or a WebGPU error: the scan's current wait ends at once. */
  private interrupted = false;
  private onInterrupt: (() => void) | undefined;
  private finished: Promise<void> = Promise.resolve();
  /** Settles once the previous scan's dispatches have left the GPU and their buffers are free. */
  private drained: Promise<void> = Promise.resolve();
  private closed = false;

  /** Opens the adapter and device, compiles the kernel, self-tests it and calibrates dispatches. */
  static async create(options: GpuEngineOptions = {}): Promise<GpuEngine> {
    const d = DEFAULT_TUNING;
    const shape: KernelShape = {
      workgroupSize: checkPositiveInt('workgroupSize', options.workgroupSize ?? d.workgroupSize, 1024),
      noncesPerInvocation: checkPositiveInt('noncesPerInvocation', options.noncesPerInvocation ?? d.noncesPerInvocation, 4096),
      resultCapacity: checkPositiveInt('resultCapacity', options.resultCapacity ?? DEFAULT_RESULT_CAPACITY, 1 << 20),
      inFlight: checkPositiveInt('inFlight', options.inFlight ?? d.inFlight, 8),
    };
    const dispatchMs = options.dispatchMs ?? d.dispatchMs;
    if (!(dispatchMs > 0 && dispatchMs <= 10_000)) throw new RangeError(`dispatchMs: expected 0 < ms <= 10000, got ${dispatchMs}`);
    if (options.dispatchNonces !== undefined) checkPositiveInt('dispatchNonces', options.dispatchNonces, MAX_DISPATCH_NONCES);

    const webgpu = await loadWebGpu();
    const kernel = await readKernel();
    const dev = await ScanDevice.open(webgpu, options.adapter, kernel, shape);
    const engine = new GpuEngine(webgpu, options.adapter, kernel, dev, shape);
    try {
      await engine.selfTest();
      await engine.calibrate(dispatchMs, options.dispatchNonces);
    } catch (err) {
      dev.destroy();
      throw err;
    }
    return engine;
  }

  private constructor(webgpu: WebGpu, adapterChoice: string | undefined, kernel: string, dev: ScanDevice, shape: KernelShape) {
    super();
    this.webgpu = webgpu;
    this.adapterChoice = adapterChoice;
    this.kernel = kernel;
    this.dev = dev;
    this.shape = shape;
    this.backend = dev.adapterName;
    this.workgroupSize = shape.workgroupSize;
    this.noncesPerInvocation = shape.noncesPerInvocation;
    this.resultCapacity = shape.resultCapacity;
    this.inFlight = shape.inFlight;
    this.pacer = new DispatchPacer({ granule: shape.workgroupSize * shape.noncesPerInvocation, inFlight: shape.inFlight });
    this.stats.devices = 1;
    this.watch(dev);
  }

  private watch(dev: ScanDevice): void {
    // A loss during close() is the destroy() we asked for; any other, and any WebGPU error, wakes the scan.
    dev.watch((cause) => {
      if (cause === 'fault' || !this.closed) this.wakeRunner();
    });
  }

  get busy(): boolean {
    return this.running;
  }

  /** Nonces per dispatch chosen by the calibration. */
  get dispatchNonces(): number {
    return this.pacer.dispatchNonces;
  }

  /** The configuration this engine runs with (for bench rows and sweeps). */
  get tuning(): GpuTuning {
    const { workgroupSize, noncesPerInvocation, inFlight } = this;
    return { workgroupSize, noncesPerInvocation, dispatchMs: this.pacer.dispatchMs, inFlight };
  }

  /** For tests of the loss path: destroys the device as a driver reset would lose it. */
  simulateDeviceLoss(): void {
    this.dev.destroy();
  }

  start(work: ScanWork): void {
    if (this.closed) throw new Error('gpu engine: start() after close()');
    if (this.running) throw new Error('gpu engine: start() while a scan is running; stop() it first');
    checkScanWork(work);
    this.running = true;
    this.stopRequested = false;
    this.interrupted = false;
    let resolveFinished: () => void = () => {};
    this.finished = new Promise((resolve) => {
      resolveFinished = resolve;
    });
    void this.runScan(work, resolveFinished);
  }

  private wakeRunner(): void {
    this.interrupted = true;
    this.onInterrupt?.();
  }

  /**
   * Waits for `pending` unless the scan is interrupted first (then: false). One callback slot
   * rather than Promise.race on a shared promise: races would pile reactions onto it, one per
   * dispatch, for as long as a scan runs.
   */
  private interruptible(pending: Promise<unknown>): Promise<boolean> {
    if (this.interrupted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      this.onInterrupt = () => resolve(false);
      pending.then(
        () => resolve(true),
        () => resolve(false),
      );
    }).finally(() => {
      this.onInterrupt = undefined;
    });
  }

  async stop(): Promise<void> {
    this.stopRequested = true;
    this.wakeRunner();
    await this.finished;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.stop();
    this.closed = true;
    await this.drained;
    this.dev.destroy();
  }

  // ---------------------------------------------------------------------------------------
  // The scan loop.

  private async runScan(work: ScanWork, resolveFinished: () => void): Promise<void> {
    const started = performance.now();
    const header = Buffer.from(work.header);
    const target = Buffer.from(work.target);
    const params = new Uint32Array(SCAN_PARAM_WORDS);
    params.set(headerScanParams(work.header), 0);
    params[HEADER_PARAM_WORDS + 2] = targetTopWord(work.target);

    let hashes = 0;
    let failure: Error | undefined;
    const inflight: InFlight[] = [];
    let dev = this.dev;
    try {
      await this.drained;
      dev = await this.ensureDevice();
      const end = work.start + work.count;
      let cursor = work.start;
      /** Pieces of overflowed dispatches, scanned before any fresh nonce. */
      const rescans: NonceRange[] = [];
      let freshLimit = MAX_DISPATCH_NONCES;
      const free = [...dev.slots];
      const canSubmit = () => free.length > 0 && (rescans.length > 0 || cursor < end);
      for (;;) {
        if (this.interrupted) break; // stop(), device loss or a WebGPU error
        // Keep the GPU fed, but queue a dispatch only shortly before the GPU would run dry, so
        // that stop() leaves little queued work behind (the queue cannot be cancelled).
        while (canSubmit() && this.pacer.shouldSubmit(inflight.length)) {
          let range = rescans.shift();
          if (range === undefined) {
            range = { first: cursor, count: Math.min(freshLimit, this.pacer.nextDispatchSize(), end - cursor) };
            cursor += range.count;
          }
          inflight.push(this.submit(dev, free.shift()!, range, params));
        }
        const head = inflight[0];
        if (head === undefined) break;
        const wake = this.pacer.nextWake(head, canSubmit());
        if (!(await this.sleepUntil(wake.at))) break;
        if (wake.then === 'submit') continue;
        const words = await this.collect(dev, head, inflight);
        if (words === undefined) break; // stopped or lost while waiting
        inflight.shift();
        free.push(head.slot);

        const qualifying = words[0]!;
        // With stopOnFound one qualifying nonce is enough: an overflow needs no rescan.
        if (qualifying > this.resultCapacity && !work.stopOnFound) {
          // More candidates than the list holds: scan the range again in pieces expected to
          // fill half the list each, and make this scan's later dispatches that small too.
          this.stats.overflows++;
          const parts = overflowPieces(head, qualifying, this.resultCapacity);
          rescans.unshift(...parts);
          freshLimit = Math.min(freshLimit, Math.max(this.resultCapacity, parts[0]!.count));
          continue;
        }
        const foundOne = this.report(work, header, target, words, params[HEADER_PARAM_WORDS + 2]!);
        hashes += head.count;
        this.emit('hashes', { workId: work.id, hashes: head.count });
        if (foundOne && work.stopOnFound) break;
      }
      failure = this.scanFailure(dev, work, hashes);
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
    }
    // Done first, so stop() returns within one wait; the dispatches still queued are drained after.
    this.drained = this.drain(dev, inflight.splice(0));
    this.running = false;
    if (failure) this.emit('error', failure);
    this.emit('done', {
      workId: work.id,
      hashes,
      seconds: (performance.now() - started) / 1000,
      stopped: hashes < work.count,
    });
    resolveFinished();
  }

  /**
   * Re-hashes the nonces a dispatch returned (`header` is a scratch copy of the work's) and
   * emits those at or below the target, in nonce order; true when one was. A nonce that fails the kernel's own filter means the
   * kernel cannot be trusted.
   */
  private report(work: ScanWork, header: Buffer, target: Buffer, words: Uint32Array, topWord: number): boolean {
    const nonces = Array.from(words.subarray(1, 1 + Math.min(words[0]!, this.resultCapacity))).sort((a, b) => a - b);
    let foundOne = false;
    for (const nonce of nonces) {
      header.writeUInt32LE(nonce, 76);
      const hash = sha256d(header).reverse();
      if (hash.readUInt32BE(0) > topWord) {
        throw new GpuKernelError(
          `gpu engine: the kernel reported nonce ${nonce}, whose hash ${hash.toString('hex')} fails its own filter (${this.backend}); its results cannot be trusted`,
        );
      }
      if (Buffer.compare(hash, target) <= 0) {
        this.emit('candidate', { workId: work.id, nonce, hash: hash.toString('hex') });
        foundOne = true;
        if (work.stopOnFound) break;
      }
    }
    return foundOne;
  }

  /** The error a scan that ended on a WebGPU error or a device loss reports (none after stop()). */
  private scanFailure(dev: ScanDevice, work: ScanWork, hashes: number): Error | undefined {
    if (dev.fault !== undefined) {
      const message =
        `gpu engine: WebGPU reported an error on ${this.backend} during work ${work.id} (${dev.fault.message.split('\n')[0]}); ` +
        `the scan ended after ${hashes} of ${work.count} nonces`;
      dev.fault = undefined;
      return new GpuKernelError(message);
    }
    if (dev.lost !== undefined && !this.stopRequested) {
      const { reason, message } = dev.lost;
      return new GpuDeviceLostError(
        work.id,
        String(reason),
        `gpu engine: the device (${this.backend}) was lost (${String(reason)}: ${message}) after ${hashes} of ${work.count} nonces of work ${work.id}; ` +
          'hand the work to another engine; the next start() opens a new device',
      );
    }
    return undefined;
  }

  /** The current device, or a new one (new adapter request) if the last was lost. */
  private async ensureDevice(): Promise<ScanDevice> {
    if (this.dev.lost === undefined) return this.dev;
    const dev = await ScanDevice.open(this.webgpu, this.adapterChoice, this.kernel, this.shape);
    this.dev = dev;
    this.stats.devices++;
    this.pacer.idle();
    this.watch(dev);
    return dev;
  }

  private submit(dev: ScanDevice, slot: Slot, range: NonceRange, params: Uint32Array): InFlight {
    dev.submit(slot, range, params);
    this.stats.dispatches++;
    return { ...this.pacer.planDispatch(range.count), first: range.first, slot };
  }

  /** Sleeps on a plain timer (no GPU promise pending, so no polling); false when interrupted. */
  private async sleepUntil(at: number): Promise<boolean> {
    const waitMs = at - this.pacer.now();
    if (waitMs < 1) return !this.interrupted;
    let timer: NodeJS.Timeout | undefined;
    const slept = await this.interruptible(new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs))));
    clearTimeout(timer);
    return slept;
  }

  /**
   * Maps `entry`'s read-back buffer (the caller has slept until it should be done) and returns
   * a copy of the candidate count and list; undefined when stop() or a device loss interrupted.
   */
  private async collect(dev: ScanDevice, entry: InFlight, inflight: readonly InFlight[]): Promise<Uint32Array | undefined> {
    const askedAt = this.pacer.now();
    entry.mapping = dev.map(entry.slot);
    let mapFailure: unknown;
    const mapped = entry.mapping.catch((err: unknown) => {
      mapFailure = err;
      throw err;
    });
    if (!(await this.interruptible(mapped))) {
      if (this.interrupted) return undefined; // the drain finishes this mapping
      // A mapping fails when its device is lost; the loss notice may come a moment later.
      await Promise.race([dev.lostNotice, sleep(1000)]);
      if (dev.lost !== undefined) return undefined;
      throw new GpuKernelError(`gpu engine: reading a dispatch's results failed on ${this.backend}: ${String(mapFailure)}`);
    }
    const doneAt = this.pacer.now();
    this.stats.mapWaitMs += doneAt - askedAt;
    const words = dev.readResults(entry.slot);
    entry.mapping = undefined;
    this.pacer.collected(entry, askedAt, doneAt, inflight);
    return words;
  }

  /** Lets dispatches abandoned by stop() finish, so their buffers can be reused. */
  private async drain(dev: ScanDevice, abandoned: InFlight[]): Promise<void> {
    for (const entry of abandoned) {
      if (dev.lost !== undefined) return;
      try {
        if (entry.mapping === undefined) {
          await sleep(entry.expectedDone - this.pacer.now());
          entry.mapping = dev.map(entry.slot);
        }
        await entry.mapping;
        entry.slot.readback.unmap();
      } catch {
        // The device went away meanwhile: the next start() opens a new one.
      } finally {
        entry.mapping = undefined;
      }
    }
    this.pacer.settled();
  }

  // ---------------------------------------------------------------------------------------
  // Start-up checks.

  /** One dispatch, waited for directly (start-up only: it may poll). */
  private async runOnce(range: NonceRange, params: Uint32Array): Promise<{ words: Uint32Array; ms: number }> {
    const slot = this.dev.slots[0]!;
    const t0 = this.pacer.now();
    this.submit(this.dev, slot, range, params);
    await this.dev.map(slot);
    const ms = this.pacer.now() - t0;
    const words = this.dev.readResults(slot);
    this.pacer.idle();
    this.pacer.settled();
    return { words, ms };
  }

  /** The genesis header's nonce must come back, and nothing else near it: catches a miscompiled kernel. */
  private async selfTest(): Promise<void> {
    const params = new Uint32Array(SCAN_PARAM_WORDS);
    params.set(headerScanParams(Buffer.from(GENESIS_HEADER_HEX, 'hex')), 0);
    params[HEADER_PARAM_WORDS + 2] = 0; // the genesis target's top word
    const first = GENESIS_NONCE - 2000;
    const { words } = await this.runOnce({ first, count: 4001 }, params);
    const found = Array.from(words.subarray(1, 1 + Math.min(words[0]!, this.resultCapacity)));
    if (words[0] !== 1 || found[0] !== GENESIS_NONCE) {
      throw new GpuKernelError(
        `gpu engine: self-test failed on ${this.backend}: the genesis header's nonce range ${first}..${first + 4000} gave [${found.join(', ')}], expected [${GENESIS_NONCE}]`,
      );
    }
  }

  /** Sizes dispatches to take about `dispatchMs`, measured on this device. */
  private async calibrate(dispatchMs: number, fixed: number | undefined): Promise<void> {
    const params = new Uint32Array(SCAN_PARAM_WORDS);
    params.set(headerScanParams(new Uint8Array(80)), 0);
    params[HEADER_PARAM_WORDS + 2] = 0; // practically nothing qualifies: pure hashing
    await this.pacer.calibrate(async (count) => (await this.runOnce({ first: 0, count }, params)).ms, dispatchMs, fixed);
  }
}
