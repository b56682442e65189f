// solominer bench [--engine cpu|gpu] [--backend <name>] [--threads <n>] [--seconds <s>] [--json]
//                 [--sweep [--engine all]]
// Hash rate per engine and back end: each row hashes a fixed header for the given time with a
// target no hash meets, so nothing but hashing is measured. --sweep compares configurations in
// one run (sweep.ts): CPU threads 1..n on every back end, the GPU's tuning candidates.
import type { CommandUnknownOpts } from '@commander-js/extra-typings';

import { cpuBackends, defaultThreads } from '../engines/cpu-engine.js';
import { createEngine, ENGINE_KINDS, type EngineKind } from '../engines/create-engine.js';
import { newCommand, type RunState } from './command-kit.js';
import { asFlagError, choiceFlag, intFlag, numberFlag } from './flags.js';
import { benchEngine, chooseBest, runSweep, sweepTable, type SweepRow } from './sweep.js';

export { benchEngine, type BenchRow } from './sweep.js';

/** --engine of a sweep: one kind, or all (cpu, then gpu where an adapter exists). */
export const SWEEP_ENGINES = [...ENGINE_KINDS, 'all'] as const;
export type SweepEngines = (typeof SWEEP_ENGINES)[number];
const DEFAULT_SWEEP_SECONDS = 1;

interface BenchFlags {
  engine?: string | undefined;
  backend?: string | undefined;
  threads?: string | undefined;
  seconds?: string | undefined;
  json: boolean;
  sweep: boolean;
}

export function benchCommand(state: RunState): CommandUnknownOpts {
  const cmd = newCommand('bench', 'hash rate per engine and back end; --sweep compares configurations (npm run bench runs the full benchmark)')
    .option('--engine <cpu|gpu>', 'engine (default: cpu); with --sweep also all')
    .option('--backend <name>', 'one CPU back end or GPU adapter (default: every back end this machine runs)')
    .option('--threads <n>', 'CPU threads (default: all cores); with --sweep the most tried')
    .option('--seconds <s>', `seconds per row (default: 3; with --sweep ${DEFAULT_SWEEP_SECONDS})`)
    .option('--sweep', 'compare configurations: CPU threads 1..n on every back end, the GPU tuning candidates', false)
    .option('--json', 'one JSON object per row on stdout', false);
  cmd.action(async (flags) => {
    state.code = flags.sweep ? await sweep(flags) : await bench(flags);
  });
  return cmd;
}

async function bench(flags: BenchFlags): Promise<number> {
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
          `${row.engine.padEnd(4)} ${row.backend.padEnd(12)} threads ${String(row.threads).padStart(2)} versions ${String(row.versions).padStart(2)}  ` +
            `${(row.hashesPerSecond / 1e6).toFixed(2).padStart(8)} MH/s  (${row.hashes} hashes in ${row.seconds.toFixed(2)} s)\n`,
        );
      }
    } finally {
      await engine.close();
    }
  }
  return 0;
}

/** The kinds a sweep covers: `all` is cpu, then gpu where it can run (said so where it cannot). */
export function sweepKinds(engine: SweepEngines): EngineKind[] {
  return engine === 'all' ? [...ENGINE_KINDS] : [engine];
}

/**
 * Runs the sweep of `bench --sweep` and `tune`, printing the table (or JSON rows) as rows come;
 * an engine asked for by name that cannot run here is a usage error naming --engine.
 */
export async function sweepAndPrint(flags: BenchFlags, out: (line: string) => void): Promise<SweepRow[]> {
  const engine = choiceFlag('engine', flags.engine, SWEEP_ENGINES, 'cpu');
  const seconds = numberFlag('seconds', flags.seconds, 0.1, 3600, DEFAULT_SWEEP_SECONDS);
  const maxThreads = flags.threads === undefined ? undefined : intFlag('threads', flags.threads, 1, 1024, 1);
  const table = sweepTable();
  if (!flags.json) out(table.header);
  try {
    return await runSweep({
      engines: sweepKinds(engine),
      seconds,
      ...(maxThreads !== undefined && { maxThreads }),
      ...(flags.backend !== undefined && (engine === 'gpu' ? { gpuAdapter: flags.backend } : { cpuBackends: [flags.backend] })),
      required: engine !== 'all',
      onRow: (row) => out(flags.json ? JSON.stringify(row) : table.line(row)),
      onUnavailable: (kind, why) => process.stderr.write(`${kind}: not measured: ${why}\n`),
    });
  } catch (err) {
    throw asFlagError(err);
  }
}

async function sweep(flags: BenchFlags): Promise<number> {
  const rows = await sweepAndPrint(flags, (line) => process.stdout.write(`${line}\n`));
  if (!flags.json) for (const reason of chooseBest(rows).reasons) process.stdout.write(`best: ${reason}\n`);
  return 0;
}
