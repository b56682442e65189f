// Prometheus metrics of a running miner (prom-client, a private registry). Counters are
// incremented from the miner's periodic events (never per hash); gauges read the live status
// when scraped.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What the gauges read at scrape time. */
export interface MetricsView {
  readonly engines: ReadonlyArray<{ engine: string; backend: string; hashesPerSecond: number }>;
  readonly bestShareHour: number | null;
  readonly bestShareAllTime: number | null;
  readonly nodeHeight: number | null;
  readonly networkDifficulty: number | null;
  readonly expectedSecondsToBlock: number | null;
  readonly nodeReachable: boolean;
  readonly reportsWritable: boolean;
  readonly uptimeSeconds: number;
  readonly lastTemplateAgeSeconds: number | null;
  /** The Stratum pool, when served. */
  readonly pool: {
    readonly connections: number;
    /** Per wire ("v1", "v2"); absent: all are Stratum V1's. */
    readonly connectionsByProtocol?: Readonly<Record<string, number>>;
    readonly workers: ReadonlyArray<{ name: string; hashesPerSecond: number; bestShare: { allTime: number | null } }>;
  } | null;
  /** The pool mined through (mine --pool). */
  readonly upstream: { readonly connected: boolean; readonly difficulty: number | null } | null;
  /** Satoshis of accepted blocks not yet mature; null when no block tracker reports. */
  readonly immatureSats: number | null;
  /** The engines' temperature sensors, last poll; empty without one. */
  readonly temperatures: ReadonlyArray<{ sensor: string; celsius: number }>;
  /** Hashing paused for heat (--max-temp). */
  readonly throttled: boolean;
  /** The configured nodes (mining from nodes). */
  readonly nodes: ReadonlyArray<{ name: string; state: string; height: number | null; templateSource: boolean }>;
}

/** Workers with a label of their own (the fastest); the others are summed as worker="(other)". */
export const WORKER_LABEL_LIMIT = 50;

export const METRIC_NAMES = [
  'solominer_hashes_total',
  'solominer_hash_rate',
  'solominer_templates_total',
  'solominer_work_switches_total',
  'solominer_work_switch_latency_seconds',
  'solominer_candidates_total',
  'solominer_blocks_total',
  'solominer_best_share_difficulty',
  'solominer_node_height',
  'solominer_network_difficulty',
  'solominer_expected_seconds_to_block',
  'solominer_errors_total',
  'solominer_node_reachable',
  'solominer_report_dir_writable',
  'solominer_uptime_seconds',
  'solominer_last_template_age_seconds',
  'solominer_upstream_connected',
  'solominer_upstream_difficulty',
  'solominer_upstream_shares_total',
  'solominer_upstream_reconnects_total',
  'solominer_stratum_shares_total',
  'solominer_stratum_fanout_seconds',
  'solominer_stratum_connections',
  'solominer_stratum_worker_hash_rate',
  'solominer_stratum_worker_best_share_difficulty',
  'solominer_immature_value_btc',
  'solominer_temperature_celsius',
  'solominer_throttled',
  'solominer_node_up',
  'solominer_node_tip_height',
  'solominer_node_template_source',
  'solominer_node_answers_total',
] as const;

/**
 * Outcomes whose counter series exist from the start at 0: Prometheus's increase() cannot see a
 * series' first sample as an increase, so an alert on the first block found would never fire.
 */
export const BLOCK_OUTCOMES = ['found', 'accepted', 'rejected', 'stale', 'duplicate', 'inconclusive', 'unconfirmed', 'orphaned', 'restored', 'matured', 'isolated'] as const;

export class MinerMetrics {
  readonly registry = new Registry();
  readonly hashes: Counter<'engine' | 'backend'>;
  readonly templates: Counter<'reason'>;
  readonly switches: Counter<'new_tip'>;
  readonly switchLatency: Histogram<'new_tip'>;
  readonly candidates: Counter<'engine'>;
  readonly blocks: Counter<'outcome'>;
  readonly errors: Counter<'kind'>;
  readonly poolShares: Counter<'result' | 'reason' | 'protocol'>;
  readonly upstreamShares: Counter<'result' | 'reason'>;
  readonly upstreamReconnects: Counter;
  readonly poolFanout: Histogram<'new_tip' | 'protocol'>;
  readonly nodeAnswers: Counter<'node' | 'outcome'>;

  constructor(view: () => MetricsView) {
    const registers = [this.registry];
    this.hashes = new Counter({ name: 'solominer_hashes_total', help: 'Nonces hashed (SHA-256d of a header), per engine and back end', labelNames: ['engine', 'backend'], registers });
    this.templates = new Counter({ name: 'solominer_templates_total', help: 'Block templates fetched, by how the need arose (initial, zmq, longpoll, refresh, submit)', labelNames: ['reason'], registers });
    this.switches = new Counter({ name: 'solominer_work_switches_total', help: 'Work switches (every engine moved to a new job)', labelNames: ['new_tip'], registers });
    this.switchLatency = new Histogram({
      name: 'solominer_work_switch_latency_seconds',
      help: 'Trigger (ZMQ message, timer, ...) to every engine hashing the new job',
      labelNames: ['new_tip'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.candidates = new Counter({ name: 'solominer_candidates_total', help: 'Shares (hashes at difficulty 1 or the block target) re-checked by the orchestrator', labelNames: ['engine'], registers });
    this.blocks = new Counter({ name: 'solominer_blocks_total', help: 'Blocks by outcome: found, then accepted, rejected, stale, duplicate, inconclusive, unconfirmed; later orphaned, restored (back in the active chain), matured (100 confirmations) and isolated (known to one node only past --propagation-alarm)', labelNames: ['outcome'], registers });
    for (const outcome of BLOCK_OUTCOMES) this.blocks.inc({ outcome }, 0);
    this.errors = new Counter({ name: 'solominer_errors_total', help: 'Errors and warnings, by kind (as in errors.jsonl)', labelNames: ['kind'], registers });

    this.poolShares = new Counter({ name: 'solominer_stratum_shares_total', help: 'Stratum shares: accepted, or rejected by reason (stale, duplicate, low-difficulty, unauthorized, not-subscribed, other), by wire (protocol v1 or v2)', labelNames: ['result', 'reason', 'protocol'], registers });
    this.upstreamShares = new Counter({ name: 'solominer_upstream_shares_total', help: 'Shares sent to the pool this miner mines through (mine --pool): accepted, or rejected by the reason code the pool gave', labelNames: ['result', 'reason'], registers });
    this.upstreamReconnects = new Counter({ name: 'solominer_upstream_reconnects_total', help: 'Sessions with the pool after the first (mine --pool)', registers });
    this.poolFanout = new Histogram({
      name: 'solominer_stratum_fanout_seconds',
      help: 'A new job (trigger) to the last job message written to every ready Stratum connection (mining.notify on v1, the job and SetNewPrevHash on v2), by wire',
      labelNames: ['new_tip', 'protocol'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });

    const gauge = (name: string, help: string, read: (v: MetricsView, g: Gauge) => void, labelNames: string[] = []) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        collect() {
          read(view(), this as Gauge);
        },
      });
    const set = (g: Gauge, value: number | null, labels?: Record<string, string>) => {
      if (value === null || !Number.isFinite(value)) return;
      if (labels) g.set(labels, value);
      else g.set(value);
    };
    gauge('solominer_hash_rate', 'Hashes per second over the last 30 s, per engine and back end', (v, g) => {
      g.reset();
      for (const e of v.engines) g.set({ engine: e.engine, backend: e.backend }, e.hashesPerSecond);
    }, ['engine', 'backend']);
    gauge('solominer_best_share_difficulty', 'Best share (lowest hash) as a difficulty, this hour and of all time', (v, g) => {
      set(g, v.bestShareHour, { window: 'hour' });
      set(g, v.bestShareAllTime, { window: 'all_time' });
    }, ['window']);
    gauge('solominer_node_height', 'Height of the node\'s tip (the block being mined is one more)', (v, g) => set(g, v.nodeHeight));
    gauge('solominer_network_difficulty', 'Difficulty of the block being mined', (v, g) => set(g, v.networkDifficulty));
    gauge('solominer_expected_seconds_to_block', 'network difficulty × 2^32 / hash rate: mean seconds to a block at the current rate', (v, g) => set(g, v.expectedSecondsToBlock));
    gauge('solominer_node_reachable', '1 while the node answers RPC, 0 while it does not', (v, g) => g.set(v.nodeReachable ? 1 : 0));
    gauge('solominer_report_dir_writable', '1 while hourly reports are written, 0 while the report directory fails', (v, g) => g.set(v.reportsWritable ? 1 : 0));
    gauge('solominer_uptime_seconds', 'Seconds since the miner started', (v, g) => g.set(v.uptimeSeconds));
    gauge('solominer_upstream_connected', '1 while logged in to the pool this miner mines through (mine --pool)', (v, g) => {
      if (v.upstream) g.set(v.upstream.connected ? 1 : 0);
    });
    gauge('solominer_upstream_difficulty', "The pool's share difficulty now (mine --pool)", (v, g) => set(g, v.upstream?.difficulty ?? null));
    gauge('solominer_stratum_connections', 'Open Stratum connections, by wire (protocol v1 or v2)', (v, g) => {
      g.reset();
      if (!v.pool) return;
      for (const [protocol, n] of Object.entries(v.pool.connectionsByProtocol ?? { v1: v.pool.connections })) g.set({ protocol }, n);
    }, ['protocol']);
    const perWorker = (pick: (w: NonNullable<MetricsView['pool']>['workers'][number]) => number | null, sumOthers: boolean) => (v: MetricsView, g: Gauge) => {
      g.reset();
      if (!v.pool) return;
      const workers = [...v.pool.workers].sort((a, b) => b.hashesPerSecond - a.hashesPerSecond);
      let other = 0;
      workers.forEach((w, i) => {
        const value = pick(w);
        if (value === null) return;
        if (i < WORKER_LABEL_LIMIT) g.set({ worker: w.name }, value);
        else other = sumOthers ? other + value : Math.max(other, value);
      });
      if (workers.length > WORKER_LABEL_LIMIT) g.set({ worker: '(other)' }, other);
    };
    gauge('solominer_stratum_worker_hash_rate', `Hash rate a Stratum worker's accepted shares prove (10 min); the ${WORKER_LABEL_LIMIT} fastest by name, the rest summed as (other)`, perWorker((w) => w.hashesPerSecond, true), ['worker']);
    gauge('solominer_stratum_worker_best_share_difficulty', 'Best share of a Stratum worker of all time (kept across restarts)', perWorker((w) => w.bestShare.allTime, false), ['worker']);
    gauge('solominer_immature_value_btc', 'Rewards (subsidy and fees) of found blocks in the active chain with fewer than 100 confirmations, in BTC', (v, g) =>
      set(g, v.immatureSats === null ? null : v.immatureSats / 1e8),
    );
    gauge('solominer_temperature_celsius', "The engines' temperature sensors (CPU package or die, GPU), last poll", (v, g) => {
      g.reset();
      for (const t of v.temperatures) g.set({ sensor: t.sensor }, t.celsius);
    }, ['sensor']);
    gauge('solominer_throttled', '1 while hashing is paused because a sensor is above --max-temp, else 0', (v, g) => g.set(v.throttled ? 1 : 0));
    this.nodeAnswers = new Counter({ name: 'solominer_node_answers_total', help: "A node's answers to found blocks (submitted, replayed or handed back), by outcome", labelNames: ['node', 'outcome'], registers });
    const perNode = (pick: (n: MetricsView['nodes'][number]) => number | null) => (v: MetricsView, g: Gauge) => {
      g.reset();
      for (const n of v.nodes) set(g, pick(n), { node: n.name });
    };
    gauge('solominer_node_up', '1 while a configured node is usable (reachable, on the chain, synced), else 0', perNode((n) => (n.state === 'ok' ? 1 : 0)), ['node']);
    gauge('solominer_node_tip_height', "A configured node's tip height as last seen", perNode((n) => n.height), ['node']);
    gauge('solominer_node_template_source', '1 for the node templates come from now, 0 for the others', perNode((n) => (n.templateSource ? 1 : 0)), ['node']);
    gauge('solominer_last_template_age_seconds', 'Seconds since the last block template arrived', (v, g) => set(g, v.lastTemplateAgeSeconds));
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
