// Builds an engine by kind, so commands need not know each engine's class.
import { CpuEngine } from './cpu-engine.js';
import type { Engine } from './engine.js';

export const ENGINE_KINDS = ['cpu', 'gpu'] as const;
export type EngineKind = (typeof ENGINE_KINDS)[number];

export interface EngineChoice {
  readonly kind: EngineKind;
  /** CPU: back-end name. */
  readonly backend?: string;
  readonly threads?: number;
}

export class EngineUnavailableError extends Error {
  override readonly name = 'EngineUnavailableError';
}

export async function createEngine(choice: EngineChoice): Promise<Engine> {
  switch (choice.kind) {
    case 'cpu':
      return new CpuEngine({
        ...(choice.backend !== undefined && { backend: choice.backend }),
        ...(choice.threads !== undefined && { threads: choice.threads }),
      });
    case 'gpu': {
      // Loaded on demand so that CPU-only commands never load Dawn. `backend` names the
      // adapter (--gpu-adapter: index or part of its name); `threads` does not apply to a GPU.
      const { GpuEngine, GpuAdapterError } = await import('./gpu-engine.js');
      try {
        return await GpuEngine.create(choice.backend !== undefined ? { adapter: choice.backend } : {});
      } catch (err) {
        if (err instanceof GpuAdapterError) throw new EngineUnavailableError(err.message);
        throw err;
      }
    }
  }
}
