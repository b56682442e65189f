// Entry point of `solominer <command>`. Exit codes (DESIGN.md): 0 success, 1 runtime
// failure, 2 bad usage or configuration. Every failure is one line, never a stack trace.
import { BitcoinError } from '../bitcoin/errors.js';
import { BackendUnavailableError } from '../engines/cpu-engine.js';
import { EngineUnavailableError } from '../engines/create-engine.js';
import { ScanInputError } from '../engines/work-checks.js';
import { BENCH_USAGE, benchCommand } from './bench-command.js';
import { CHECK_USAGE, checkCommand } from './check-command.js';
import { DEMO_USAGE, demoCommand } from './demo-command.js';
import { MINE_USAGE, mineCommand } from './mine-command.js';
import { SCAN_USAGE, scanCommand } from './scan-command.js';
import { REPORT_USAGE, reportCommand } from './report-command.js';
import { STATUS_USAGE, statusCommand } from './status-command.js';
import { UsageError } from './usage-error.js';

const COMMANDS: Record<string, { usage: string; run: (argv: string[]) => Promise<number> }> = {
  mine: { usage: MINE_USAGE, run: mineCommand },
  demo: { usage: DEMO_USAGE, run: demoCommand },
  scan: { usage: SCAN_USAGE, run: scanCommand },
  bench: { usage: BENCH_USAGE, run: benchCommand },
  status: { usage: STATUS_USAGE, run: statusCommand },
  report: { usage: REPORT_USAGE, run: reportCommand },
  check: { usage: CHECK_USAGE, run: checkCommand },
};

function usage(): string {
  return ['usage:', ...Object.values(COMMANDS).map((c) => `  ${c.usage}`)].join('\n');
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

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`solominer: unknown command ${JSON.stringify(name)}; expected one of ${Object.keys(COMMANDS).join(', ')}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`usage: ${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    process.stderr.write(`solominer ${name}: ${message}\n`);
    return isUsageProblem(err) ? 2 : 1;
  }
}
