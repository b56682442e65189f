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
import { type DispatchResults, GpuKernelError, type KernelShape, type KernelSources, readKernel, ScanDevice, type Slot, type VersionSource } from './gpu/device.js';
import { headerScanParams, KERNEL_MAX_VERSIONS, PARAM_TARGET_TOP_WORD, targetTopWord } from './gpu/header-precompute.js';
import { type DispatchTiming, DispatchPacer, MAX_DISPATCH_NONCES, type NonceRange, overflowPieces } from './gpu/pacing.js';
import { DEFAULT_TUNING, type GpuTuning } from './gpu/tuning.js';
import { KNOWN_ANSWERS, knownAnswerHeader, knownAnswerVersions } from './known-answers.js';
import { checkScanWork, scanHashes, scanVersions } from './work-checks.js';

export { gpuAdapters, GpuAdapterError, type GpuAdapterInfo } from './gpu/adapters.js';
export { GpuKernelError, type VersionSource } from './gpu/device.js';
export { DEFAULT_TUNING, gpuTuningCandidates, type GpuTuning, tuningLabel, type TuningLimits } from './gpu/tuning.js';

/** The tuning (gpu/tuning.ts; DEFAULT_TUNING where absent) and what tests and sweeps may fix besides. */
export interface GpuEngineOptions extends Partial<GpuTuning> {
  /** --gpu-adapter: an index into gpuAdapters() or part of an adapter's name; the default adapter when absent. */
  readonly adapter?: string;
  /** Candidate nonces one dispatch can return (the kernel's RESULT_CAPACITY). */
  readonly resultCapacity?: number;
  /**
   * A fixed dispatch size in nonces of work with `versions` versions per nonce, instead of the
   * calibration (tests, tuning); work with fewer versions gets proportionally more nonces.
   */
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

/** A queued dispatch: its nonces, and what the pacer planned (in headers hashed: nonces × versions). */
interface InFlight extends DispatchTiming {
  readonly range: NonceRange;
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
  /** Versions each nonce is hashed with when the work has them (the tuning's `versions`). */
  readonly versionsPerScan: number;
  /** The tuning's `subgroups`: use subgroup shuffles where the adapter allows (versionSource says where it does). */
  readonly subgroups: boolean;
  readonly stats: GpuEngineStats = { dispatches: 0, overflows: 0, devices: 0, mapWaitMs: 0 };

  private readonly webgpu: WebGpu;
  private readonly adapterChoice: string | undefined;
  private readonly kernel: KernelSources;
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
      versions: checkPositiveInt('versions', options.versions ?? d.versions, KERNEL_MAX_VERSIONS),
      subgroups: options.subgroups ?? d.subgroups,
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

  private constructor(webgpu: WebGpu, adapterChoice: string | undefined, kernel: KernelSources, dev: ScanDevice, shape: KernelShape) {
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
    this.versionsPerScan = shape.versions;
    this.subgroups = shape.subgroups;
    // The pacer counts headers hashed (nonces × versions): a dispatch of a scan with fewer
    // versions gets more nonces for the same duration.
    this.pacer = new DispatchPacer({ granule: shape.workgroupSize * shape.noncesPerInvocation * shape.versions, inFlight: shape.inFlight });
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

  /** Nonces per dispatch chosen by the calibration, for work with versionsPerScan versions. */
  get dispatchNonces(): number {
    return this.pacer.dispatchNonces / this.versionsPerScan;
  }

  /** The configuration this engine runs with (for bench rows and sweeps). */
  get tuning(): GpuTuning {
    const { workgroupSize, noncesPerInvocation, inFlight } = this;
    return { workgroupSize, noncesPerInvocation, dispatchMs: this.pacer.dispatchMs, inFlight, versions: this.versionsPerScan, subgroups: this.subgroups };
  }

  /**
   * How the kernel's lanes get the versions' entries in a scan with `versions` versions per
   * nonce on this device: `subgroup` (shuffles) or `load` (kernels/sha256d-scan.wgsl's header).
   */
  versionSource(versions: number = this.versionsPerScan): VersionSource {
    return this.dev.versionSource(versions);
  }

  /** Nonces of a fresh dispatch of a scan with `weight` versions: the pacer's size in headers, in whole workgroups. */
  private freshNonces(weight: number): number {
    const granule = this.workgroupSize * this.noncesPerInvocation;
    return Math.max(granule, Math.floor(this.pacer.nextDispatchSize() / weight / granule) * granule);
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
    const versions = scanVersions(work);
    const weight = versions.length;
    const params = headerScanParams(work.header, versions);
    params[PARAM_TARGET_TOP_WORD] = targetTopWord(work.target);

    let hashes = 0;
    let failure: Error | undefined;
    const inflight: InFlight[] = [];
    let dev = this.dev;
    try {
      await this.drained;
      dev = await this.ensureDevice();
      await dev.preparePipeline(weight);
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
            range = { first: cursor, count: Math.min(freshLimit, this.freshNonces(weight), end - cursor) };
            cursor += range.count;
          }
          inflight.push(this.submit(dev, free.shift()!, range, params, weight));
        }
        const head = inflight[0];
        if (head === undefined) break;
        const wake = this.pacer.nextWake(head, canSubmit());
        if (!(await this.sleepUntil(wake.at))) break;
        if (wake.then === 'submit') continue;
        const results = await this.collect(dev, head, inflight);
        if (results === undefined) break; // stopped or lost while waiting
        inflight.shift();
        free.push(head.slot);

        // With stopOnFound one qualifying pair is enough: an overflow needs no rescan.
        if (results.qualifying > this.resultCapacity && !work.stopOnFound) {
          // More candidates than the list holds: scan the range again in pieces expected to
          // fill half the list each, and make this scan's later dispatches that small too.
          this.stats.overflows++;
          const parts = overflowPieces(head.range, results.qualifying, this.resultCapacity);
          rescans.unshift(...parts);
          freshLimit = Math.min(freshLimit, Math.max(this.resultCapacity, parts[0]!.count));
          continue;
        }
        const foundOne = this.report(work, versions, header, target, results, params[PARAM_TARGET_TOP_WORD]!);
        hashes += head.range.count * weight;
        this.emit('hashes', { workId: work.id, hashes: head.range.count * weight });
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
      stopped: hashes < scanHashes(work),
    });
    resolveFinished();
  }

  /**
   * Re-hashes the (nonce, version) pairs a dispatch returned (`header` is a scratch copy of the
   * work's) and emits those at or below the target, in nonce order (then version order); true
   * when one was. A pair that fails the kernel's own filter, or names a version the work does
   * not have, means the kernel cannot be trusted.
   */
  private report(work: ScanWork, versions: readonly number[], header: Buffer, target: Buffer, results: DispatchResults, topWord: number): boolean {
    const pairs: [number, number][] = [];
    for (let i = 0; i + 1 < results.hits.length; i += 2) pairs.push([results.hits[i]!, results.hits[i + 1]!]);
    pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let foundOne = false;
    for (const [nonce, index] of pairs) {
      const version = versions[index];
      if (version === undefined) {
        throw new GpuKernelError(`gpu engine: the kernel reported version index ${index} of ${versions.length} (${this.backend}); its results cannot be trusted`);
      }
      header.writeUInt32LE(version, 0);
      header.writeUInt32LE(nonce, 76);
      const hash = sha256d(header).reverse();
      if (hash.readUInt32BE(0) > topWord) {
        throw new GpuKernelError(
          `gpu engine: the kernel reported nonce ${nonce} version ${version.toString(16)}, whose hash ${hash.toString('hex')} fails its own filter (${this.backend}); its results cannot be trusted`,
        );
      }
      if (Buffer.compare(hash, target) <= 0) {
        this.emit('candidate', { workId: work.id, nonce, version, hash: hash.toString('hex') });
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
        `the scan ended after ${hashes} of ${scanHashes(work)} hashes`;
      dev.fault = undefined;
      return new GpuKernelError(message);
    }
    if (dev.lost !== undefined && !this.stopRequested) {
      const { reason, message } = dev.lost;
      return new GpuDeviceLostError(
        work.id,
        String(reason),
        `gpu engine: the device (${this.backend}) was lost (${String(reason)}: ${message}) after ${hashes} of ${scanHashes(work)} hashes of work ${work.id}; ` +
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

  /** Queues `range` with `weight` versions per nonce; the pacer plans it in headers hashed. */
  private submit(dev: ScanDevice, slot: Slot, range: NonceRange, params: Uint32Array, weight: number): InFlight {
    dev.submit(slot, range, params, weight);
    this.stats.dispatches++;
    return { ...this.pacer.planDispatch(range.count * weight), range, slot };
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
  private async collect(dev: ScanDevice, entry: InFlight, inflight: readonly InFlight[]): Promise<DispatchResults | undefined> {
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
    const results = dev.readResults(entry.slot);
    entry.mapping = undefined;
    this.pacer.collected(entry, askedAt, doneAt, inflight);
    return results;
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
  private async runOnce(range: NonceRange, params: Uint32Array, versions: number): Promise<{ results: DispatchResults; ms: number }> {
    const slot = this.dev.slots[0]!;
    await this.dev.preparePipeline(versions);
    const t0 = this.pacer.now();
    this.submit(this.dev, slot, range, params, versions);
    await this.dev.map(slot);
    const ms = this.pacer.now() - t0;
    const results = this.dev.readResults(slot);
    this.pacer.idle();
    this.pacer.settled();
    return { results, ms };
  }

  /**
   * Catches a miscompiled kernel: the genesis header's nonce must come back, and nothing else
   * near it; and block 785530 (mined with rolled version bits), scanned with this engine's
   * versions per scan (at least two, its un-rolled version first), must come back with its real
   * version only.
   */
  private async selfTest(): Promise<void> {
    const genesis = Buffer.from(GENESIS_HEADER_HEX, 'hex');
    await this.expectOnly('the genesis header', headerScanParams(genesis), GENESIS_NONCE, [1], 0);
    const rolled = KNOWN_ANSWERS.find((k) => k.unrolledVersion !== undefined)!;
    const versions = knownAnswerVersions(rolled, Math.max(2, this.versionsPerScan));
    const params = headerScanParams(knownAnswerHeader(rolled), versions);
    await this.expectOnly(rolled.name, params, rolled.nonce, versions, versions.length - 1);
  }

  /** Scans 4001 nonces around `nonce`, which must come back alone, with version index `index`. */
  private async expectOnly(what: string, params: Uint32Array, nonce: number, versions: readonly number[], index: number): Promise<void> {
    params[PARAM_TARGET_TOP_WORD] = 0; // both headers' targets have a zero top word
    const first = nonce - 2000;
    const { results } = await this.runOnce({ first, count: 4001 }, params, versions.length);
    const got = [];
    for (let i = 0; i + 1 < results.hits.length; i += 2) got.push(`${results.hits[i]} version ${(versions[results.hits[i + 1]!] ?? NaN).toString(16)}`);
    const want = `${nonce} version ${versions[index]!.toString(16)}`;
    if (results.qualifying !== 1 || got[0] !== want) {
      throw new GpuKernelError(
        `gpu engine: self-test failed on ${this.backend}: ${what}, nonces ${first}..${first + 4000} with ${versions.length} version(s), gave [${got.join(', ')}], expected [${want}]`,
      );
    }
  }

  /** Sizes dispatches to take about `dispatchMs`, measured on this device. */
  private async calibrate(dispatchMs: number, fixed: number | undefined): Promise<void> {
    // With versionsPerScan versions, as most work has; the pacer counts headers hashed.
    const k = this.versionsPerScan;
    const versions = Array.from({ length: k }, (_, i) => (0x20000000 | (i << 13)) >>> 0);
    const params = headerScanParams(new Uint8Array(80), versions);
    params[PARAM_TARGET_TOP_WORD] = 0; // practically nothing qualifies: pure hashing
    const measure = async (hashes: number) => {
      const { ms } = await this.runOnce({ first: 0, count: Math.ceil(hashes / k) }, params, k);
      return ms;
    };
    await this.pacer.calibrate(measure, dispatchMs, fixed === undefined ? undefined : fixed * k);
  }
}
