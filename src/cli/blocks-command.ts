// solominer blocks [--journal f | --report-dir d] [the node flags] [--json]: every found block
// and what became of it — confirmations, when its reward can be spent, orphaned or not — then
// what was won and lost. It reads the found-blocks journal (never writes it: the miner records
// the transitions); given node flags it asks the node (getblockheader per block), else it shows
// what the journal last knew and says so. A node that cannot be reached leaves the journal's
// view on screen and exit code 1.
import type { CommandUnknownOpts } from '@commander-js/extra-typings';

import { formatBtc } from '../bitcoin/subsidy.js';
import { CONFIG_FLAG, ConfigError, loadMineConfig } from '../config/load-config.js';
import { FIELD_BY_KEY, MINE_FIELDS, type FieldKey, type MineConfig } from '../config/mine-config.js';
import { blockHashAt, blockHeader, type ChainInfo } from '../node/node-checks.js';
import { networkOfChain } from '../node/networks.js';
import { rpcClientFor, type RpcClient } from '../node/rpc-client.js';
import { BlockTracker, MATURITY_CONFIRMATIONS, rewardTotals, type JournalTip, type RewardTotals, type TrackedBlock } from '../submit/block-tracker.js';
import { readJournal, type JournalRecord } from '../submit/found-block-journal.js';
import { addFieldOptions, fieldSourcesHelp, fieldValues, newCommand, type RunState } from './command-kit.js';
import { addConfigOption } from './mine-command.js';
import { UsageError } from './usage-error.js';

/** The fields that say where the node is: given any of them (or --config), blocks asks the node. */
const NODE_KEYS: readonly FieldKey[] = ['network', 'rpcUrl', 'rpcUser', 'rpcPassword', 'rpcCookie', 'rpcCa', 'nodes'];
const FIELDS = MINE_FIELDS.filter((f) => NODE_KEYS.includes(f.key) || f.key === 'journal' || f.key === 'reportDir');

export interface BlockRow {
  readonly height: number;
  readonly hash: string;
  readonly foundAt: string;
  readonly engine: string | null;
  readonly worker: string | null;
  readonly address: string | null;
  /** Subsidy plus fees, BTC with eight decimals; null when not known. */
  readonly value: string | null;
  readonly valueSats: number | null;
  readonly subsidySats: number | null;
  readonly feesSats: number | null;
  readonly status: string;
  readonly statusAt: string;
  readonly confirmations: number | null;
  readonly maturityHeight: number;
  /** Blocks still to wait until the reward is spendable (0 once mature); null off the active chain. */
  readonly blocksToMaturity: number | null;
  readonly reason: string | null;
}

export interface BlocksReport {
  readonly journal: string;
  readonly network: string;
  /** node: statuses refreshed from the node now; journal: what the journal last knew. */
  readonly source: 'node' | 'journal';
  /** The tip the statuses are counted at, and when it was seen. */
  readonly tip: { height: number; hash: string; at: string } | null;
  /** Why the node could not be asked (only when node flags were given). */
  readonly nodeError: string | null;
  readonly blocks: BlockRow[];
  readonly totals: {
    mature: { blocks: number; sats: number; btc: string };
    immature: { blocks: number; sats: number; btc: string };
    orphaned: { blocks: number; sats: number; btc: string };
    pending: { blocks: number; sats: number; btc: string };
    rejected: { blocks: number };
    won: number;
    lost: number;
  };
  /** Found blocks of other networks in the same journal, by network. */
  readonly otherNetworks: Record<string, number>;
}

export function blocksCommand(state: RunState): CommandUnknownOpts {
  const cmd = newCommand('blocks', 'every found block and its fate: confirmations, when its reward can be spent, orphaned; totals won and lost');
  addFieldOptions(cmd, FIELDS);
  addConfigOption(cmd);
  cmd.option('--json', 'one JSON object on stdout', false);
  cmd.addHelpText(
    'after',
    '\nWith any node flag (--network, --rpc-*) or --config the statuses are refreshed from the node;\n' +
      'without, the command shows what the journal last knew and says so. It never writes the journal.\n' +
      fieldSourcesHelp(FIELD_BY_KEY.journal),
  );
  cmd.action(async () => {
    const flags = fieldValues(cmd, FIELDS, [CONFIG_FLAG]);
    let config: MineConfig;
    try {
      config = await loadMineConfig({ flags, env: process.env, cwd: process.cwd(), allowMissingAddress: true });
    } catch (err) {
      if (err instanceof ConfigError) throw new UsageError(err.message.replace('mine --help', 'blocks --help'));
      throw err;
    }
    const askNode = NODE_KEYS.some((k) => flags[FIELD_BY_KEY[k].flag] !== undefined) || flags[CONFIG_FLAG] !== undefined;
    const report = await blocksReport(config, { askNode, networkGiven: flags.network !== undefined });
    const json = (cmd.opts() as { json?: boolean }).json === true;
    process.stdout.write(json ? `${JSON.stringify(report)}\n` : `${blocksText(report).join('\n')}\n`);
    state.code = report.nodeError !== null ? 1 : 0;
  });
  return cmd;
}

/** The journal's blocks, refreshed from the node when asked to. */
export async function blocksReport(config: MineConfig, options: { askNode: boolean; networkGiven: boolean }): Promise<BlocksReport> {
  const path = config.journal;
  const scan = await readJournal(path);
  const records: JournalRecord[] = scan?.records ?? [];
  if (scan && (scan.corruptLines.length > 0 || scan.tornTail)) {
    process.stderr.write(`blocks: ${path}: skipped ${scan.corruptLines.length + (scan.tornTail ? 1 : 0)} unreadable line(s)\n`);
  }
  // The network: the one asked for, else that of the last block found.
  const lastFound = records.findLast((r) => r.type === 'found');
  const network = options.askNode || options.networkGiven || lastFound === undefined ? config.network : lastFound.network;

  // Without node flags nothing is asked of a node, so none is contacted (not even for a cookie).
  // With several (--node), the first that answers.
  const rpc = options.askNode ? await firstAnswering(config) : undefined;
  const node = () => {
    if (rpc === undefined) throw new Error('no node flags given');
    return rpc;
  };
  const tracker = new BlockTracker({
    journal: { append: async () => undefined },
    header: (hash) => blockHeader(node(), hash),
    hashAt: (height) => blockHashAt(node(), height),
    log: () => undefined,
    network,
    readOnly: true,
  }).load(records);
  let source: BlocksReport['source'] = 'journal';
  let nodeError: string | null = null;
  let tip: JournalTip | null = tracker.tip;
  if (rpc !== undefined) {
    try {
      const chain = await rpc.call<ChainInfo>('getblockchaininfo');
      const nodeNetwork = networkOfChain(chain.chain);
      if (nodeNetwork !== network) throw new UsageError(`--network: the node at ${rpc.url} is on chain "${chain.chain}", not ${network}`);
      await tracker.checkAll({ hash: chain.bestblockhash, height: chain.blocks });
      if (tracker.failure !== undefined) throw new Error(tracker.failure);
      source = 'node';
      tip = { hash: chain.bestblockhash, height: chain.blocks, time: new Date().toISOString() };
    } catch (err) {
      if (err instanceof UsageError) throw err;
      const message = (err as Error).message.split('\n')[0] ?? '';
      nodeError = message.includes(rpc.url) ? message : `${rpc.url}: ${message}`;
    }
  }

  const blocks = tracker.blocks();
  const otherNetworks: Record<string, number> = {};
  for (const r of records) if (r.type === 'found' && r.network !== network) otherNetworks[r.network] = (otherNetworks[r.network] ?? 0) + 1;
  return {
    journal: path,
    network,
    source,
    tip: tip && { height: tip.height, hash: tip.hash, at: tip.time },
    nodeError,
    blocks: blocks.map(rowOf),
    totals: totalsOf(rewardTotals(blocks)),
    otherNetworks,
  };
}

/** The first configured node that answers getblockchaininfo (the first, when none does: its error is the one said). */
async function firstAnswering(config: MineConfig): Promise<RpcClient> {
  const clients = config.nodes.map((n) => rpcClientFor(n));
  if (clients.length > 1) {
    for (const c of clients) {
      try {
        await c.withTimeout(5000).call('getblockchaininfo');
        return c;
      } catch {
        // the next one
      }
    }
  }
  return clients[0]!;
}

function rowOf(b: TrackedBlock): BlockRow {
  const active = b.status === 'accepted' || b.status === 'confirmed' || b.status === 'mature';
  return {
    height: b.height,
    hash: b.hash,
    foundAt: b.foundAt,
    engine: b.engine === undefined ? null : b.backend !== undefined ? `${b.engine}/${b.backend}` : b.engine,
    worker: b.worker ?? null,
    address: b.address ?? null,
    value: b.coinbaseValue === undefined ? null : formatBtc(b.coinbaseValue),
    valueSats: b.coinbaseValue ?? null,
    subsidySats: b.subsidy ?? null,
    feesSats: b.fees ?? null,
    status: b.status,
    statusAt: b.statusAt,
    confirmations: b.confirmations,
    maturityHeight: b.maturityHeight,
    blocksToMaturity: active && b.confirmations !== null ? Math.max(0, MATURITY_CONFIRMATIONS - b.confirmations) : null,
    reason: b.reason ?? null,
  };
}

function totalsOf(t: RewardTotals): BlocksReport['totals'] {
  const btc = (x: { blocks: number; sats: number }) => ({ ...x, btc: formatBtc(x.sats) });
  return { mature: btc(t.mature), immature: btc(t.immature), orphaned: btc(t.orphaned), pending: btc(t.pending), rejected: t.rejected, won: t.won, lost: t.lost };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The report as lines for a person. */
export function blocksText(r: BlocksReport): string[] {
  const tip = r.tip ? `tip ${r.tip.height}` : 'no tip recorded';
  const lines: string[] = [];
  if (r.source === 'node') lines.push(`${r.network}: ${plural(r.blocks.length, 'found block')} in ${r.journal}, refreshed from the node (${tip})`);
  else {
    const asOf = r.tip ? `${tip}, seen ${r.tip.at}` : 'no check recorded';
    const why = r.nodeError !== null ? `node unreachable (${r.nodeError}); ` : '';
    lines.push(`${r.network}: ${plural(r.blocks.length, 'found block')} in ${r.journal}`);
    lines.push(`${why}showing what the journal last knew (${asOf})${r.nodeError === null ? '; give the node flags (--network, --rpc-url, ...) to refresh' : ''}`);
  }
  for (const [net, n] of Object.entries(r.otherNetworks)) lines.push(`(also ${plural(n, 'block')} of ${net} in this journal: --network ${net})`);
  if (r.blocks.length > 0) {
    const table = [['height', 'hash', 'found (UTC)', 'by', 'payout', 'value (BTC)', 'status', 'conf', 'spendable after']];
    for (const b of r.blocks) {
      const conf = b.confirmations === null ? '?' : String(b.confirmations);
      const spendable =
        b.status === 'mature' ? 'now' : b.blocksToMaturity !== null ? `${b.maturityHeight} (${b.blocksToMaturity} to go)` : b.status === 'orphaned' || b.status === 'rejected' ? 'never' : String(b.maturityHeight);
      table.push([
        String(b.height),
        `${b.hash.slice(0, 16)}…`,
        b.foundAt.replace('T', ' ').replace(/\.\d+Z$/, ''),
        b.worker ?? b.engine ?? '?',
        b.address ?? '?',
        b.value ?? '?',
        b.status,
        conf,
        spendable,
      ]);
    }
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    const numeric = new Set([0, 5, 7]);
    for (const row of table) lines.push(row.map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd());
    for (const b of r.blocks) if (b.reason !== null && (b.status === 'orphaned' || b.status === 'rejected')) lines.push(`  ${b.height} ${b.status}: ${b.reason}`);
  }
  const t = r.totals;
  lines.push(
    `totals: mature ${t.mature.btc} BTC (${plural(t.mature.blocks, 'block')}), immature ${t.immature.btc} BTC (${plural(t.immature.blocks, 'block')}), orphaned ${t.orphaned.btc} BTC (${plural(t.orphaned.blocks, 'block')})` +
      (t.pending.blocks > 0 ? `, awaiting the node ${t.pending.btc} BTC (${plural(t.pending.blocks, 'block')})` : ''),
  );
  lines.push(`blocks won ${t.won}, lost ${t.lost}${t.rejected.blocks > 0 ? ` (${t.rejected.blocks} rejected)` : ''}`);
  return lines;
}
