// solominer mine [flags]: the service. Flags override SOLOMINER_* environment variables, which
// override the config file (DESIGN.md, "Command line"). SIGINT/SIGTERM stop it in order.
import { ConfigError, loadMineConfig } from '../config/load-config.js';
import { describeConfig } from '../config/mine-config.js';
import { ServiceError, runMineService, summaryLines } from '../miner/service.js';
import { createLogger } from '../telemetry/logger.js';
import { smokeCommand } from './check-command.js';
import { UsageError } from './usage-error.js';

export const MINE_USAGE =
  'solominer mine --address <payout address> [--network main|testnet|testnet4|signet|regtest] [--rpc-url <url>] ' +
  '[--rpc-user <user> --rpc-password <password> | --rpc-cookie <file>] [--zmq <endpoint>] [--coinbase-tag <text>] ' +
  '[--engines cpu,gpu] [--threads <n>] [--gpu-adapter <index|name>] [--journal <file>] [--report-dir <dir>] ' +
  '[--metrics-port <port>] [--metrics-host <addr>] ' +
  '[--connect-timeout <s>] [--refresh-interval <s>] [--max-blocks <n>] [--duration <s>] [--smoke-test] [--smoke-network] [--log-format text|json] [--config <file>]';

export async function mineCommand(argv: string[]): Promise<number> {
  let config;
  try {
    config = await loadMineConfig({ argv, env: process.env, cwd: process.cwd() });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  // --smoke-test / --smoke-network: checklists instead of mining (src/cli/check-command.ts).
  if (config.smokeTest || config.smokeNetwork) return smokeCommand(config);
  const log = createLogger(config.logFormat);
  log('info', 'configuration', { config: describeConfig(config) });

  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    log('info', `${signal}: stopping (finishing any submission in flight)`);
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const summary = await runMineService({ config, log, signal: abort.signal });
    for (const line of summaryLines(summary)) log('info', line);
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
  }
}
