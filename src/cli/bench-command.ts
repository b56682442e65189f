// solominer bench [--engine cpu|gpu] [--backend <name>] [--threads <n>] [--seconds <s>] [--json]
// Hash rate per engine and back end: each row hashes a fixed header for the given time with a
// target no hash meets, so nothing but hashing is measured.
import type { CommandUnknownOpts } from '@commander-js/extra-typings';

import { cpuBackends, defaultThreads } from '../engines/cpu-engine.js';
import { createEngine, ENGINE_KINDS, type EngineKind } from '../engines/create-engine.js';
import type { Engine } from '../engines/engine.js';
import { scanRange } from '../engines/scan-range.js';
import { newCommand, type RunState } from './command-kit.js';
import { asFlagError, choiceFlag, intFlag, numberFlag } from './flags.js';

export interface BenchRow {
  readonly engine: string;
  readonly backend: string;
  readonly threads: number;
  readonly seconds: number;
  readonly hashes: number;
  readonly hashesPerSecond: number;
}

/** A header that is not a real block's; any fixed 80 bytes measure the same. */
const BENCH_HEADER = Uint8Array.from({ length: 80 }, (_, i) => (i * 37 + 11) & 0xff);
/** Target 1: no hash of this header reaches it, so every nonce costs the full work. */
const UNREACHABLE_TARGET = Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 1 : 0));

export async function benchEngine(engine: Engine, seconds: number): Promise<BenchRow> {
  const timer = setTimeout(() => void engine.stop(), seconds * 1000);
  try {
    const result = await scanRange(engine, {
      id: 'bench',
      header: BENCH_HEADER,
      target: UNREACHABLE_TARGET,
      start: 0,
      count: 2 ** 32,
    });
    return {
      engine: engine.kind,
      backend: engine.backend,
      threads: engine.threads,
      seconds: result.seconds,
      hashes: result.hashes,
      hashesPerSecond: result.seconds > 0 ? result.hashes / result.seconds : 0,
    };
  } finally {
    clearTimeout(timer);
  }
}

export function benchCommand(state: RunState): CommandUnknownOpts {
  const cmd = newCommand('bench', 'hash rate per engine and back end (npm run bench runs the full benchmark)')
    .option('--engine <cpu|gpu>', 'engine (default: cpu)')
    .option('--backend <name>', 'one CPU back end or GPU adapter (default: every back end this machine runs)')
    .option('--threads <n>', 'CPU threads (default: all cores)')
    .option('--seconds <s>', 'seconds per row (default: 3)')
    .option('--json', 'one JSON object per row on stdout', false);
  cmd.action(async (flags) => {
    state.code = await bench(flags);
  });
  return cmd;
}

async function bench(flags: { engine?: string | undefined; backend?: string | undefined; threads?: string | undefined; seconds?: string | undefined; json: boolean }): Promise<number> {
  const kind: EngineKind = choiceFlag('engine', flags.engine, ENGINE_KINDS, 'cpu');
  const threads = intFlag('threads', flags.threads, 1, 1024, defaultThreads());
  const seconds = numberFlag('seconds', flags.seconds, 0.1, 3600, 3);
  const backends =
    flags.backend !== undefined ? [flags.backend] : kind === 'cpu' ? cpuBackends().filter((b) => b.usable).map((b) => b.name) : [undefined];

  for (const backend of backends) {
    const engine = await createEngine({ kind, threads, ...(backend !== undefined && { backend }) }).catch((err: unknown) => {
      throw asFlagError(err);
    });
    try {
      const row = await benchEngine(engine, seconds);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(row)}\n`);
      } else {
        process.stdout.write(
          `${row.engine.padEnd(4)} ${row.backend.padEnd(12)} threads ${String(row.threads).padStart(2)}  ` +
            `${(row.hashesPerSecond / 1e6).toFixed(2).padStart(8)} MH/s  (${row.hashes} hashes in ${row.seconds.toFixed(2)} s)\n`,
        );
      }
    } finally {
      await engine.close();
    }
  }
  return 0;
}
