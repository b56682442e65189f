// solominer tune [--write <config file>] [--seconds <s>] [--engine cpu|gpu|all] [--json]
// Runs the sweep of `bench --sweep`, picks the best configuration (sweep.ts chooseBest), prints
// the config keys it chose and why, and with --write merges them into a JSON config file:
// created if absent, its other keys kept, written atomically (temporary file, fsync, rename).
import { readFile } from 'node:fs/promises';

import type { CommandUnknownOpts } from '@commander-js/extra-typings';

import { parseJsonText } from '../config/json-syntax.js';
import { resolvePath } from '../config/mine-config.js';
import { writeFileAtomic } from '../telemetry/hourly-report.js';
import { sweepAndPrint } from './bench-command.js';
import { newCommand, type RunState } from './command-kit.js';
import { chooseBest, type TuneChoice } from './sweep.js';
import { UsageError } from './usage-error.js';

interface TuneFlags {
  write?: string | undefined;
  seconds?: string | undefined;
  engine?: string | undefined;
  threads?: string | undefined;
  json: boolean;
}

export function tuneCommand(state: RunState): CommandUnknownOpts {
  const cmd = newCommand('tune', 'measure the configurations of bench --sweep, choose the fastest, print the config keys and why; --write merges them into a config file')
    .option('--write <file>', 'merge the chosen keys into this JSON config file (created if absent, other keys kept)')
    .option('--seconds <s>', 'seconds per configuration (default: 1)')
    .option('--engine <cpu|gpu|all>', 'what to tune (default: cpu)')
    .option('--threads <n>', 'the most CPU threads tried (default: the CPUs this process may use)')
    .option('--json', 'the rows, then {"keys", "reasons", "written"} as JSON lines', false);
  cmd.action(async (flags) => {
    state.code = await tune(flags);
  });
  return cmd;
}

async function tune(flags: TuneFlags): Promise<number> {
  // Checked first: a bad file should not cost a whole sweep.
  const target = flags.write === undefined ? undefined : resolvePath(flags.write, process.cwd());
  const existing = target === undefined ? undefined : await readConfigObject(target, flags.write!);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const rows = await sweepAndPrint({ engine: flags.engine, seconds: flags.seconds, threads: flags.threads, json: flags.json, sweep: true }, out);
  const choice = chooseBest(rows);
  if (Object.keys(choice.keys).length === 0) throw new Error('tune: nothing was measured, so nothing was chosen');
  if (target !== undefined) await writeFileAtomic(target, `${JSON.stringify({ ...existing, ...choice.keys }, null, 2)}\n`);
  if (flags.json) {
    out(JSON.stringify({ keys: choice.keys, reasons: choice.reasons, written: target ?? null }));
  } else {
    for (const line of describeChoice(choice, target)) out(line);
  }
  return 0;
}

export function describeChoice(choice: TuneChoice, written: string | undefined): string[] {
  return [
    `chose ${JSON.stringify(choice.keys)}`,
    ...choice.reasons.map((r) => `  ${r}`),
    written === undefined ? 'not written: --write <config file> merges these keys into a config file' : `wrote ${Object.keys(choice.keys).join(', ')} to ${written} (its other keys kept)`,
  ];
}

/** The config file's object, {} when it does not exist yet; anything else is one line, exit 2. */
async function readConfigObject(path: string, given: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    throw new UsageError(`--write: cannot read ${given} (${code ?? (err as Error).message})`);
  }
  const json = parseJsonText(text);
  if ('error' in json) throw new UsageError(`--write: ${given} is ${json.error}; fix it or name another file`);
  const parsed = json.value;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`--write: ${given} holds no JSON object such as {"network": "main"}; fix it or name another file`);
  }
  return parsed as Record<string, unknown>;
}
