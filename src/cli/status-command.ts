// solominer status [--json] [--metrics-port <port> | --url <url>]: the running miner's state,
// read from its /status endpoint.
import type { CommandUnknownOpts } from '@commander-js/extra-typings';

import { describeDuration, formatDifficulty, formatRate } from '../telemetry/report-schema.js';
import type { MinerStatus } from '../telemetry/recorder.js';
import { newCommand, type RunState } from './command-kit.js';
import { intFlag } from './flags.js';
import { UsageError } from './usage-error.js';

/** The /status URL from the flags (or SOLOMINER_METRICS_PORT / SOLOMINER_METRICS_HOST). */
export function statusUrl(flags: { url?: string | undefined; 'metrics-port'?: string | undefined }, env: NodeJS.ProcessEnv = process.env): string {
  if (flags.url !== undefined && flags['metrics-port'] !== undefined) throw new UsageError('--url: give either --url or --metrics-port, not both');
  if (flags.url !== undefined) {
    if (!URL.canParse(flags.url) || !/^https?:$/.test(new URL(flags.url).protocol)) {
      throw new UsageError(`--url: expected an http:// URL such as http://127.0.0.1:9464/status, got ${JSON.stringify(flags.url)}`);
    }
    const u = new URL(flags.url);
    if (u.pathname === '/' || u.pathname === '') u.pathname = '/status';
    return u.toString();
  }
  const portText = flags['metrics-port'] ?? (env.SOLOMINER_METRICS_PORT || undefined);
  if (portText === undefined) throw new UsageError('--metrics-port: expected the port `mine --metrics-port` listens on (or --url <url>)');
  const port = intFlag('metrics-port', portText, 1, 65535, 0);
  const host = env.SOLOMINER_METRICS_HOST || '127.0.0.1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/status`;
}

function textLines(s: MinerStatus): string[] {
  const lines = [
    `${s.network} miner up ${describeDuration(s.uptimeSeconds)} (since ${s.startedAt}), ${formatRate(s.hashesPerSecond)}`,
    ...s.engines.map((e) => `  ${e.engine}/${e.backend}: ${formatRate(e.hashesPerSecond)} (${e.hashes} hashes)`),
    `node: ${s.node.reachable ? 'reachable' : 'UNREACHABLE'}, tip height ${s.node.height ?? '?'} ${s.node.tip ?? ''}`.trimEnd(),
    `last template: ${s.lastTemplate ? `${s.lastTemplate.ageSeconds} s ago (${s.lastTemplate.reason})` : 'none yet'}`,
    `best share: ${s.bestShare.run === null ? 'none' : formatDifficulty(s.bestShare.run)} this run, ${s.bestShare.allTime === null ? 'none' : formatDifficulty(s.bestShare.allTime)} of all time`,
    `blocks: ${Object.entries(s.blocks).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    ...rewardLines(s),
    `expected time to a block: ${s.expectedTimeToBlock.text}`,
    `last error: ${s.lastError ? `${s.lastError.time} ${s.lastError.kind}: ${s.lastError.message}` : 'none'}`,
    `reports: ${s.reports.dir} ${s.reports.ok ? `ok (last written ${s.reports.lastWriteAt ?? 'never'})` : `FAILING since ${s.reports.errorSince}: ${s.reports.error}`}`,
  ];
  if (s.pool) {
    const rejected = Object.entries(s.pool.sharesRejected).map(([k, v]) => `${k} ${v}`).join(', ');
    lines.push(`stratum pool ${s.pool.url}: ${s.pool.connections} connection(s), shares accepted ${s.pool.sharesAccepted}${rejected ? `, rejected ${rejected}` : ''}`);
    for (const w of s.workers) {
      const best = w.bestShare.allTime === null ? 'none' : formatDifficulty(w.bestShare.allTime);
      lines.push(
        `  ${w.name}${w.connections === 0 ? ' (gone)' : ''}: ${formatRate(w.hashesPerSecond)}, difficulty ${w.difficulty === null ? '?' : formatDifficulty(w.difficulty)}, ` +
          `shares ${w.sharesAccepted}, best ${best}, blocks ${w.blocksFound}, ${w.userAgent ?? 'unknown agent'}`,
      );
    }
  }
  return lines;
}

/** The last block found and what is not spendable yet (a miner older than the tracker sends neither). */
function rewardLines(s: MinerStatus): string[] {
  const lines: string[] = [];
  const b = s.lastBlock;
  if (b !== undefined) {
    const conf = b === null ? '' : b.confirmations !== null && b.confirmations >= 1 ? `, ${b.confirmations} confirmation${b.confirmations === 1 ? '' : 's'}` : '';
    const value = b === null || b.value === null ? '' : ` ${b.value} BTC`;
    lines.push(`last block found: ${b === null ? 'none' : `${b.height} ${b.hash} ${b.status}${conf},${value} spendable after height ${b.maturityHeight}`}`);
  }
  if (s.immature !== undefined) lines.push(`immature rewards: ${s.immature.btc} BTC in ${s.immature.blocks} block${s.immature.blocks === 1 ? '' : 's'}`);
  return lines;
}

export function statusCommand(state: RunState): CommandUnknownOpts {
  const cmd = newCommand('status', "a running miner's state, read from its /status endpoint")
    .option('--metrics-port <port>', 'the port `mine --metrics-port` listens on [SOLOMINER_METRICS_PORT]; the host is SOLOMINER_METRICS_HOST or 127.0.0.1')
    .option('--url <url>', 'the status URL instead, e.g. http://127.0.0.1:9464/status')
    .option('--json', 'the /status document as JSON on stdout', false);
  cmd.action(async (flags) => {
    state.code = await status(flags);
  });
  return cmd;
}

async function status(flags: { 'metrics-port'?: string | undefined; metricsPort?: string | undefined; url?: string | undefined; json: boolean }): Promise<number> {
  const url = statusUrl({ url: flags.url, 'metrics-port': flags.metricsPort });
  let status: MinerStatus;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    status = (await res.json()) as MinerStatus;
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new Error(`no miner answered at ${url}: ${cause}`);
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(status)}\n`);
  else process.stdout.write(`${textLines(status).join('\n')}\n`);
  return 0;
}
