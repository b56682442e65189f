// Checks of flag values (commander hands them over as text), each failure one line naming the
// flag and what it expects.
import { engineErrorLine, type EngineFlags } from '../engines/create-engine.js';
import { UsageError } from './usage-error.js';

export function hexFlag(flag: string, value: string, bytes: number): Uint8Array {
  const digits = bytes * 2;
  if (value.length !== digits || !/^[0-9a-fA-F]*$/.test(value)) {
    const what = /^[0-9a-fA-F]*$/.test(value) ? `${value.length} digits` : 'a non-hex character';
    throw new UsageError(`--${flag}: expected ${digits} hex digits, got ${what}`);
  }
  return Uint8Array.from(Buffer.from(value, 'hex'));
}

/** A non-negative integer flag within [min, max]; decimal, or hex with 0x. */
export function intFlag(flag: string, value: string | undefined, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = /^0x[0-9a-f]+$/i.test(value) ? Number.parseInt(value, 16) : /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag}: expected an integer ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

export function numberFlag(flag: string, value: string | undefined, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${flag}: expected a number ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

export function choiceFlag<C extends string>(flag: string, value: string | undefined, choices: readonly C[], fallback: C): C {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`--${flag}: expected ${choices.join(' or ')}, got ${JSON.stringify(value)}`);
  }
  return value as C;
}

/** scan's and bench's flags: --engine, and --backend for a CPU back end or a GPU adapter alike. */
export const SCAN_ENGINE_FLAGS: EngineFlags = { engine: '--engine', backend: '--backend', adapter: '--backend' };

/** engineErrorLine as a UsageError (exit 2) for scan and bench; any other error unchanged. */
export function asFlagError(err: unknown, flags: EngineFlags = SCAN_ENGINE_FLAGS): unknown {
  const line = engineErrorLine(err, flags);
  return line === undefined ? err : new UsageError(line);
}

export function flagError(flag: string, message: string): UsageError {
  return new UsageError(`--${flag}: ${message}`);
}
