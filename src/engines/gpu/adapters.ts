// WebGPU adapters through the `webgpu` package (Dawn's Node binding): loading it, listing the
// adapters this machine offers (for `check` and --gpu-adapter) and picking one.
//
// The binding is imported lazily, so commands that never touch the GPU do not load Dawn.
// WebGPU hands out one adapter per request, not a list: the list is what the four
// combinations of power preference and fallback return, with duplicates removed. That finds a
// discrete and an integrated GPU (high-performance / low-power) and a software one.
import { probeAdapters } from './adapter-probe.js';
import type { TuningLimits } from './tuning.js';
import { findVulkanDriver, noDriverMessage, provisionHint } from './vulkan-driver.js';

/** The enum objects the engine needs; the binding exports them in `globals`, not on globalThis. */
export interface WebGpuConstants {
  readonly GPUBufferUsage: {
    readonly MAP_READ: number;
    readonly COPY_DST: number;
    readonly COPY_SRC: number;
    readonly STORAGE: number;
    readonly UNIFORM: number;
  };
  readonly GPUMapMode: { readonly READ: number };
  readonly GPUShaderStage: { readonly COMPUTE: number };
}

export interface WebGpu {
  readonly gpu: GPU;
  readonly constants: WebGpuConstants;
}

/** No adapter matches, or none exists. */
export class GpuAdapterError extends Error {
  override readonly name = 'GpuAdapterError';
}

export const NO_ADAPTER_MESSAGE =
  'engine: no GPU adapter found (on a machine without a GPU, provision software Vulkan: scripts/provision-vulkan.sh)';

/**
 * A fresh GPU instance, once this machine is known to have an adapter: without a Vulkan driver
 * (Linux) Dawn is not loaded at all, and where Dawn finds no adapter anyway a child process has
 * found that out first, so that Dawn's stderr lines stay off the terminal. Either way the
 * GpuAdapterError carries one line. When an adapter exists, Dawn still prints two harmless
 * "artificially reduced" limit warnings as it enumerates a Vulkan device; no create() flag
 * silences them (tried: verbose, backend), so they are left alone.
 */
export async function loadWebGpu(): Promise<WebGpu> {
  const driver = findVulkanDriver();
  if (!driver.found) throw new GpuAdapterError(noDriverMessage(driver));
  const probe = await probeAdapters();
  if (!probe.ok) {
    throw new GpuAdapterError(
      probe.reason === 'no-adapter'
        ? `gpu: no GPU adapter (Dawn: ${probe.detail}); on a machine without a GPU, ${provisionHint()}`
        : `gpu: probing for GPU adapters failed (${probe.detail})`,
    );
  }
  return openWebGpu();
}

/** A GPU instance straight from the binding, with no checks first (the adapter probe's child uses it). */
export async function openWebGpu(): Promise<WebGpu> {
  let mod: { create(flags: string[]): GPU; globals: object };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch (err) {
    throw new GpuAdapterError(`engine: the webgpu package could not be loaded (${(err as Error).message}); run npm install`);
  }
  return { gpu: mod.create([]), constants: mod.globals as WebGpuConstants };
}

export interface GpuAdapterInfo {
  /** Position in gpuAdapters()'s list: what --gpu-adapter <index> names. */
  readonly index: number;
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** A software or otherwise fallback adapter (llvmpipe is one). */
  readonly fallback: boolean;
  /** The name shown in logs and used as the engine's backend. */
  readonly name: string;
  /** What bounds the kernel's workgroup size here (gpuTuningCandidates takes it). */
  readonly limits: TuningLimits;
}

/** adapter.info's fields are prototype getters in the binding: spreading it yields nothing. */
export function describeAdapter(adapter: GPUAdapter, index: number): GpuAdapterInfo {
  const info = adapter.info;
  const vendor = String(info.vendor ?? '');
  const architecture = String(info.architecture ?? '');
  const device = String(info.device ?? '');
  const description = String(info.description ?? '');
  const fallback = Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter);
  const name = description || [vendor, architecture, device].filter((s) => s !== '').join(' ') || `adapter ${index}`;
  const { maxComputeInvocationsPerWorkgroup, maxComputeWorkgroupSizeX } = adapter.limits;
  return { index, vendor, architecture, device, description, fallback, name, limits: { maxComputeInvocationsPerWorkgroup, maxComputeWorkgroupSizeX } };
}

const REQUESTS: GPURequestAdapterOptions[] = [
  { powerPreference: 'high-performance' },
  { powerPreference: 'low-power' },
  { powerPreference: 'high-performance', forceFallbackAdapter: true },
  { powerPreference: 'low-power', forceFallbackAdapter: true },
];

export interface FoundAdapter {
  readonly adapter: GPUAdapter;
  readonly info: GpuAdapterInfo;
}

/** One adapter per distinct answer to the four requests, the default one first. */
export async function listAdapters(gpu: GPU): Promise<FoundAdapter[]> {
  const found: FoundAdapter[] = [];
  const keys = new Set<string>();
  for (const options of REQUESTS) {
    const adapter = await gpu.requestAdapter(options);
    if (!adapter) continue;
    const info = describeAdapter(adapter, found.length);
    const key = [info.vendor, info.architecture, info.device, info.description].join('\u0000');
    if (keys.has(key)) continue;
    keys.add(key);
    found.push({ adapter, info });
  }
  return found;
}

/** Every adapter this machine offers, first the one used by default. For `check`. */
export async function gpuAdapters(): Promise<GpuAdapterInfo[]> {
  const { gpu } = await loadWebGpu();
  return (await listAdapters(gpu)).map((f) => f.info);
}

/**
 * The adapter named by `choice` (an index into gpuAdapters() or a case-insensitive part of its
 * name, vendor or device), or the default one. Throws GpuAdapterError with the list otherwise.
 */
export async function selectAdapter(gpu: GPU, choice?: string): Promise<FoundAdapter> {
  const all = await listAdapters(gpu);
  if (all.length === 0) throw new GpuAdapterError(NO_ADAPTER_MESSAGE);
  if (choice === undefined || choice === '') return all[0]!;
  const listing = all.map((f) => `${f.info.index}: ${f.info.name}`).join('; ');
  if (/^\d+$/.test(choice)) {
    const hit = all[Number(choice)];
    if (!hit) throw new GpuAdapterError(`gpu-adapter: no adapter ${choice}; this machine has ${listing}`);
    return hit;
  }
  const needle = choice.toLowerCase();
  const hit = all.find((f) =>
    [f.info.name, f.info.vendor, f.info.device, f.info.architecture].some((s) => s.toLowerCase().includes(needle)),
  );
  if (!hit) throw new GpuAdapterError(`gpu-adapter: no adapter matches "${choice}"; this machine has ${listing}`);
  return hit;
}
