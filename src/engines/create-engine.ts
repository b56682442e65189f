// Builds an engine by kind, so commands need not know each engine's class.
import { BackendUnavailableError, CpuEngine, type CpuEngineOptions } from './cpu-engine.js';
import type { Engine } from './engine.js';
import type { GpuTuning } from './gpu/tuning.js';

export const ENGINE_KINDS = ['cpu', 'gpu'] as const;
export type EngineKind = (typeof ENGINE_KINDS)[number];

export interface EngineChoice {
  readonly kind: EngineKind;
  /** CPU: back-end name. GPU: the adapter (an index or part of its name). */
  readonly backend?: string;
  readonly threads?: number;
  /** CPU: how the hashing threads share the machine (cpu-engine.ts). */
  readonly governance?: Pick<CpuEngineOptions, 'affinity' | 'priority' | 'cpuLimit' | 'reserveCores'>;
  /** GPU: kernel shape and pacing (gpu/tuning.ts); the defaults where absent. */
  readonly tuning?: Partial<GpuTuning>;
}

/**
 * The engine asked for cannot run here. `field` says which choice was at fault, so that a
 * command can name its own flag: the engine kind (`--engine`, `--engines`) or the GPU adapter
 * (`--backend` of scan and bench, `--gpu-adapter` of mine).
 */
export class EngineUnavailableError extends Error {
  override readonly name = 'EngineUnavailableError';
  constructor(
    readonly field: 'engine' | 'adapter',
    readonly kind: EngineKind,
    /** What is wrong, without a field name in front. */
    readonly detail: string,
  ) {
    super(`${field === 'adapter' ? 'gpu-adapter' : kind}: ${detail}`);
  }
}

/** "gpu: no Vulkan driver ..." → its field and what is wrong ("gpu-adapter: ..." names the adapter). */
function unavailable(kind: EngineKind, message: string): EngineUnavailableError {
  const m = /^(gpu-adapter|gpu|engine): (.*)$/s.exec(message);
  if (m?.[1] === 'gpu-adapter') return new EngineUnavailableError('adapter', kind, m[2]!);
  return new EngineUnavailableError('engine', kind, m ? m[2]! : message);
}

export async function createEngine(choice: EngineChoice): Promise<Engine> {
  switch (choice.kind) {
    case 'cpu':
      return new CpuEngine({
        ...choice.governance,
        ...(choice.backend !== undefined && { backend: choice.backend }),
        ...(choice.threads !== undefined && { threads: choice.threads }),
      });
    case 'gpu': {
      // Loaded on demand so that CPU-only commands never load Dawn. `backend` names the
      // adapter (--gpu-adapter: index or part of its name); `threads` does not apply to a GPU.
      const { GpuEngine, GpuAdapterError } = await import('./gpu-engine.js');
      try {
        return await GpuEngine.create({ ...choice.tuning, ...(choice.backend !== undefined && { adapter: choice.backend }) });
      } catch (err) {
        if (err instanceof GpuAdapterError) throw unavailable('gpu', err.message);
        throw err;
      }
    }
  }
}

/** The flags of a command that chose an engine, by what they choose. */
export interface EngineFlags {
  /** The engine kind: `--engine` (scan, bench), `--engines` (mine). */
  readonly engine: string;
  /** The CPU back end: `--backend` (scan, bench), `--cpu-backend` (mine). */
  readonly backend: string;
  /** The GPU adapter: `--backend` (scan, bench), `--gpu-adapter` (mine). */
  readonly adapter: string;
}

/**
 * An engine that cannot be built, as one line naming the flag the user gave:
 * "--engine: gpu: no Vulkan driver on this machine (...)", "--backend: avx512 is not available
 * here (...)". Undefined for any other error.
 */
export function engineErrorLine(err: unknown, flags: EngineFlags): string | undefined {
  if (err instanceof EngineUnavailableError) {
    return err.field === 'adapter' ? `${flags.adapter}: ${err.detail}` : `${flags.engine}: ${err.kind}: ${err.detail}`;
  }
  if (err instanceof BackendUnavailableError) {
    const detail = /^backend: (.*)$/s.exec(err.message)?.[1] ?? err.message;
    // "no usable CPU back end" is about the cpu engine as a whole, not a back end the user named.
    return /^no usable/.test(detail) ? `${flags.engine}: cpu: ${detail}` : `${flags.backend}: ${detail}`;
  }
  return undefined;
}
