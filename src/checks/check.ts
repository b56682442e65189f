// `solominer check`: what this machine and node offer, one ok/warn/fail line per item, and
// the runner of `mine --smoke-test` / `mine --smoke-network`, which print the same kind of
// checklist. The CLI only loads the configuration and maps `failed` to an exit code.
import type { MineConfig } from '../config/mine-config.js';
import { rpcClientFor } from '../node/rpc-client.js';
import { Checklist, ScopedChecklist } from './checklist.js';
import {
  probeAddress,
  probeChain,
  probeCpuBackend,
  probeCpuFeatures,
  probeNativeAddon,
  probeGpuAdapters,
  probeJournal,
  probeMetricsPort,
  probeNode,
  probePidFile,
  probeReportDir,
  probeStratum,
  probeSync,
  probeTemperature,
  probeVersionRolling,
  probeZmq,
} from './probes.js';
import { runSmokeNetwork } from './smoke-network.js';
import { runSmokeTest } from './smoke-test.js';

/** `check` waits at most this long for an unreachable node, whatever --connect-timeout says. */
const CHECK_CONNECT_SECONDS = 10;

export interface CheckOptions {
  readonly config: MineConfig;
  /** No payout address was configured (config.address is a placeholder then). */
  readonly addressMissing: boolean;
  readonly out: (line: string) => void;
}

/** Every probe in order; the list's `failed` says whether anything blocks mining. */
export async function runCheck({ config, addressMissing, out }: CheckOptions): Promise<Checklist> {
  const list = new Checklist(out);
  if (probeNativeAddon(list)) {
    probeCpuFeatures(list);
    probeCpuBackend(list, config);
  }
  await probeGpuAdapters(list, config);
  probeVersionRolling(list, config);
  await probeTemperature(list, config);

  // Each node (several: their items named "node 2", "node 2 chain", ...), all at once.
  const several = config.nodes.length > 1;
  const perNode = await Promise.all(
    config.nodes.map(async (entry, i) => {
      const lines = new Checklist();
      const nodeConfig: MineConfig = { ...config, rpcUrl: entry.rpcUrl, rpcUser: entry.rpcUser, rpcPassword: entry.rpcPassword, rpcCookie: entry.rpcCookie, rpcCa: entry.rpcCa, zmq: entry.zmq };
      const rpc = rpcClientFor(nodeConfig);
      const contact = await probeNode(lines, nodeConfig, rpc, Math.min(config.connectTimeout, CHECK_CONNECT_SECONDS) * 1000);
      if (contact) {
        if (probeChain(lines, nodeConfig, contact.chainInfo)) probeSync(lines, nodeConfig, contact);
        else lines.skip('sync', 'the node is on another chain');
        await probeZmq(lines, nodeConfig, rpc);
      } else {
        for (const label of ['chain', 'sync', 'zmq']) lines.skip(label, 'the node was not reached');
      }
      return { lines, reached: contact !== undefined, scope: several ? new ScopedChecklist(list, `node ${i + 1}`) : list };
    }),
  );
  // One node out of reach among several does not block mining (mine uses it once it answers).
  const anyReached = perNode.some((n) => n.reached);
  for (const { lines, reached, scope } of perNode) {
    for (const item of lines.items) {
      const soft = several && anyReached && !reached && item.status === 'fail' && item.label === 'node';
      scope.add(soft ? 'warn' : item.status, item.label, soft ? `${item.detail}; mine goes on from the other nodes and uses it once it answers` : item.detail);
    }
  }
  probeAddress(list, config, addressMissing);
  const reportDirOk = await probeReportDir(list, config);
  await probeJournal(list, config, reportDirOk);
  await probeMetricsPort(list, config);
  await probeStratum(list, config);
  await probePidFile(list, config);
  out(list.summary('check'));
  return list;
}

/** `mine --smoke-test` and/or `--smoke-network`: their checklists; true when nothing failed. */
export async function runSmoke(config: MineConfig, out: (line: string) => void): Promise<boolean> {
  let failed = false;
  if (config.smokeTest) {
    const list = await runSmokeTest({ config, out });
    out(list.summary('smoke test'));
    failed ||= list.failed;
  }
  if (config.smokeNetwork) {
    const list = await runSmokeNetwork({ config, out });
    out(list.summary('smoke network'));
    failed ||= list.failed;
  }
  return !failed;
}
