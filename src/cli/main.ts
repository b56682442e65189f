// Entry point of `solominer <command>` (docs/cli.md). Exit codes: 0 success, 1 runtime
// failure, 2 bad usage or configuration. Every failure is one line, never a stack trace and
// never a secret. commander parses; it never prints an error or exits by itself.
import { readFileSync } from 'node:fs';

import { Command, CommanderError } from '@commander-js/extra-typings';

import { BitcoinError } from '../bitcoin/errors.js';
import { MINE_FIELDS } from '../config/mine-config.js';
import { BackendUnavailableError } from '../engines/cpu-engine.js';
import { EngineUnavailableError } from '../engines/create-engine.js';
import { ScanInputError } from '../engines/work-checks.js';
import { setNativeNoteSink } from '../native/addon.js';
import { benchCommand } from './bench-command.js';
import { blocksCommand } from './blocks-command.js';
import { checkCommand } from './check-command.js';
import { explainParseError, helpWidth, type RunState } from './command-kit.js';
import { demoCommand } from './demo-command.js';
import { mineCommand } from './mine-command.js';
import { reportCommand } from './report-command.js';
import { scanCommand } from './scan-command.js';
import { statusCommand } from './status-command.js';
import { stopCommand } from './stop-command.js';
import { tuneCommand } from './tune-command.js';
import { UsageError } from './usage-error.js';

function packageVersion(): string {
  // dist/src/cli/main.js → the repository's package.json.
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(state: RunState): Command {
  const program = new Command('solominer')
    .description('Solo Bitcoin miner: getblocktemplate work, CPU and GPU SHA-256d engines, ZMQ work switching, journal-first submitblock.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .helpCommand('help [command]', 'show the help of a command')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: () => {}, outputError: () => {} })
    .configureHelp({ helpWidth: helpWidth() });
  for (const make of [mineCommand, demoCommand, checkCommand, statusCommand, stopCommand, reportCommand, blocksCommand, scanCommand, benchCommand, tuneCommand]) {
    program.addCommand(make(state));
  }
  program.addHelpText('after', '\nRun `solominer <command> --help` for its flags. Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration.\n');
  return program;
}

function isUsageProblem(err: unknown): boolean {
  return (
    err instanceof UsageError ||
    err instanceof BitcoinError ||
    err instanceof ScanInputError ||
    err instanceof BackendUnavailableError ||
    err instanceof EngineUnavailableError
  );
}

/** The `expected ...` text of a mine/check field by its long flag. */
function fieldExpected(long: string): string | undefined {
  return MINE_FIELDS.find((f) => `--${f.flag}` === long)?.expected;
}

export async function main(argv: string[]): Promise<number> {
  // A prebuilt addon that did not load and the fallback taken, a back end that failed its
  // self-test: one line each, whichever command loaded the addon.
  setNativeNoteSink((note) => process.stderr.write(`solominer: ${note}\n`));
  const state: RunState = { code: 0 };
  const program = buildProgram(state);
  if (argv.length === 0) {
    process.stdout.write(program.helpInformation());
    return 2;
  }
  const name = argv[0]!;
  const command = program.commands.find((c) => c.name() === name);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return state.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      if (err.code === 'commander.unknownCommand' || command === undefined) {
        const names = program.commands.map((c) => c.name());
        process.stderr.write(`solominer: unknown command ${JSON.stringify(name)}; expected one of ${names.join(', ')}\n`);
        return 2;
      }
      const explained = explainParseError(err, command, argv.slice(1), fieldExpected);
      process.stderr.write(`solominer ${name}: ${explained.message}\n`);
      return 2;
    }
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    process.stderr.write(`solominer ${command?.name() ?? name}: ${message}\n`);
    return isUsageProblem(err) ? 2 : 1;
  }
}
