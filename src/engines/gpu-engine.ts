// The GPU engine: kernels/sha256d-scan.wgsl behind the Engine interface, through WebGPU (the
// `webgpu` package, Dawn). Same semantics as the CPU engine: every nonce of the range whose
// SHA-256d is at or below the target is reported, with its hash, and nothing else.
//
// How a scan runs:
//  - The host prepares the header once (midstate, first rounds, nonce-free schedule words).
//  - The range is cut into dispatches sized to take about `dispatchMs` (calibrated at
//    start-up, then kept there as the speed estimate moves). Each in-flight dispatch has its
//    own parameter, result and read-back buffers (default 2 slots); the next dispatch is
//    queued when the GPU has about 30% of the current one left, so the GPU never runs dry
//    while the host reads results, and a new tip finds at most ~1.3 dispatches queued ahead
//    of it (WebGPU cannot cancel queued work).
//  - The kernel reports nonces whose hash passes a filter on its top 32 bits; the host
//    re-hashes each with node:crypto and compares the whole target, which is also where a
//    candidate's reported hash comes from. A dispatch whose result list overflowed is scanned
//    again in pieces small enough not to overflow, so no nonce is lost.
//  - Waiting: while a mapAsync or onSubmittedWorkDone promise is pending, the Node binding
//    polls Dawn from the event loop and keeps a core busy. So the host sleeps on an ordinary
//    timer until a dispatch should be done (a running estimate of the time per nonce) and
//    only then asks for the mapping, which then resolves after little or no polling. It
//    wakes a little late by default (the next dispatch is already queued) and a little early
//    every 8th dispatch, to notice a GPU that got faster; a mapping that had to wait shows
//    the GPU behind the estimate and corrects it.
//  - stop() interrupts the wait: done is emitted at once with the nonces covered so far; the
//    dispatches still on the GPU are drained in the background before the next scan uses
//    their buffers.
//  - Device loss (driver reset, GPU removed): the scan in progress ends with an `error` event
//    (GpuDeviceLostError: the work is not finished, the scheduler must hand it out again) and
//    a `done` event with stopped: true; the next start() opens a new device on a fresh
//    adapter, so the engine itself stays usable.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';

import type { Engine, EngineEvents, ScanWork } from './engine.js';
import { describeAdapter, loadWebGpu, selectAdapter, type WebGpu } from './gpu/adapters.js';
import { HEADER_PARAM_WORDS, headerScanParams, SCAN_PARAM_BYTES, SCAN_PARAM_WORDS, targetTopWord } from './gpu/header-precompute.js';
import { checkScanWork } from './work-checks.js';

export { gpuAdapters, GpuAdapterError, type GpuAdapterInfo } from './gpu/adapters.js';

const KERNEL_URL = new URL('../../../kernels/sha256d-scan.wgsl', import.meta.url);
const KERNEL_ENTRY = 'scanNonces';

export interface GpuEngineOptions {
  /** --gpu-adapter: an index into gpuAdapters() or part of an adapter's name; the default adapter when absent. */
  readonly adapter?: string;
  /** Invocations per workgroup (the kernel's WORKGROUP_SIZE). */
  readonly workgroupSize?: number;
  /** Nonces each invocation hashes (the kernel's NONCES_PER_INVOCATION). */
  readonly noncesPerInvocation?: number;
  /** Candidate nonces one dispatch can return (the kernel's RESULT_CAPACITY). */
  readonly resultCapacity?: number;
  /** Wanted duration of one dispatch; the start-up calibration sizes dispatches for it. */
  readonly dispatchMs?: number;
  /** A fixed dispatch size in nonces instead of the calibration (tests, tuning). */
  readonly dispatchNonces?: number;
  /** Dispatches queued on the GPU at once; 2 keeps it busy while the host reads results. */
  readonly inFlight?: number;
}

/** The kernel failed to compile, failed its start-up self-test or returned an impossible result. */
export class GpuKernelError extends Error {
  override readonly name = 'GpuKernelError';
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

interface Slot {
  readonly params: GPUBuffer;
  readonly results: GPUBuffer;
  readonly readback: GPUBuffer;
  readonly bindGroup: GPUBindGroup;
}

interface DeviceContext {
  readonly device: GPUDevice;
  readonly pipeline: GPUComputePipeline;
  readonly slots: readonly Slot[];
  lost: GPUDeviceLostInfo | undefined;
  /** The first validation or out-of-memory error WebGPU raised outside an error scope. */
  fault: GPUError | undefined;
}

interface Range {
  readonly first: number;
  readonly count: number;
}

interface InFlight extends Range {
  readonly slot: Slot;
  readonly submittedAt: number;
  readonly expectedMs: number;
  /** Moved later when a mapping shows the GPU behind the estimate. */
  expectedDone: number;
  /** Wake before the expected end (measures a faster GPU) rather than after it. */
  readonly probe: boolean;
  /** The mapAsync once asked for; the background drain reuses it. */
  mapping?: Promise<void>;
}

const DEFAULTS = {
  workgroupSize: 64,
  noncesPerInvocation: 16,
  resultCapacity: 4096,
  dispatchMs: 40,
  inFlight: 2,
} as const;

/** Largest dispatch: keeps invocation * NONCES_PER_INVOCATION and first + offset inside u32. */
const MAX_DISPATCH_NONCES = 2 ** 31;
const MAX_WORKGROUPS_PER_DIMENSION = 65535;
/**
 * When to ask for a dispatch's results, as a fraction of its expected time after its expected
 * end. Late by default: with another dispatch queued behind it the GPU does not idle, and a
 * mapping asked for after the work is done resolves without polling. Every PROBE_EVERY-th
 * dispatch wakes early instead, so that a GPU faster than the estimate is noticed.
 */
const LATE_WAKE = 0.05;
const EARLY_WAKE = -0.08;
const PROBE_EVERY = 8;
/**
 * The next dispatch is queued when the GPU has this fraction of a dispatch left: enough that
 * it never runs dry between two, little enough that a new tip waits on at most about
 * 1 + SUBMIT_LEAD dispatches of stale work (queued work cannot be cancelled).
 */
const SUBMIT_LEAD = 0.3;

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
  private ctx: DeviceContext;
  /** Nonces per fresh dispatch: calibrated, then kept at about dispatchMs as the estimate moves. */
  private dispatchNoncesValue: number;
  private dispatchMs: number = DEFAULTS.dispatchMs;
  /** A size the caller fixed (GpuEngineOptions.dispatchNonces): never resized. */
  private fixedDispatch = false;
  /** Running estimate of the GPU's time per nonce, for the timer waits. */
  private msPerNonce: number;
  /** When the GPU should be through everything submitted so far (estimate). */
  private gpuFreeAt = 0;
  /** When the last collected dispatch was seen done. */
  private lastDoneAt = 0;
  /** The last probe found the GPU faster than estimated: probe the next dispatch too. */
  private probeNext = false;

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
    const workgroupSize = checkPositiveInt('workgroupSize', options.workgroupSize ?? DEFAULTS.workgroupSize, 1024);
    const noncesPerInvocation = checkPositiveInt('noncesPerInvocation', options.noncesPerInvocation ?? DEFAULTS.noncesPerInvocation, 4096);
    const resultCapacity = checkPositiveInt('resultCapacity', options.resultCapacity ?? DEFAULTS.resultCapacity, 1 << 20);
    const inFlight = checkPositiveInt('inFlight', options.inFlight ?? DEFAULTS.inFlight, 8);
    const dispatchMs = options.dispatchMs ?? DEFAULTS.dispatchMs;
    if (!(dispatchMs > 0 && dispatchMs <= 10_000)) throw new RangeError(`dispatchMs: expected 0 < ms <= 10000, got ${dispatchMs}`);
    if (options.dispatchNonces !== undefined) checkPositiveInt('dispatchNonces', options.dispatchNonces, MAX_DISPATCH_NONCES);

    const webgpu = await loadWebGpu();
    let kernel: string;
    try {
      kernel = await readFile(KERNEL_URL, 'utf8');
    } catch (err) {
      throw new GpuKernelError(`gpu engine: cannot read the kernel ${KERNEL_URL.pathname} (${(err as Error).message})`);
    }
    const shape = { workgroupSize, noncesPerInvocation, resultCapacity, inFlight };
    const { ctx, adapterName } = await GpuEngine.openDevice(webgpu, options.adapter, kernel, shape);
    const engine = new GpuEngine(webgpu, options.adapter, kernel, ctx, adapterName, shape);
    try {
      await engine.selfTest();
      await engine.calibrate(dispatchMs, options.dispatchNonces);
    } catch (err) {
      ctx.device.destroy();
      throw err;
    }
    return engine;
  }

  private constructor(
    webgpu: WebGpu,
    adapterChoice: string | undefined,
    kernel: string,
    ctx: DeviceContext,
    adapterName: string,
    shape: { workgroupSize: number; noncesPerInvocation: number; resultCapacity: number; inFlight: number },
  ) {
    super();
    this.webgpu = webgpu;
    this.adapterChoice = adapterChoice;
    this.kernel = kernel;
    this.ctx = ctx;
    this.backend = adapterName;
    this.workgroupSize = shape.workgroupSize;
    this.noncesPerInvocation = shape.noncesPerInvocation;
    this.resultCapacity = shape.resultCapacity;
    this.inFlight = shape.inFlight;
    this.dispatchNoncesValue = shape.workgroupSize * shape.noncesPerInvocation;
    this.msPerNonce = 1e-4;
    this.stats.devices = 1;
    this.watchLoss(ctx);
  }

  private static async openDevice(
    webgpu: WebGpu,
    adapterChoice: string | undefined,
    kernel: string,
    shape: { workgroupSize: number; noncesPerInvocation: number; resultCapacity: number; inFlight: number },
  ): Promise<{ ctx: DeviceContext; adapterName: string }> {
    const { adapter } = await selectAdapter(webgpu.gpu, adapterChoice);
    const adapterName = describeAdapter(adapter, 0).name;
    const maxInvocations = adapter.limits.maxComputeInvocationsPerWorkgroup;
    if (shape.workgroupSize > maxInvocations || shape.workgroupSize > adapter.limits.maxComputeWorkgroupSizeX) {
      throw new RangeError(`workgroupSize: ${adapterName} allows at most ${maxInvocations} invocations per workgroup, got ${shape.workgroupSize}`);
    }
    // No timestamp queries: lavapipe's pass timestamps come out 3-6 times shorter than the
    // dispatch really takes, so the engine learns the GPU's speed from the mappings instead.
    const device = await adapter.requestDevice({ label: 'solominer gpu engine' });
    try {
      const module = device.createShaderModule({ label: 'sha256d-scan.wgsl', code: kernel });
      const info = await module.getCompilationInfo();
      const errors = info.messages.filter((m) => m.type === 'error');
      if (errors.length > 0) {
        throw new GpuKernelError(
          `gpu engine: kernels/sha256d-scan.wgsl does not compile on ${adapterName}: ${errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ')}`,
        );
      }
      const pipeline = await device
        .createComputePipelineAsync({
          label: 'sha256d nonce scan',
          layout: 'auto',
          compute: {
            module,
            entryPoint: KERNEL_ENTRY,
            constants: {
              WORKGROUP_SIZE: shape.workgroupSize,
              NONCES_PER_INVOCATION: shape.noncesPerInvocation,
              RESULT_CAPACITY: shape.resultCapacity,
            },
          },
        })
        .catch((err: unknown) => {
          throw new GpuKernelError(`gpu engine: cannot build the scan pipeline on ${adapterName}: ${(err as Error).message}`);
        });
      const usage = webgpu.constants.GPUBufferUsage;
      const resultBytes = 4 + 4 * shape.resultCapacity;
      const slots: Slot[] = [];
      for (let i = 0; i < shape.inFlight; i++) {
        const params = device.createBuffer({ label: `scan params ${i}`, size: SCAN_PARAM_BYTES, usage: usage.UNIFORM | usage.COPY_DST });
        const results = device.createBuffer({
          label: `scan results ${i}`,
          size: resultBytes,
          usage: usage.STORAGE | usage.COPY_SRC | usage.COPY_DST,
        });
        const readback = device.createBuffer({
          label: `scan readback ${i}`,
          size: resultBytes,
          usage: usage.MAP_READ | usage.COPY_DST,
        });

        const bindGroup = device.createBindGroup({
          label: `scan bindings ${i}`,
          layout: pipeline.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: params } },
            { binding: 1, resource: { buffer: results } },
          ],
        });
        slots.push({ params, results, readback, bindGroup });
      }
      return { ctx: { device, pipeline, slots, lost: undefined, fault: undefined }, adapterName };
    } catch (err) {
      device.destroy();
      throw err;
    }
  }

  private watchLoss(ctx: DeviceContext): void {
    void ctx.device.lost.then((info) => {
      ctx.lost = info;
      // A loss during close() is the destroy() we asked for; any other wakes the scan.
      if (!this.closed) this.wakeRunner();
    });
    // A WebGPU error outside an error scope would otherwise only reach stderr, and a scan
    // would go on with results that mean nothing: end the scan with it instead.
    ctx.device.addEventListener('uncapturederror', (event) => {
      ctx.fault ??= (event as GPUUncapturedErrorEvent).error;
      this.wakeRunner();
    });
  }

  get busy(): boolean {
    return this.running;
  }

  /** Nonces per dispatch chosen by the calibration. */
  get dispatchNonces(): number {
    return this.dispatchNoncesValue;
  }

  /** For tests of the loss path: destroys the device as a driver reset would lose it. */
  simulateDeviceLoss(): void {
    this.ctx.device.destroy();
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
    // Destroying the device is what lets the process exit: the binding keeps it alive otherwise.
    this.ctx.device.destroy();
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
    let ctx = this.ctx;
    try {
      await this.drained;
      ctx = await this.ensureDevice();
      const end = work.start + work.count;
      let cursor = work.start;
      /** Pieces of overflowed dispatches, scanned before any fresh nonce. */
      const rescans: Range[] = [];
      let freshLimit = MAX_DISPATCH_NONCES;
      const free = [...ctx.slots];
      const hasWork = () => rescans.length > 0 || cursor < end;
      for (;;) {
        if (this.interrupted) break; // stop(), device loss or a WebGPU error
        // Keep the GPU fed, but queue a dispatch only shortly before the GPU would run dry, so
        // that stop() leaves little queued work behind (the queue cannot be cancelled).
        while (free.length > 0 && hasWork() && (inflight.length === 0 || performance.now() >= this.submitDeadline())) {
          let range = rescans.shift();
          if (range === undefined) {
            this.resizeDispatch();
            range = { first: cursor, count: Math.min(freshLimit, this.dispatchNoncesValue, end - cursor) };
            cursor += range.count;
          }
          inflight.push(this.submit(ctx, free.shift()!, range, params));
        }
        const head = inflight[0];
        if (head === undefined) break;
        const collectAt = head.expectedDone + (head.probe ? EARLY_WAKE : LATE_WAKE) * head.expectedMs;
        const submitAt = free.length > 0 && hasWork() ? this.submitDeadline() : Infinity;
        if (submitAt < collectAt) {
          if (!(await this.sleepUntil(submitAt))) break;
          continue;
        }
        if (!(await this.sleepUntil(collectAt))) break;
        const words = await this.collect(ctx, head, inflight);
        if (words === undefined) break; // stopped or lost while waiting
        inflight.shift();
        free.push(head.slot);

        const qualifying = words[0]!;
        // With stopOnFound one qualifying nonce is enough: an overflow needs no rescan.
        if (qualifying > this.resultCapacity && !work.stopOnFound) {
          // More candidates than the list holds: scan the range again in pieces expected to
          // fill half the list each, and make this scan's later dispatches that small too.
          this.stats.overflows++;
          const pieces = Math.ceil(qualifying / (this.resultCapacity / 2));
          const size = Math.ceil(head.count / pieces);
          const parts: Range[] = [];
          for (let first = head.first; first < head.first + head.count; first += size) {
            parts.push({ first, count: Math.min(size, head.first + head.count - first) });
          }
          rescans.unshift(...parts);
          freshLimit = Math.min(freshLimit, Math.max(this.resultCapacity, size));
          continue;
        }
        const nonces = Array.from(words.subarray(1, 1 + Math.min(qualifying, this.resultCapacity))).sort((a, b) => a - b);
        let foundOne = false;
        const topWord = params[HEADER_PARAM_WORDS + 2]!;
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
        hashes += head.count;
        this.emit('hashes', { workId: work.id, hashes: head.count });
        if (foundOne && work.stopOnFound) break;
      }
      if (ctx.fault !== undefined) {
        failure = new GpuKernelError(
          `gpu engine: WebGPU reported an error on ${this.backend} during work ${work.id} (${ctx.fault.message.split('\n')[0]}); ` +
            `the scan ended after ${hashes} of ${work.count} nonces`,
        );
        ctx.fault = undefined;
      } else if (ctx.lost !== undefined && !this.stopRequested) {
        const { reason, message } = ctx.lost;
        failure = new GpuDeviceLostError(
          work.id,
          String(reason),
          `gpu engine: the device (${this.backend}) was lost (${String(reason)}: ${message}) after ${hashes} of ${work.count} nonces of work ${work.id}; ` +
            'hand the work to another engine; the next start() opens a new device',
        );
      }
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
    }
    // Done first, so stop() returns within one wait; the dispatches still queued are drained after.
    this.drained = this.drain(ctx, inflight.splice(0));
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

  /** The current device, or a new one (new adapter request) if the last was lost. */
  private async ensureDevice(): Promise<DeviceContext> {
    if (this.ctx.lost === undefined) return this.ctx;
    const shape = {
      workgroupSize: this.workgroupSize,
      noncesPerInvocation: this.noncesPerInvocation,
      resultCapacity: this.resultCapacity,
      inFlight: this.inFlight,
    };
    const { ctx } = await GpuEngine.openDevice(this.webgpu, this.adapterChoice, this.kernel, shape);
    this.ctx = ctx;
    this.stats.devices++;
    this.gpuFreeAt = 0;
    this.watchLoss(ctx);
    return ctx;
  }

  private submit(ctx: DeviceContext, slot: Slot, range: Range, params: Uint32Array): InFlight {
    params[HEADER_PARAM_WORDS] = range.first;
    params[HEADER_PARAM_WORDS + 1] = range.count;
    const { device } = ctx;
    device.queue.writeBuffer(slot.params, 0, params);
    const noncesPerWorkgroup = this.workgroupSize * this.noncesPerInvocation;
    const workgroups = Math.ceil(range.count / noncesPerWorkgroup);
    const x = Math.min(workgroups, MAX_WORKGROUPS_PER_DIMENSION);
    const y = Math.ceil(workgroups / x);
    const encoder = device.createCommandEncoder({ label: 'nonce scan' });
    encoder.clearBuffer(slot.results, 0, 4); // the candidate count
    const pass = encoder.beginComputePass({ label: 'sha256d nonce scan' });
    pass.setPipeline(ctx.pipeline);
    pass.setBindGroup(0, slot.bindGroup);
    pass.dispatchWorkgroups(x, y);
    pass.end();
    encoder.copyBufferToBuffer(slot.results, 0, slot.readback, 0, slot.readback.size);
    device.queue.submit([encoder.finish()]);
    this.stats.dispatches++;

    const now = performance.now();
    const expectedMs = range.count * this.msPerNonce;
    this.gpuFreeAt = Math.max(now, this.gpuFreeAt) + expectedMs;
    // With a single dispatch in flight a late wake would idle the GPU: always wake early then.
    const probe = this.inFlight === 1 || this.probeNext || this.stats.dispatches % PROBE_EVERY === 0;
    this.probeNext = false;
    return { ...range, slot, submittedAt: now, expectedMs, expectedDone: this.gpuFreeAt, probe };
  }

  /**
   * Keeps fresh dispatches at about dispatchMs as the speed estimate moves (another process
   * competing for a software GPU's cores, clocks): each dispatch costs the host a fixed
   * amount (about 1-2 ms on lavapipe), so dispatches much shorter than planned waste it.
   */
  private resizeDispatch(): void {
    if (this.fixedDispatch) return;
    const granule = this.workgroupSize * this.noncesPerInvocation;
    const wanted = Math.round(this.dispatchMs / this.msPerNonce / granule) * granule;
    this.dispatchNoncesValue = Math.min(MAX_DISPATCH_NONCES, Math.max(granule, wanted));
  }

  /** When the next dispatch should be queued: SUBMIT_LEAD of one dispatch before the GPU runs dry. */
  private submitDeadline(): number {
    return this.gpuFreeAt - SUBMIT_LEAD * this.dispatchNoncesValue * this.msPerNonce;
  }

  /** Sleeps on a plain timer (no GPU promise pending, so no polling); false when interrupted. */
  private async sleepUntil(at: number): Promise<boolean> {
    const waitMs = at - performance.now();
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
  private async collect(ctx: DeviceContext, entry: InFlight, inflight: readonly InFlight[]): Promise<Uint32Array | undefined> {
    const askedAt = performance.now();
    entry.mapping = entry.slot.readback.mapAsync(this.webgpu.constants.GPUMapMode.READ);
    let mapFailure: unknown;
    const mapped = entry.mapping.catch((err: unknown) => {
      mapFailure = err;
      throw err;
    });
    if (!(await this.interruptible(mapped))) {
      if (this.interrupted) return undefined; // the drain finishes this mapping
      // A mapping fails when its device is lost; the loss notice may come a moment later.
      await Promise.race([ctx.device.lost, sleep(1000)]);
      if (ctx.lost !== undefined) return undefined;
      throw new GpuKernelError(`gpu engine: reading a dispatch's results failed on ${this.backend}: ${String(mapFailure)}`);
    }
    const doneAt = performance.now();
    this.stats.mapWaitMs += doneAt - askedAt;
    const words = this.copyResults(entry.slot);
    entry.mapping = undefined;
    const polled = doneAt - askedAt > 1;
    if (polled) {
      // The mapping had to wait, so the GPU is behind the estimated timeline: move the
      // dispatches still queued later by as much.
      const behind = doneAt - entry.expectedDone;
      if (behind > 0) {
        for (const other of inflight) if (other !== entry) other.expectedDone += behind;
        this.gpuFreeAt += behind;
      }
    }

    // Learn the GPU's speed, from full-size dispatches only: a small one (a rescan piece, a
    // short range) is mostly fixed cost. A mapping that resolved at once only bounds the
    // dispatch's time from above (it may have finished long before), so it may only lower the
    // estimate; one that had to wait measured it; the probes' early wakes keep testing for a
    // faster GPU.
    const fullSize = entry.count >= this.dispatchNoncesValue / 2;
    if (fullSize) {
      const measured = (doneAt - Math.max(entry.submittedAt, this.lastDoneAt)) / entry.count;
      if (polled && measured > 0) {
        this.msPerNonce = 0.7 * this.msPerNonce + 0.3 * measured;
      } else if (entry.probe && measured > 0 && measured < this.msPerNonce) {
        // Done before the early wake: faster than thought. Take the bound and probe again
        // next time, until a probe has to wait (and so measures).
        this.msPerNonce = measured;
        this.probeNext = true;
      }
    }
    this.lastDoneAt = doneAt;
    return words;
  }

  /** The count and as much of the list as it fills, copied out of a mapped read-back buffer, which is then unmapped. */
  private copyResults(slot: Slot): Uint32Array {
    const mapped = slot.readback.getMappedRange();
    const listed = Math.min(new Uint32Array(mapped, 0, 1)[0]!, this.resultCapacity);
    const words = new Uint32Array(mapped.slice(0, 4 * (1 + listed)));
    slot.readback.unmap();
    return words;
  }

  /** Lets dispatches abandoned by stop() finish, so their buffers can be reused. */
  private async drain(ctx: DeviceContext, abandoned: InFlight[]): Promise<void> {
    for (const entry of abandoned) {
      if (ctx.lost !== undefined) return;
      try {
        if (entry.mapping === undefined) {
          await sleep(entry.expectedDone - performance.now());
          entry.mapping = entry.slot.readback.mapAsync(this.webgpu.constants.GPUMapMode.READ);
        }
        await entry.mapping;
        entry.slot.readback.unmap();
      } catch {
        // The device went away meanwhile: the next start() opens a new one.
      } finally {
        entry.mapping = undefined;
      }
    }
    this.lastDoneAt = performance.now();
  }

  // ---------------------------------------------------------------------------------------
  // Start-up checks.

  /** One dispatch, waited for directly (start-up only: it may poll). */
  private async runOnce(range: Range, params: Uint32Array): Promise<{ words: Uint32Array; ms: number }> {
    const slot = this.ctx.slots[0]!;
    const t0 = performance.now();
    this.submit(this.ctx, slot, range, params);
    await slot.readback.mapAsync(this.webgpu.constants.GPUMapMode.READ);
    const ms = performance.now() - t0;
    const words = this.copyResults(slot);
    this.gpuFreeAt = 0;
    this.lastDoneAt = performance.now();
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
    const granule = this.workgroupSize * this.noncesPerInvocation;
    let count = fixed ?? granule * 16;
    let { ms } = await this.runOnce({ first: 0, count }, params);
    // Grow until one dispatch is long enough to time, then scale to the wanted duration.
    while (fixed === undefined && ms < Math.min(dispatchMs / 2, 10) && count < MAX_DISPATCH_NONCES / 4) {
      count *= 4;
      ({ ms } = await this.runOnce({ first: 0, count }, params));
    }
    this.msPerNonce = ms / count;
    this.dispatchMs = dispatchMs;
    this.fixedDispatch = fixed !== undefined;
    this.dispatchNoncesValue = fixed ?? count;
    this.resizeDispatch();
  }
}
