// Writes a /status document into the page. Text goes in through textContent only: worker names
// and user agents come from the network, and never become markup.
import { chancePerDay, describeChance, describeDuration, formatBtc, formatDifficulty, formatRate } from '../telemetry/format.js';
import type { ErrorEntry, FoundBlockStatus, MinerStatus, NodeStatus, WorkerStatus } from '../telemetry/status-document.js';

const DASH = '–';

function el(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`dashboard: the page has no #${id}`);
  return found;
}

function set(id: string, text: string, tone?: 'good' | 'warn' | 'bad'): void {
  const node = el(id);
  node.textContent = text;
  node.classList.remove('good', 'warn', 'bad');
  if (tone !== undefined) node.classList.add(tone);
}

function cell(text: string, className?: string, title?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className !== undefined) td.className = className;
  if (title !== undefined) td.title = title;
  return td;
}

function fillTable(id: string, rows: HTMLTableRowElement[], empty: string, columns: number): void {
  const body = el(id).querySelector('tbody')!;
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = cell(empty, 'empty');
    td.colSpan = columns;
    tr.append(td);
    rows = [tr];
  }
  body.replaceChildren(...rows);
}

function clock(iso: string | null | undefined): string {
  if (!iso) return DASH;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? DASH : d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

function ago(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return DASH;
  return seconds < 1 ? 'just now' : `${describeDuration(seconds)} ago`;
}

function difficulty(d: number | null | undefined): string {
  return d === null || d === undefined ? DASH : formatDifficulty(d);
}

function count(n: number | undefined): string {
  return n === undefined ? DASH : n.toLocaleString('en-US');
}

const OUTCOME_TONE: Readonly<Record<string, 'good' | 'warn' | 'bad'>> = {
  accepted: 'good',
  confirmed: 'good',
  mature: 'good',
  pending: 'warn',
  found: 'warn',
  submitted: 'warn',
  inconclusive: 'warn',
  unconfirmed: 'warn',
  rejected: 'bad',
  stale: 'bad',
  duplicate: 'bad',
  orphaned: 'bad',
};

function blockRow(b: FoundBlockStatus): HTMLTableRowElement {
  const tr = document.createElement('tr');
  // The block tracker's status, as `solominer blocks` shows it (a miner before it sends the outcome only).
  const status = b.status ?? b.outcome;
  const k = b.knownTo;
  const known = k === undefined ? DASH : `${k.nodes} of ${k.of}${k.peers !== null && k.peers > 0 ? ` · ${k.peers} peer${k.peers === 1 ? '' : 's'}` : ''}`;
  tr.append(
    cell(clock(b.time)),
    cell(String(b.height)),
    cell(b.reason ? `${status} (${b.reason})` : status, OUTCOME_TONE[status]),
    cell(b.confirmations === undefined || b.confirmations === null ? DASH : String(b.confirmations)),
    cell(b.worker ?? `${b.engine}/${b.backend}`),
    cell(b.hash, 'hash', b.hash),
    cell(known, k !== undefined && k.nodes <= 1 && (k.peers ?? 0) === 0 && k.of > 1 ? 'warn' : undefined, k?.names.join(' ')),
  );
  return tr;
}

const NODE_TONE: Readonly<Record<string, 'good' | 'warn' | 'bad'>> = { ok: 'good', connecting: 'warn', restoring: 'warn', 'not-ready': 'warn', unreachable: 'bad', 'wrong-chain': 'bad', refused: 'bad' };

function nodeRow(n: NodeStatus): HTMLTableRowElement {
  const tr = document.createElement('tr');
  const answers = Object.entries(n.answers).map(([k, v]) => `${k} ${v}`).join(', ');
  tr.append(
    cell(`${n.index}. ${n.name}${n.templateSource ? ' (work)' : ''}`, n.templateSource ? 'good' : undefined),
    cell(n.reason ? `${n.state}: ${n.reason}` : n.state, NODE_TONE[n.state]),
    cell(n.height === null ? DASH : String(n.height), undefined, n.tip ?? undefined),
    cell(n.zmq, n.zmq === 'connected' ? undefined : n.zmq === 'none' ? undefined : 'warn'),
    cell(count(n.templates)),
    cell(clock(n.lastTemplateAt)),
    cell(answers === '' ? DASH : answers),
  );
  return tr;
}

function rejected(w: WorkerStatus): string {
  const r = w.sharesRejected;
  const total = Object.values(r).reduce((a, v) => a + v, 0);
  const reasons = Object.entries(r).map(([k, v]) => `${k} ${v}`).join(', ');
  return reasons === '' ? '0' : `${total} (${reasons})`;
}

/** The wires a worker is connected over, for its tooltip. */
function wires(protocols: readonly string[] | undefined): string | undefined {
  if (protocols === undefined || protocols.length === 0) return undefined;
  return protocols.map((p) => (p === 'v2' ? 'Stratum V2' : 'Stratum V1')).join(' + ');
}

/** Where miners connect: Stratum V1's URL; Stratum V2's host, port and authority key (ESP-Miner's three settings) and URL. */
function endpoints(s: MinerStatus): string {
  const pool = s.pool;
  if (!pool) return '';
  const parts: string[] = [];
  if (pool.url.startsWith('stratum+tcp://')) parts.push(`Stratum V1: ${pool.url}`);
  if (pool.sv2) parts.push(`Stratum V2: host ${pool.sv2.host}, port ${pool.sv2.port}, authority key ${pool.sv2.authorityKey} — ${pool.sv2.url}`);
  // No operator address: a name that is not an address is refused, so say what to log in as.
  if (pool.login === 'address') parts.push(`user name: your ${s.network} payout address, <address>[.<worker>] (no other logins: this pool has no operator address)`);
  return parts.join(' · ');
}

function workerRow(w: WorkerStatus): HTMLTableRowElement {
  const tr = document.createElement('tr');
  const best = w.bestShare.allTime !== null && w.bestShare.allTime !== w.bestShare.run ? `${difficulty(w.bestShare.run)} (ever ${difficulty(w.bestShare.allTime)})` : difficulty(w.bestShare.run);
  tr.append(
    cell(w.name, undefined, [w.address, w.userAgent, wires(w.protocols)].filter((x) => x).join(' · ') || undefined),
    cell(formatRate(w.hashesPerSecond)),
    cell(count(w.sharesAccepted)),
    cell(rejected(w)),
    cell(best),
    cell(clock(w.lastShareAt)),
    cell(count(w.blocksFound)),
    cell(clock(w.connectedSince)),
  );
  return tr;
}

function errorItem(e: ErrorEntry): HTMLLIElement {
  const li = document.createElement('li');
  const when = document.createElement('span');
  when.className = 'when';
  when.textContent = `${clock(e.time)} · ${e.kind} · `;
  const what = document.createElement('span');
  what.className = e.severity === 'error' ? 'bad' : 'warn';
  what.textContent = e.message;
  const action = document.createElement('div');
  action.className = 'when';
  action.textContent = e.action;
  li.append(when, what, action);
  return li;
}

export function renderStatus(s: MinerStatus): void {
  set('network', s.network);
  const rate = el('rate');
  rate.textContent = formatRate(s.hashesPerSecond);
  rate.dataset.hps = String(s.hashesPerSecond);
  const engines = s.engines.map((e) => {
    const li = document.createElement('li');
    li.textContent = `${e.engine}/${e.backend} ${formatRate(e.hashesPerSecond)}`;
    return li;
  });
  el('engines').replaceChildren(...engines);

  const job = s.job;
  set('job-height', job ? String(job.height) : DASH);
  set('job-txs', job ? count(job.transactions) : DASH);
  set('job-fees', job ? formatBtc(job.feesSats) : DASH);
  set('job-reward', job ? formatBtc(job.coinbaseValueSats) : DASH);
  set('job-tip-age', job ? ago(job.tipAgeSeconds) : DASH);

  // The node work comes from; when none is usable, why the first is not.
  const work = s.nodes?.find((n) => n.templateSource);
  const first = s.nodes?.[0];
  const down = !s.node.reachable && first !== undefined ? `${first.state.toUpperCase()}${first.reason ? `: ${first.reason}` : ''}` : 'UNREACHABLE';
  set('node-state', s.node.reachable ? (s.nodes !== undefined && s.nodes.length > 1 && work ? `reachable (${work.name})` : 'reachable') : down, s.node.reachable ? 'good' : 'bad');
  const nodesCard = el('nodes-card');
  nodesCard.hidden = s.nodes === undefined || s.nodes.length < 2;
  if (!nodesCard.hidden) fillTable('nodes', s.nodes!.map(nodeRow), 'no node', 7);
  set('node-height', s.node.height === null ? DASH : String(s.node.height));
  set('node-difficulty', difficulty(s.node.networkDifficulty));
  set('node-template', s.lastTemplate ? `${ago(s.lastTemplate.ageSeconds)} (${s.lastTemplate.reason})` : 'none yet');
  set('node-tip', s.node.tip ?? DASH);
  // The hottest sensor; paused for heat is said first (--max-temp).
  const hottest = [...(s.temperatures ?? [])].sort((a, b) => b.celsius - a.celsius)[0];
  const temp = hottest === undefined ? DASH : `${hottest.celsius.toFixed(0)} °C (${hottest.sensor})`;
  set('node-temp', s.throttled === true ? `PAUSED, too hot: ${temp}` : temp, s.throttled === true ? 'bad' : undefined);
  set('odds-immature', s.immature.blocks === 0 ? 'none' : `${s.immature.btc} BTC (${count(s.immature.blocks)} block${s.immature.blocks === 1 ? '' : 's'})`);

  const eta = s.expectedTimeToBlock;
  set('odds-time', eta.seconds === null ? DASH : describeDuration(eta.seconds));
  const perDay = eta.chancePerDay ?? chancePerDay(eta.seconds);
  set('odds-day', perDay === null ? DASH : describeChance(perDay));
  set('odds-text', eta.text);

  set('best-hour', difficulty(s.bestShare.hour));
  set('best-run', difficulty(s.bestShare.run));
  set('best-all', difficulty(s.bestShare.allTime));
  set('candidates', count(s.candidates));

  const workersCard = el('workers-card');
  workersCard.hidden = s.workers === undefined;
  if (s.workers !== undefined) fillTable('workers', s.workers.map(workerRow), 'no worker connected', 8);
  set('pool-endpoints', endpoints(s));

  const counts = Object.entries(s.blocks).map(([k, v]) => `${k} ${v}`);
  set('block-counts', counts.length > 0 ? counts.join(' · ') : 'none yet');
  fillTable('blocks', (s.foundBlocks ?? []).map(blockRow), 'no block found yet', 7);

  const errors = s.recentErrors ?? (s.lastError ? [s.lastError] : []);
  const list = el('errors');
  if (errors.length === 0) {
    const li = document.createElement('li');
    li.className = 'empty';
    li.textContent = `none${s.errors > 0 ? ` kept (${s.errors} in all)` : ''}`;
    list.replaceChildren(li);
  } else {
    list.replaceChildren(...errors.map(errorItem));
  }

  set('uptime', `up ${describeDuration(s.uptimeSeconds)} since ${clock(s.startedAt)}`);
  set('reports', s.reports.ok ? `reports: ${s.reports.dir}` : `reports FAILING since ${clock(s.reports.errorSince)}: ${s.reports.error ?? ''}`, s.reports.ok ? undefined : 'bad');
}

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'closed';

const CONNECTION_TEXT: Readonly<Record<ConnectionState, string>> = {
  connecting: 'connecting',
  live: 'live',
  reconnecting: 'reconnecting…',
  closed: 'disconnected',
};

export function setConnection(state: ConnectionState): void {
  const node = el('connection');
  node.dataset.state = state;
  node.textContent = CONNECTION_TEXT[state];
}
