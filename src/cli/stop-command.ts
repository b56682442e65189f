// solominer stop [--pid-file <f>] [--timeout <s>]: SIGTERM to the miner that `mine --pid-file`
// names, wait for its orderly stop (engines halted, submissions in flight settled, journal and
// reports flushed), then say what it settled from the summary it left next to the pid file.
// Exit 0 once it has stopped in order; 1 when no miner runs there or it did not stop in time.
import { setTimeout as sleep } from 'node:timers/promises';

import type { CommandUnknownOpts } from '@commander-js/extra-typings';

import { CONFIG_FLAG, ConfigError, loadMineConfig } from '../config/load-config.js';
import { FIELD_BY_KEY } from '../config/mine-config.js';
import { processAlive, readPidFile, readStopSummary, type StopSummary } from '../miner/pid-file.js';
import { describeSettlement } from '../miner/service.js';
import { newCommand, type RunState } from './command-kit.js';
import { numberFlag } from './flags.js';
import { addConfigOption } from './mine-command.js';
import { UsageError } from './usage-error.js';

const PID_FILE = FIELD_BY_KEY.pidFile;
/** As long as systemd's TimeoutStopSec in contrib/systemd: a submission in flight gets 10 s of it. */
const DEFAULT_TIMEOUT_SECONDS = 60;
const POLL_MS = 100;

export function stopCommand(state: RunState): CommandUnknownOpts {
  const cmd = newCommand('stop', 'stop the miner that mine --pid-file names: SIGTERM, wait for its orderly stop, say what it settled')
    .option(`--${PID_FILE.flag} <file>`, `the file mine --pid-file writes [${PID_FILE.env}; or pidFile in the config file]`)
    .option('--timeout <seconds>', `how long to wait for the stop (default: ${DEFAULT_TIMEOUT_SECONDS})`);
  addConfigOption(cmd);
  cmd.action(async (flags) => {
    state.code = await stop(flags as { pidFile?: string; timeout?: string; config?: string });
  });
  return cmd;
}

/** The pid file: the flag, else the variable, else the config file's pidFile (as mine reads them). */
async function pidFileFrom(flags: { pidFile?: string; config?: string }): Promise<string> {
  let path: string | undefined;
  try {
    const config = await loadMineConfig({
      flags: { ...(flags.pidFile !== undefined && { [PID_FILE.flag]: flags.pidFile }), ...(flags.config !== undefined && { [CONFIG_FLAG]: flags.config }) },
      env: process.env,
      cwd: process.cwd(),
      allowMissingAddress: true,
    });
    path = config.pidFile;
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message.replace('mine --help', 'stop --help'));
    throw err;
  }
  if (path === undefined) throw new UsageError(`--${PID_FILE.flag}: required: the file mine --pid-file writes (or ${PID_FILE.env}, or pidFile in the config file)`);
  return path;
}

async function stop(flags: { pidFile?: string; timeout?: string; config?: string }): Promise<number> {
  const timeoutSeconds = numberFlag('timeout', flags.timeout, 0.1, 86_400, DEFAULT_TIMEOUT_SECONDS);
  const path = await pidFileFrom(flags);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const found = await readPidFile(path).catch((err: Error) => {
    throw new UsageError(`--${PID_FILE.flag}: ${err.message}`);
  });
  switch (found.state) {
    case 'absent':
      process.stderr.write(`solominer stop: no miner running: ${path} does not exist\n`);
      return 1;
    case 'invalid':
      process.stderr.write(`solominer stop: no miner running: ${path} holds no process id\n`);
      return 1;
    case 'stale':
      process.stderr.write(`solominer stop: no miner running: ${path} names pid ${found.pid}, which is not a running solominer (a file left by a crash)\n`);
      return 1;
    case 'running':
      break;
  }
  const { pid } = found;
  try {
    process.kill(pid, 'SIGTERM');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') {
      process.stderr.write(`solominer stop: no miner running: pid ${pid} ended just now\n`);
      return 1;
    }
    throw new Error(`cannot signal pid ${pid} (${code ?? (err as Error).message}): run stop as the user that runs the miner`);
  }
  say(`sent SIGTERM to solominer (pid ${pid}); waiting for its orderly stop (at most ${timeoutSeconds} s)`);
  const began = performance.now();
  // No event tells another process's exit: ask every 100 ms.
  while (processAlive(pid)) {
    if (performance.now() - began > timeoutSeconds * 1000) {
      process.stderr.write(`solominer stop: solominer (pid ${pid}) still running after ${timeoutSeconds} s; it may be finishing a submission (wait, or kill -KILL ${pid})\n`);
      return 1;
    }
    await sleep(POLL_MS);
  }
  const summary = await readStopSummary(path, pid);
  if (summary === undefined) {
    process.stderr.write(`solominer stop: solominer (pid ${pid}) has exited without a stop summary next to ${path}: it did not stop in order (see its log)\n`);
    return 1;
  }
  say(describeStop(summary, (performance.now() - began) / 1000));
  return 0;
}

/** "stopped solominer (pid 123) in 0.4 s, after 61.0 s of mining: ..." */
export function describeStop(s: StopSummary, waitedSeconds: number): string {
  const blocks = Object.entries(s.blocks)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return (
    `stopped solominer (pid ${s.pid}) in ${waitedSeconds.toFixed(1)} s, after ${s.seconds} s of mining: ${s.hashes} hashes, blocks ${blocks}; ` +
    describeSettlement(s.atStop)
  );
}
