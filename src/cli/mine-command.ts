// solominer mine [flags]: the service (docs/cli.md). Its flags come from the configuration's
// field table; flags override SOLOMINER_* variables, which override the config file.
// SIGINT/SIGTERM stop it in order.
import type { CommandUnknownOpts } from '@commander-js/extra-typings';

import { runSmoke } from '../checks/check.js';
import { CONFIG_FLAG, ConfigError, loadMineConfig } from '../config/load-config.js';
import { describeConfig, FIELD_BY_KEY, MINE_FIELDS, type MineConfig } from '../config/mine-config.js';
import { poolSummaryLines, runPoolClientService } from '../miner/client-service.js';
import { PidFile, PidFileError, type StopSummary } from '../miner/pid-file.js';
import { ServiceError, runMineService, summaryLines } from '../miner/service.js';
import { createLogger } from '../telemetry/logger.js';
import { addFieldOptions, fieldSourcesHelp, fieldValues, newCommand, type RunState } from './command-kit.js';
import { UsageError } from './usage-error.js';

/** `--config <file>` for the commands that read the mine configuration. */
export function addConfigOption(cmd: CommandUnknownOpts): void {
  cmd.option(`--${CONFIG_FLAG} <file>`, 'JSON config file (default: ./config.json when present) [SOLOMINER_CONFIG]');
}

/** The configuration from this command's flags, the environment and the config file. */
export async function configFromCommand(cmd: CommandUnknownOpts): Promise<MineConfig> {
  try {
    return await loadMineConfig({ flags: fieldValues(cmd, MINE_FIELDS, [CONFIG_FLAG]), env: process.env, cwd: process.cwd() });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

export function mineCommand(state: RunState): CommandUnknownOpts {
  const cmd = newCommand('mine', 'mine: work from the node (getblocktemplate, ZMQ), every engine hashing, blocks journaled then submitted');
  addFieldOptions(cmd, MINE_FIELDS);
  addConfigOption(cmd);
  cmd.addHelpText('after', fieldSourcesHelp(FIELD_BY_KEY.rpcUrl));
  cmd.action(async () => {
    state.code = await mine(await configFromCommand(cmd));
  });
  return cmd;
}

/** The figures every stop summary has, from either mode's summary. */
function runFigures(s: { stopReason: string; seconds: number; stats: { totalHashes: number } }): Pick<StopSummary, 'stoppedAt' | 'reason' | 'seconds' | 'hashes'> {
  return { stoppedAt: new Date().toISOString(), reason: s.stopReason, seconds: Math.round(s.seconds * 10) / 10, hashes: s.stats.totalHashes };
}

async function mine(config: MineConfig): Promise<number> {
  if (config.smokeTest || config.smokeNetwork) return (await runSmoke(config, (line) => process.stdout.write(`${line}\n`))) ? 0 : 1;
  // Taken before anything else starts, so that a second miner on the same file stops here.
  let pidFile: PidFile | undefined;
  if (config.pidFile !== undefined) {
    try {
      pidFile = await PidFile.claim(config.pidFile);
    } catch (err) {
      if (err instanceof PidFileError) throw new UsageError(`--pid-file: ${err.message}`);
      throw err;
    }
  }
  const log = createLogger(config.logFormat, config.logLevel);
  log('info', 'configuration', { config: describeConfig(config) });

  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    log('info', `${signal}: stopping (finishing any submission in flight)`);
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    let stopped: Omit<StopSummary, 'pid'>;
    if (config.pool !== undefined) {
      // Through a pool: the pool's jobs instead of the node's (docs/stratum.md).
      const summary = await runPoolClientService({ config, log, signal: abort.signal });
      for (const line of poolSummaryLines(summary)) log('info', line);
      stopped = {
        ...runFigures(summary),
        // Through a pool the blocks are the pool's: shares are what this miner settles.
        blocks: { found: 0, sharesAccepted: summary.sharesAccepted, sharesRejected: summary.sharesRejected },
        atStop: { inFlight: 0, settled: {}, unsettled: 0 },
      };
    } else {
      const summary = await runMineService({ config, log, signal: abort.signal });
      for (const line of summaryLines(summary)) log('info', line);
      stopped = { ...runFigures(summary), blocks: { found: summary.stats.blocksFound, ...(summary.stats.outcomes as Record<string, number>) }, atStop: summary.atStop };
    }
    // What `solominer stop` reports once this process has exited.
    await pidFile?.writeSummary(stopped).catch((err: unknown) => log('warn', `--pid-file: cannot write the stop summary: ${(err as Error).message}`));
    return 0;
  } catch (err) {
    if (err instanceof ServiceError) {
      if (err.exitCode === 2) throw new UsageError(err.message);
      throw new Error(err.message);
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await pidFile?.release();
  }
}
