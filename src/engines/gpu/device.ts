// The GPU engine's device: the adapter it runs on, the WebGPU device, the scan kernel's
// modules (one per version source it can use) and pipelines (one per number of versions), the
// buffers of each in-flight dispatch, the watch for device loss and WebGPU errors, and
// destroy(). The scan loop, the self-test and the timing model are elsewhere (gpu-engine.ts,
// gpu/pacing.ts).
import { readFile } from 'node:fs/promises';

import { describeAdapter, selectAdapter, type WebGpu } from './adapters.js';
import { PARAM_COUNT, PARAM_FIRST, SCAN_PARAM_BYTES } from './header-precompute.js';
import type { NonceRange } from './pacing.js';

const KERNEL_DIR = new URL('../../../../kernels/', import.meta.url);
/** The scan kernel and its two version sources (kernels/sha256d-scan.wgsl's header says how they fit). */
const KERNEL_FILES = { scan: 'sha256d-scan.wgsl', load: 'sha256d-versions-load.wgsl', subgroup: 'sha256d-versions-subgroup.wgsl' } as const;
const KERNEL_ENTRY = 'scanNonces';
const MAX_WORKGROUPS_PER_DIMENSION = 65535;
/** WebGPU's default maxComputeInvocationsPerWorkgroup and maxComputeWorkgroupSizeX. */
const DEFAULT_MAX_WORKGROUP = 256;

/** The kernel failed to compile, failed its start-up self-test or returned an impossible result. */
export class GpuKernelError extends Error {
  override readonly name = 'GpuKernelError';
}

/** The kernel's override constants and the number of dispatch slots: fixed for a device's life. */
export interface KernelShape {
  readonly workgroupSize: number;
  readonly noncesPerInvocation: number;
  readonly resultCapacity: number;
  readonly inFlight: number;
  /** Versions per nonce of the engine's work (the kernel's VERSIONS); a pipeline for 1 is built too. */
  readonly versions: number;
  /** Use the subgroup version source where the adapter allows it (GpuTuning.subgroups). */
  readonly subgroups: boolean;
}

/** How a pipeline's lanes get each version's entry: kernels/sha256d-versions-<source>.wgsl. */
export type VersionSource = keyof Omit<KernelSources, 'scan'>;

/** The texts of the kernel's files. */
export interface KernelSources {
  readonly scan: string;
  readonly load: string;
  readonly subgroup: string;
}

/** What one dispatch returned: how many (nonce, version) pairs qualified, and as many as the list holds. */
export interface DispatchResults {
  /** Qualifying pairs counted by the kernel (more than the list holds when it overflowed). */
  readonly qualifying: number;
  /** The listed pairs, flattened: nonce, version index, nonce, version index, ... */
  readonly hits: Uint32Array;
}

/** Bytes of a results buffer: the count, a pad word, then `capacity` (nonce, version index) pairs. */
export function resultBytes(capacity: number): number {
  return 8 + 8 * capacity;
}

/** The buffers of one in-flight dispatch. */
export interface Slot {
  readonly params: GPUBuffer;
  readonly results: GPUBuffer;
  readonly readback: GPUBuffer;
  readonly bindGroup: GPUBindGroup;
}

/** The WGSL sources of the scan kernel. */
export async function readKernel(): Promise<KernelSources> {
  const read = async (file: string) => {
    const url = new URL(file, KERNEL_DIR);
    try {
      return await readFile(url, 'utf8');
    } catch (err) {
      throw new GpuKernelError(`gpu engine: cannot read the kernel ${url.pathname} (${(err as Error).message})`);
    }
  };
  const [scan, load, subgroup] = await Promise.all([read(KERNEL_FILES.scan), read(KERNEL_FILES.load), read(KERNEL_FILES.subgroup)]);
  return { scan, load, subgroup };
}

/**
 * The version source of a pipeline hashing `versions` versions per nonce in workgroups of
 * `workgroupSize`: the subgroup one when it was compiled (`subgroupSize`: the adapter's smallest
 * subgroup) and `versions` is a power of two that fits in it and divides the workgroup, so that
 * the kernel's groups of VERSIONS lanes are whole and never straddle subgroups (subgroup sizes
 * are powers of two, and a workgroup's last subgroup may be partly filled); the load one otherwise.
 */
export function versionSourceFor(versions: number, subgroupSize: number | undefined, workgroupSize: number): VersionSource {
  const powerOfTwo = Number.isInteger(versions) && versions >= 1 && (versions & (versions - 1)) === 0;
  const fits = subgroupSize !== undefined && versions <= subgroupSize && workgroupSize % versions === 0;
  return powerOfTwo && fits ? 'subgroup' : 'load';
}

export class ScanDevice {
  /** Set once the device is lost (a driver reset, a GPU removed, or destroy()). */
  lost: GPUDeviceLostInfo | undefined;
  /** The first validation or out-of-memory error WebGPU raised outside an error scope. */
  fault: GPUError | undefined;

  private constructor(
    private readonly webgpu: WebGpu,
    readonly adapterName: string,
    private readonly shape: KernelShape,
    private readonly device: GPUDevice,
    /** One module per version source compiled here: always `load`, `subgroup` where usable. */
    private readonly modules: ReadonlyMap<VersionSource, GPUShaderModule>,
    /** The adapter's smallest subgroup when the subgroup module was compiled. */
    private readonly subgroupSize: number | undefined,
    private readonly layout: GPUPipelineLayout,
    /** One pipeline per number of versions (the kernel's VERSIONS): the engine's K and 1 from the start. */
    private readonly pipelines: Map<number, GPUComputePipeline>,
    readonly slots: readonly Slot[],
  ) {}

  /**
   * Picks the adapter (`adapterChoice`: see selectAdapter), opens a device on it (with the
   * `subgroups` feature when the shape wants it and the adapter has it), compiles the kernel
   * with each version source it can use, builds the pipelines with `shape`'s constants and
   * creates one set of buffers per in-flight dispatch.
   */
  static async open(webgpu: WebGpu, adapterChoice: string | undefined, kernel: KernelSources, shape: KernelShape): Promise<ScanDevice> {
    const { adapter } = await selectAdapter(webgpu.gpu, adapterChoice);
    const adapterName = describeAdapter(adapter, 0).name;
    const maxInvocations = adapter.limits.maxComputeInvocationsPerWorkgroup;
    if (shape.workgroupSize > maxInvocations || shape.workgroupSize > adapter.limits.maxComputeWorkgroupSizeX) {
      throw new RangeError(`workgroupSize: ${adapterName} allows at most ${maxInvocations} invocations per workgroup, got ${shape.workgroupSize}`);
    }
    // No timestamp queries: lavapipe's pass timestamps come out 3-6 times shorter than the
    // dispatch really takes, so the engine learns the GPU's speed from the mappings instead.
    // A device gets WebGPU's default limits (256 invocations per workgroup) unless it asks for
    // more, which the adapter may allow: ask only when the workgroup needs it.
    const requiredLimits =
      shape.workgroupSize > DEFAULT_MAX_WORKGROUP
        ? { maxComputeInvocationsPerWorkgroup: shape.workgroupSize, maxComputeWorkgroupSizeX: shape.workgroupSize }
        : undefined;
    // The subgroup version source needs the feature and the smallest subgroup size it may get.
    const minSubgroup = adapter.info.subgroupMinSize;
    const subgroups = shape.subgroups && adapter.features.has('subgroups') && minSubgroup !== undefined && minSubgroup >= 1;
    const device = await adapter.requestDevice({
      label: 'solominer gpu engine',
      ...(requiredLimits && { requiredLimits }),
      ...(subgroups && { requiredFeatures: ['subgroups'] }),
    });
    try {
      const modules = new Map<VersionSource, GPUShaderModule>();
      for (const source of subgroups ? (['load', 'subgroup'] as const) : (['load'] as const)) {
        modules.set(source, await compileKernel(device, adapterName, kernel, source));
      }
      const subgroupSize = subgroups ? minSubgroup : undefined;
      // One explicit layout, so that every pipeline (one per number of versions) takes the
      // same bind groups.
      const usage = webgpu.constants.GPUShaderStage;
      const bindings = device.createBindGroupLayout({
        label: 'scan bindings',
        entries: [
          { binding: 0, visibility: usage.COMPUTE, buffer: { type: 'uniform' } },
          { binding: 1, visibility: usage.COMPUTE, buffer: { type: 'storage' } },
        ],
      });
      const layout = device.createPipelineLayout({ label: 'scan layout', bindGroupLayouts: [bindings] });
      const pipelines = new Map<number, GPUComputePipeline>();
      for (const versions of new Set([shape.versions, 1])) {
        const module = modules.get(versionSourceFor(versions, subgroupSize, shape.workgroupSize))!;
        pipelines.set(versions, await buildPipeline(device, adapterName, module, layout, shape, versions));
      }
      const slots = Array.from({ length: shape.inFlight }, (_, i) => createSlot(webgpu, device, bindings, shape, i));
      return new ScanDevice(webgpu, adapterName, shape, device, modules, subgroupSize, layout, pipelines, slots);
    } catch (err) {
      device.destroy();
      throw err;
    }
  }

  /** Which version source the pipeline for `versions` versions per nonce uses. */
  versionSource(versions: number): VersionSource {
    return versionSourceFor(versions, this.subgroupSize, this.shape.workgroupSize);
  }

  /** Makes sure a pipeline for `versions` versions per nonce exists (built on first use). */
  async preparePipeline(versions: number): Promise<void> {
    if (this.pipelines.has(versions)) return;
    const module = this.modules.get(this.versionSource(versions))!;
    this.pipelines.set(versions, await buildPipeline(this.device, this.adapterName, module, this.layout, this.shape, versions));
  }

  /**
   * Calls `wake` when the device is lost or WebGPU raises an error outside an error scope.
   * Such an error would otherwise only reach stderr, and a scan would go on with results that
   * mean nothing.
   */
  watch(wake: (cause: 'lost' | 'fault') => void): void {
    void this.device.lost.then((info) => {
      this.lost = info;
      wake('lost');
    });
    this.device.addEventListener('uncapturederror', (event) => {
      this.fault ??= (event as GPUUncapturedErrorEvent).error;
      wake('fault');
    });
  }

  /** Resolves once the device is lost (it may never be). */
  get lostNotice(): Promise<GPUDeviceLostInfo> {
    return this.device.lost;
  }

  /**
   * Queues a scan of `range` with `params` (the header part filled in; first and count are set
   * here) on `slot`, with the pipeline of `versions` versions per nonce (preparePipeline first).
   */
  submit(slot: Slot, range: NonceRange, params: Uint32Array, versions: number): void {
    const pipeline = this.pipelines.get(versions);
    if (pipeline === undefined) throw new GpuKernelError(`gpu engine: no pipeline for ${versions} versions per nonce (preparePipeline first)`);
    params[PARAM_FIRST] = range.first;
    params[PARAM_COUNT] = range.count;
    this.device.queue.writeBuffer(slot.params, 0, params);
    const noncesPerWorkgroup = this.shape.workgroupSize * this.shape.noncesPerInvocation;
    const workgroups = Math.ceil(range.count / noncesPerWorkgroup);
    // One dimension holds at most 65535 workgroups; the kernel linearises a 2-D grid. Rows of
    // equal width, so that fewer than y workgroups are spare: a spare one still hashes (every
    // lane runs the whole loop for the subgroup shuffles), it only reports nothing.
    const y = Math.ceil(workgroups / MAX_WORKGROUPS_PER_DIMENSION);
    const x = Math.ceil(workgroups / y);
    const encoder = this.device.createCommandEncoder({ label: 'nonce scan' });
    encoder.clearBuffer(slot.results, 0, 4); // the candidate count
    const pass = encoder.beginComputePass({ label: 'sha256d nonce scan' });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, slot.bindGroup);
    pass.dispatchWorkgroups(x, y);
    pass.end();
    encoder.copyBufferToBuffer(slot.results, 0, slot.readback, 0, slot.readback.size);
    this.device.queue.submit([encoder.finish()]);
  }

  /** Asks for `slot`'s read-back buffer; while this is pending the binding polls Dawn (a busy core). */
  map(slot: Slot): Promise<void> {
    return slot.readback.mapAsync(this.webgpu.constants.GPUMapMode.READ);
  }

  /** The count and as much of the list as it fills, copied out of a mapped read-back buffer, which is then unmapped. */
  readResults(slot: Slot): DispatchResults {
    const mapped = slot.readback.getMappedRange();
    const qualifying = new Uint32Array(mapped, 0, 1)[0]!;
    const listed = Math.min(qualifying, this.shape.resultCapacity);
    const hits = new Uint32Array(mapped.slice(8, 8 + 8 * listed));
    slot.readback.unmap();
    return { qualifying, hits };
  }

  /**
   * Releases the device (its loss notice follows). This is what lets the process exit: the
   * binding keeps a live device, and with it the event loop, running otherwise.
   */
  destroy(): void {
    this.device.destroy();
  }
}

/** One module: the version source's file in front of the scan kernel (its header says why). */
async function compileKernel(device: GPUDevice, adapterName: string, kernel: KernelSources, source: VersionSource): Promise<GPUShaderModule> {
  const prefix = kernel[source].endsWith('\n') ? kernel[source] : `${kernel[source]}\n`;
  const prefixLines = prefix.split('\n').length - 1;
  const module = device.createShaderModule({ label: `${KERNEL_FILES[source]} + ${KERNEL_FILES.scan}`, code: prefix + kernel.scan });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length > 0) {
    // Lines of the module named in the file they come from.
    const where = (line: number) => (line > prefixLines ? `${KERNEL_FILES.scan}:${line - prefixLines}` : `${KERNEL_FILES[source]}:${line}`);
    throw new GpuKernelError(
      `gpu engine: kernels/${KERNEL_FILES.scan} with kernels/${KERNEL_FILES[source]} does not compile on ${adapterName}: ${errors.map((m) => `${where(m.lineNum)}:${m.linePos} ${m.message}`).join('; ')}`,
    );
  }
  return module;
}

async function buildPipeline(
  device: GPUDevice,
  adapterName: string,
  module: GPUShaderModule,
  layout: GPUPipelineLayout,
  shape: KernelShape,
  versions: number,
): Promise<GPUComputePipeline> {
  return device
    .createComputePipelineAsync({
      label: `sha256d nonce scan, ${versions} version(s) per nonce`,
      layout,
      compute: {
        module,
        entryPoint: KERNEL_ENTRY,
        constants: {
          WORKGROUP_SIZE: shape.workgroupSize,
          NONCES_PER_INVOCATION: shape.noncesPerInvocation,
          RESULT_CAPACITY: shape.resultCapacity,
          VERSIONS: versions,
        },
      },
    })
    .catch((err: unknown) => {
      throw new GpuKernelError(`gpu engine: cannot build the scan pipeline on ${adapterName}: ${(err as Error).message}`);
    });
}

function createSlot(webgpu: WebGpu, device: GPUDevice, bindings: GPUBindGroupLayout, shape: KernelShape, i: number): Slot {
  const usage = webgpu.constants.GPUBufferUsage;
  const bytes = resultBytes(shape.resultCapacity);
  const params = device.createBuffer({ label: `scan params ${i}`, size: SCAN_PARAM_BYTES, usage: usage.UNIFORM | usage.COPY_DST });
  const results = device.createBuffer({ label: `scan results ${i}`, size: bytes, usage: usage.STORAGE | usage.COPY_SRC | usage.COPY_DST });
  const readback = device.createBuffer({ label: `scan readback ${i}`, size: bytes, usage: usage.MAP_READ | usage.COPY_DST });
  const bindGroup = device.createBindGroup({
    label: `scan bindings ${i}`,
    layout: bindings,
    entries: [
      { binding: 0, resource: { buffer: params } },
      { binding: 1, resource: { buffer: results } },
    ],
  });
  return { params, results, readback, bindGroup };
}
