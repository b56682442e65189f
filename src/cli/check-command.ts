// `solominer check`: what this machine and node offer (DESIGN.md, "Command line"), one line
// per item, ok/warn/fail, exit 1 on a blocking problem. It takes the same flags, SOLOMINER_*
// variables and config file as `mine`; a missing payout address is a fail line, not a refusal
// to look at everything else.
//
// Also here: the runner of `mine --smoke-test` / `mine --smoke-network` (mine-command.ts calls
// smokeCommand), since both print the same kind of checklist.
import { ConfigError, loadMineConfig, type LoadMineConfigOptions } from '../config/load-config.js';
import type { MineConfig } from '../config/mine-config.js';
import { RpcClient } from '../node/rpc-client.js';
import { credentialsOf } from '../miner/service.js';
import { runSmokeNetwork } from '../checks/smoke-network.js';
import { runSmokeTest } from '../checks/smoke-test.js';
import { Checklist } from '../checks/checklist.js';
import {
  probeAddress,
  probeChain,
  probeCpuBackend,
  probeCpuFeatures,
  probeGpuAdapters,
  probeJournal,
  probeMetricsPort,
  probeNode,
  probeReportDir,
  probeSync,
  probeZmq,
} from '../checks/probes.js';
import { UsageError } from './usage-error.js';

export const CHECK_USAGE =
  'solominer check [the flags of mine: --network, --rpc-url, --rpc-user/--rpc-password | --rpc-cookie, --zmq, --address, ' +
  '--engines, --threads, --gpu-adapter, --report-dir, --journal, --metrics-port, --metrics-host, --connect-timeout, --config <file>]';

/** `check` waits at most this long for an unreachable node, whatever --connect-timeout says. */
const CHECK_CONNECT_SECONDS = 10;

/** Stands in for a payout address that was not given, so the rest of the configuration loads. */
const NO_ADDRESS = 'address-not-set';

export interface LenientConfig {
  readonly config: MineConfig;
  /** No payout address anywhere (config.address is a placeholder then). */
  readonly addressMissing: boolean;
}

/** loadMineConfig, except that a missing payout address is reported rather than refused. */
export async function loadConfigLeniently(options: LoadMineConfigOptions): Promise<LenientConfig> {
  try {
    return { config: await loadMineConfig(options), addressMissing: false };
  } catch (err) {
    if (!(err instanceof ConfigError) || err.field !== '--address' || !/^--address: required/.test(err.message)) throw err;
    // Only reached when no flag, variable or file sets the address, so this flag decides nothing else.
    const config = await loadMineConfig({ ...options, argv: [...options.argv, '--address', NO_ADDRESS] });
    return { config, addressMissing: true };
  }
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

export async function checkCommand(argv: string[]): Promise<number> {
  let loaded: LenientConfig;
  try {
    loaded = await loadConfigLeniently({ argv, env: process.env, cwd: process.cwd() });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message.replace('mine --help', 'check --help').replace('mine takes only flags', 'check takes only flags'));
    throw err;
  }
  const { config, addressMissing } = loaded;
  const list = new Checklist(print);

  probeCpuFeatures(list);
  probeCpuBackend(list, config);
  await probeGpuAdapters(list, config);

  const rpc = new RpcClient({ url: config.rpcUrl, credentials: credentialsOf(config) });
  const contact = await probeNode(list, config, rpc, Math.min(config.connectTimeout, CHECK_CONNECT_SECONDS) * 1000);
  if (contact) {
    if (probeChain(list, config, contact.chainInfo)) probeSync(list, config, contact);
    else list.skip('sync', 'the node is on another chain');
    await probeZmq(list, config, rpc);
  } else {
    for (const label of ['chain', 'sync', 'zmq']) list.skip(label, 'the node was not reached');
  }
  probeAddress(list, config, addressMissing);
  const reportDirOk = await probeReportDir(list, config);
  await probeJournal(list, config, reportDirOk);
  await probeMetricsPort(list, config);

  print(list.summary('check'));
  return list.failed ? 1 : 0;
}

/** `mine --smoke-test` and/or `mine --smoke-network`: checklists, then 0 when nothing failed, else 1. */
export async function smokeCommand(config: MineConfig): Promise<number> {
  let failed = false;
  if (config.smokeTest) {
    const list = await runSmokeTest({ config, out: print });
    print(list.summary('smoke test'));
    failed ||= list.failed;
  }
  if (config.smokeNetwork) {
    const list = await runSmokeNetwork({ config, out: print });
    print(list.summary('smoke network'));
    failed ||= list.failed;
  }
  return failed ? 1 : 0;
}
