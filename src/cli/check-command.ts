// solominer check [the flags of mine]: what this machine and node offer, one ok/warn/fail line
// each (src/checks/check.ts); exit 1 when something blocks mining. It reads the same flags,
// SOLOMINER_* variables and config file as `mine`; a missing payout address is a failed line,
// not a refusal to look at everything else.
import type { CommandUnknownOpts } from '@commander-js/extra-typings';

import { runCheck } from '../checks/check.js';
import { CONFIG_FLAG, ConfigError, loadMineConfig, NO_ADDRESS } from '../config/load-config.js';
import { FIELD_BY_KEY, MINE_FIELDS } from '../config/mine-config.js';
import { addFieldOptions, fieldSourcesHelp, fieldValues, newCommand, type RunState } from './command-kit.js';
import { addConfigOption } from './mine-command.js';
import { UsageError } from './usage-error.js';

/** The mine fields that mean nothing to check (what to do, not what to use). */
const NOT_CHECKED = new Set(['maxBlocks', 'duration', 'smokeTest', 'smokeNetwork']);

export function checkCommand(state: RunState): CommandUnknownOpts {
  const cmd = newCommand('check', "check this machine and the node before mining: CPU back ends, GPU adapters, temperature sensors, node, chain, sync, ZMQ, address, report folder, journal, metrics port, pid file");
  const fields = MINE_FIELDS.filter((f) => !NOT_CHECKED.has(f.key));
  addFieldOptions(cmd, fields);
  addConfigOption(cmd);
  cmd.addHelpText('after', fieldSourcesHelp(FIELD_BY_KEY.rpcUrl));
  cmd.action(async () => {
    let config;
    try {
      config = await loadMineConfig({ flags: fieldValues(cmd, fields, [CONFIG_FLAG]), env: process.env, cwd: process.cwd(), allowMissingAddress: true });
    } catch (err) {
      if (err instanceof ConfigError) throw new UsageError(err.message.replace('mine --help', 'check --help'));
      throw err;
    }
    const list = await runCheck({ config, addressMissing: config.address === NO_ADDRESS, out: (line) => process.stdout.write(`${line}\n`) });
    state.code = list.failed ? 1 : 0;
  });
  return cmd;
}
