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
    case 'gpu':
      throw new EngineUnavailableError('engine: the GPU engine is not part of this build yet; use --engine cpu');
  }
}
