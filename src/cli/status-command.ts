// solominer status [--json] [--watch [<seconds>]] [--metrics-port <port> | --url <url>]
// [--status-token <t>]: the running miner's state, read from its /status endpoint; with --watch
// redrawn in place until Ctrl-C, for a headless box.
import { setTimeout as sleep } from 'node:timers/promises';

import type { CommandUnknownOpts } from '@commander-js/extra-typings';

import { FIELD_BY_KEY } from '../config/mine-config.js';
import { formatCelsius } from '../engines/thermal.js';
import { chancePerDay, describeChance, describeDuration, formatBtc, formatDifficulty, formatRate } from '../telemetry/format.js';
import type { MinerStatus } from '../telemetry/status-document.js';
import { newCommand, type RunState } from './command-kit.js';
import { intFlag, numberFlag } from './flags.js';
import { healthOf } from './health.js';
import { UsageError } from './usage-error.js';

const TOKEN_ENV = FIELD_BY_KEY.statusToken.env;
const WATCH_DEFAULT_SECONDS = 2;
const FOUND_BLOCKS_SHOWN = 5;

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
  const job = s.job ?? null;
  const perDay = s.expectedTimeToBlock.chancePerDay ?? chancePerDay(s.expectedTimeToBlock.seconds);
  const lines = [
    `${s.network} miner up ${describeDuration(s.uptimeSeconds)} (since ${s.startedAt}), ${formatRate(s.hashesPerSecond)}`,
    ...s.engines.map((e) => `  ${e.engine}/${e.backend}: ${formatRate(e.hashesPerSecond)} (${e.hashes} hashes)`),
    `node: ${s.node.reachable ? 'reachable' : 'UNREACHABLE'}, tip height ${s.node.height ?? '?'} ${s.node.tip ?? ''}`.trimEnd(),
    ...nodeLines(s),
    job
      ? `job: height ${job.height}, ${job.transactions} transactions, fees ${formatBtc(job.feesSats)}${job.tipAgeSeconds === null ? '' : `, tip seen ${describeDuration(job.tipAgeSeconds)} ago`}`
      : 'job: none yet',
    `last template: ${s.lastTemplate ? `${s.lastTemplate.ageSeconds} s ago (${s.lastTemplate.reason})` : 'none yet'}`,
    `best share: ${s.bestShare.run === null ? 'none' : formatDifficulty(s.bestShare.run)} this run, ${s.bestShare.allTime === null ? 'none' : formatDifficulty(s.bestShare.allTime)} of all time`,
    `blocks: ${Object.entries(s.blocks).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    ...rewardLines(s),
    ...thermalLines(s),
    ...(s.foundBlocks ?? []).slice(0, FOUND_BLOCKS_SHOWN).map((b) => {
      const conf = b.confirmations !== undefined && b.confirmations !== null && b.confirmations >= 1 ? `, ${b.confirmations} conf` : '';
      const known = b.knownTo !== undefined && b.knownTo.of > 1 ? `, known to ${b.knownTo.nodes} of ${b.knownTo.of} nodes` : '';
      return `  ${b.time} height ${b.height} ${b.status ?? b.outcome}${conf}${known}${b.reason ? ` (${b.reason})` : ''} ${b.hash}`;
    }),
    `expected time to a block: ${s.expectedTimeToBlock.text}${perDay === null ? '' : `; ${describeChance(perDay)} chance per day`}`,
    `last error: ${s.lastError ? `${s.lastError.time} ${s.lastError.kind}: ${s.lastError.message}` : 'none'}`,
    `reports: ${s.reports.dir} ${s.reports.ok ? `ok (last written ${s.reports.lastWriteAt ?? 'never'})` : `FAILING since ${s.reports.errorSince}: ${s.reports.error}`}`,
  ];
  if (s.pool) {
    const rejected = Object.entries(s.pool.sharesRejected).map(([k, v]) => `${k} ${v}`).join(', ');
    const by = s.pool.connectionsByProtocol;
    const wires = by && Object.keys(by).length > 1 ? ` (${Object.entries(by).map(([k, v]) => `${k} ${v}`).join(', ')})` : '';
    lines.push(`stratum pool ${s.pool.url}: ${s.pool.connections} connection(s)${wires}, shares accepted ${s.pool.sharesAccepted}${rejected ? `, rejected ${rejected}` : ''}`);
    const sv2 = s.pool.sv2;
    // What a Stratum V2 miner needs: ESP-Miner takes host, port and key; SRI-style miners the URL.
    if (sv2) lines.push(`stratum v2: host ${sv2.host}, port ${sv2.port}, authority key ${sv2.authorityKey} (${sv2.url})`);
    for (const w of s.workers ?? []) {
      const best = w.bestShare.allTime === null ? 'none' : formatDifficulty(w.bestShare.allTime);
      lines.push(
        `  ${w.name}${w.connections === 0 ? ' (gone)' : ''}: ${formatRate(w.hashesPerSecond)}, difficulty ${w.difficulty === null ? '?' : formatDifficulty(w.difficulty)}, ` +
          `shares ${w.sharesAccepted}, best ${best}, blocks ${w.blocksFound}, ${w.userAgent ?? 'unknown agent'}`,
      );
    }
  }
  return lines;
}

/** Each configured node, when there are several (one node is the `node:` line). */
function nodeLines(s: MinerStatus): string[] {
  const nodes = s.nodes ?? [];
  if (nodes.length < 2) return nodes.length === 1 && nodes[0]!.state !== 'ok' ? [`  ${nodes[0]!.state}: ${nodes[0]!.reason ?? ''}`.trimEnd()] : [];
  return nodes.map((n) => {
    const answers = Object.entries(n.answers).map(([k, v]) => `${k} ${v}`).join(', ');
    const last = n.lastTemplateAt === null ? '' : ` (last ${describeDuration(Math.max(0, (Date.parse(s.startedAt) + s.uptimeSeconds * 1000 - Date.parse(n.lastTemplateAt)) / 1000))} ago)`;
    return (
      `  node ${n.index} ${n.name}${n.templateSource ? ' (work from it)' : ''}: ${n.state}${n.reason ? ` (${n.reason})` : ''}, height ${n.height ?? '?'}, zmq ${n.zmq}, ` +
      `templates ${n.templates}${last}${answers ? `, answers ${answers}` : ''}`
    );
  });
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

/** Temperatures and the --max-temp limit, when the miner has a sensor or a limit. */
function thermalLines(s: MinerStatus): string[] {
  const temps = s.temperatures ?? [];
  const t = s.thermal;
  if (temps.length === 0 && t === undefined) return [];
  const readings = temps.map((r) => `${r.sensor} ${formatCelsius(r.celsius)}`).join(', ') || 'no reading';
  if (t === undefined) return [`temperature: ${readings}`];
  const state = s.throttled
    ? `PAUSED since ${t.pausedSince ?? '?'}${t.pausedBy ? ` (${t.pausedBy.sensor} at ${formatCelsius(t.pausedBy.celsius)})` : ''}`
    : 'hashing';
  return [
    `temperature: ${readings}; ${state}, pauses above ${formatCelsius(t.maxCelsius)} and resumes below ${formatCelsius(t.resumeCelsius)}; ` +
      `${t.pauses} pause${t.pauses === 1 ? '' : 's'} this run, ${t.pausedSeconds < 1 ? `${t.pausedSeconds} s` : describeDuration(t.pausedSeconds)} paused`,
  ];
}

interface StatusFlags {
  metricsPort?: string | undefined;
  url?: string | undefined;
  statusToken?: string | undefined;
  json: boolean;
  watch?: string | boolean | undefined;
  health: boolean;
}

export function statusCommand(state: RunState): CommandUnknownOpts {
  const cmd = newCommand('status', "a running miner's state, read from its /status endpoint")
    .option('--metrics-port <port>', 'the port `mine --metrics-port` listens on [SOLOMINER_METRICS_PORT]; the host is SOLOMINER_METRICS_HOST or 127.0.0.1')
    .option('--url <url>', 'the status URL instead, e.g. http://127.0.0.1:9464/status')
    .option('--status-token <token>', `the token of a status port served beyond loopback (mine --status-token); prefer the variable [${TOKEN_ENV}]`)
    .option('--json', 'the /status document as JSON on stdout', false)
    .option('--watch [seconds]', `redraw every <seconds> (default ${WATCH_DEFAULT_SECONDS}) until Ctrl-C`)
    .option('--health', 'one line, exit 0 when the miner is healthy (node reachable, a job, reports writable), else 1: for a container HEALTHCHECK', false);
  cmd.action(async (flags) => {
    state.code = await status(flags as StatusFlags);
  });
  return cmd;
}

/** One answer of /status, or an Error saying why there is none (a UsageError for a refused token). */
async function fetchStatus(url: string, token: string | undefined, timeoutMs: number): Promise<MinerStatus> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), ...(token !== undefined && { headers: { authorization: `Bearer ${token}` } }) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new Error(`no miner answered at ${url}: ${cause}`);
  }
  if (res.status === 401) {
    throw new UsageError(`${url}: 401 unauthorized: ${token === undefined ? `this status port needs its token (--status-token or ${TOKEN_ENV})` : 'the status token given is not this miner\'s'}`);
  }
  if (!res.ok) throw new Error(`no miner answered at ${url}: HTTP ${res.status}`);
  return (await res.json()) as MinerStatus;
}

async function status(flags: StatusFlags): Promise<number> {
  const url = statusUrl({ url: flags.url, 'metrics-port': flags.metricsPort });
  const token = flags.statusToken ?? (process.env[TOKEN_ENV] || undefined);
  if (flags.health) {
    if (flags.watch !== undefined || flags.json) throw new UsageError('--health: give it alone, without --watch or --json');
    let s: MinerStatus;
    try {
      s = await fetchStatus(url, token, 5000);
    } catch (err) {
      // Exit 1 even for a refused token: Docker reserves a HEALTHCHECK's exit 2.
      process.stdout.write(`unhealthy: ${(err as Error).message}\n`);
      return 1;
    }
    const verdict = healthOf(s);
    process.stdout.write(`${verdict.line}\n`);
    return verdict.healthy ? 0 : 1;
  }
  if (flags.watch !== undefined) {
    const seconds = flags.watch === true ? WATCH_DEFAULT_SECONDS : numberFlag('watch', String(flags.watch), 0.1, 86_400, WATCH_DEFAULT_SECONDS);
    return watch(url, token, seconds, flags.json, process.stdout);
  }
  const s = await fetchStatus(url, token, 5000);
  process.stdout.write(flags.json ? `${JSON.stringify(s)}\n` : `${textLines(s).join('\n')}\n`);
  return 0;
}

/**
 * Redraws the status every `seconds` until SIGINT/SIGTERM (exit 0). On a terminal the screen is
 * rewritten in place (cursor home, each line cleared to its end, the rest of the screen cleared);
 * elsewhere each snapshot is appended under a time line, or as one JSON line with --json. A miner
 * that stops answering is said so and asked again; a refused token ends it (exit 2).
 */
export async function watch(url: string, token: string | undefined, seconds: number, json: boolean, out: NodeJS.WriteStream): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const inPlace = out.isTTY === true && !json;
  try {
    if (inPlace) out.write('\x1b[?25l\x1b[H\x1b[2J');
    while (!stop.signal.aborted) {
      const started = Date.now();
      let lines: string[];
      try {
        const s = await fetchStatus(url, token, Math.min(5000, Math.max(1000, seconds * 1000)));
        lines = json ? [JSON.stringify(s)] : textLines(s);
      } catch (err) {
        if (err instanceof UsageError) throw err;
        lines = [`${(err as Error).message} (asking again every ${seconds} s)`];
      }
      const head = `solominer status ${url}, every ${seconds} s, Ctrl-C to stop (${new Date().toISOString().replace(/\.\d+Z$/, 'Z')})`;
      if (json) out.write(`${lines[0]}\n`);
      else if (inPlace) {
        const width = Math.max(20, (out.columns ?? 100) - 1);
        const fit = (l: string) => (l.length > width ? `${l.slice(0, width - 1)}…` : l);
        out.write(`\x1b[H${[head, '', ...lines].map((l) => `${fit(l)}\x1b[K`).join('\n')}\n\x1b[J`);
      } else out.write(`${[head, ...lines].join('\n')}\n\n`);
      await sleep(Math.max(0, seconds * 1000 - (Date.now() - started)), undefined, { signal: stop.signal }).catch(() => undefined);
    }
    return 0;
  } finally {
    if (inPlace) out.write('\x1b[?25h');
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
