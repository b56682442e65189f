// The one recorder of a running miner's events (docs/architecture.md, "Watching it"): the
// service calls one method per event (periodic hash counts, never per hash) and the recorder
// feeds everything that watches — the run's tally (the end-of-run summary), the hourly report
// files, the Prometheus metrics and /status endpoint, and the live status line. Nothing else
// counts events, so no two views can disagree.
import { NETWORKS, type Network } from '../bitcoin/address.js';
import { blockSubsidy, formatBtc, type BlockReward } from '../bitcoin/subsidy.js';
import { bitsToDifficulty } from '../bitcoin/target.js';
import { HourlyReports } from './hourly-report.js';
import type { Logger } from './logger.js';
import { MinerMetrics } from './metrics.js';
import type { BlockEventName, NotifyBlock, NotifyEvent } from './notify/notification-events.js';
import { RateColumns, Ring } from './rate-history.js';
import {
  chancePerDay,
  describeDuration,
  describeExpectedTime,
  expectedSecondsToBlock,
  formatDifficulty,
  formatRate,
  type ErrorKind,
  type ErrorRecord,
  type Severity,
} from './report-schema.js';
import { StatusLine } from './status-line.js';
import { RunTally, type EngineTally } from './run-tally.js';
import { sseFrame, SseHub } from './sse.js';
import { EVENT_NAMES, STATUS_SCHEMA_VERSION, type FoundBlockStatus, type KnownToStatus, type LoginRule, type MinerStatus, type NodeStatus, type RateSample, type StatusBlock, type Sv2Status, type WorkerStatus } from './status-document.js';
import { StatusServer } from './status-server.js';

export { STATUS_SCHEMA_VERSION, type MinerStatus, type StatusBlock, type WorkerStatus };
const RATE_WINDOW_MS = 30_000;
/** The hash-rate history: a sample every 10 s for 24 h, so a page opened now draws the day at once. */
const HISTORY_INTERVAL_MS = 10_000;
const HISTORY_SPAN_MS = 24 * 3_600_000;
/** How often open /events streams get the status (and at once when a block is found or answered). */
const STATUS_PUSH_INTERVAL_MS = 2_000;
const FOUND_BLOCKS_KEPT = 20;
const RECENT_ERRORS_KEPT = 10;

export interface RecorderConfig {
  readonly network: string;
  readonly reportDir: string;
  readonly metricsPort?: number | undefined;
  readonly metricsHost: string;
  /** Required when metricsHost is beyond loopback (the config loader says so first). */
  readonly statusToken?: string | undefined;
  readonly logFormat: string;
  /** --max-temp and --resume-temp, when a temperature limit is set. */
  readonly maxTemp?: number | undefined;
  readonly resumeTemp?: number | undefined;
}

/** Periods of the live views; tests shorten them. */
export interface TelemetryTiming {
  /** One hash-rate sample into the history ring this often (default 10 s). */
  readonly historyIntervalMs?: number;
  /** Samples kept (default 24 h worth). */
  readonly historyCapacity?: number;
  /** The status pushed to open /events streams this often (default 2 s). */
  readonly statusPushIntervalMs?: number;
}

export interface RecorderOptions {
  readonly config: RecorderConfig;
  readonly log: Logger;
  /** Periodic flush of the current hour's report (default 60 s). */
  readonly reportFlushIntervalMs?: number;
  readonly now?: () => number;
  /** Where the live status line goes when it is a terminal (default process.stderr). */
  readonly statusStream?: NodeJS.WriteStream;
  /** Where block and node events go to become notifications (notify/notifier.ts); must not block. */
  readonly notify?: (event: NotifyEvent) => void;
  readonly timing?: TelemetryTiming;
}

/** What the recorder reads of a Stratum pool at status or scrape time. */
export interface PoolView {
  /** Stratum V1's URL ('' when only Stratum V2 is served). */
  readonly url: string;
  readonly connections: number;
  /** Where Stratum V2 miners connect, when it is served. */
  readonly sv2?: Sv2Status | undefined;
  /** What a login's user name must be. */
  readonly login?: LoginRule;
  /** Open connections per wire. */
  connectionsBy?(): Readonly<Record<string, number>>;
  workers(): readonly WorkerStatus[];
}


interface UpstreamLive {
  url: string | null;
  connected: boolean;
  everConnected: boolean;
  since: number | null;
  difficulty: number | null;
  accepted: number;
  readonly rejected: Map<string, number>;
  dropped: number;
  reconnects: number;
}

/** What the block tracker knows, as the recorder shows it (the service adapts the tracker to it). */
export interface RewardsView {
  readonly lastBlock: BlockInfo | null;
  readonly immature: { blocks: number; sats: number };
  /** The newest found blocks (at most 20, newest first), with the tracker's status and confirmations. */
  readonly blocks?: readonly BlockInfo[];
}

/** One configured node as the service sees it (src/miner/node-wiring.ts adapts the node set to it). */
export interface NodeInfo {
  /** Its RPC URL. */
  readonly name: string;
  readonly index: number;
  readonly state: string;
  readonly reason: string | null;
  /** Date.now() when it entered its state. */
  readonly since: number;
  readonly height: number | null;
  readonly tip: string | null;
  readonly zmq: string;
  readonly templateSource: boolean;
}

/** This run's counts of one node. */
interface NodeCounts {
  templates: number;
  lastTemplateAt: number | null;
  readonly answers: Record<string, number>;
}

/** Minimal shape of a work switch (miner.ts WorkSwitch), so ops need not import the miner. */
export interface WorkSwitchInfo {
  readonly job: {
    readonly height: number;
    readonly bits: number;
    readonly previousBlockHash: string;
    /** Transactions in the block, coinbase included. */
    readonly txCount: number;
    /** Satoshis: subsidy plus fees. */
    readonly coinbaseValue: number;
  };
  readonly reason: string;
  readonly newTip: boolean;
  readonly latencyMs: number;
  readonly overheadMs: number;
}

export interface BlockInfo extends BlockReward {
  readonly height: number;
  readonly hash: string;
  readonly engine?: string;
  readonly backend?: string;
  /** Set when a Stratum worker's share solved the block. */
  readonly worker?: string;
  readonly foundAt?: string;
  readonly status?: string;
  readonly confirmations?: number | null;
  readonly maturityHeight?: number;
  readonly reason?: string;
  /** Which configured nodes hold it (their RPC URLs, of how many) and how many of their peers took it. */
  readonly knownTo?: { readonly nodes: readonly string[]; readonly of: number; readonly peers: number | null };
  /** When it was solved (ISO 8601), for rows of earlier runs. */
  readonly foundAtTime?: string;
}

/** A temperature reading (engines/thermal.ts TemperatureReading), so telemetry need not import the engines. */
export interface TemperatureInfo {
  readonly sensor: string;
  readonly kind: string;
  readonly celsius: number;
}

/** A pause or resume for heat (engines/thermal.ts ThermalChange). */
export interface ThermalChangeInfo {
  readonly reading: TemperatureInfo;
  readonly maxCelsius: number;
  readonly resumeCelsius: number;
}

/** A block's move between lifecycle statuses (block-tracker.ts), as the recorder takes it. */
export interface BlockChange {
  readonly block: BlockInfo & { readonly status: string };
  readonly from: string;
}

/** An engine's [time, cumulative hashes] samples, one a second over the rate window. */
interface RateWindow {
  readonly tally: EngineTally;
  readonly samples: Array<[number, number]>;
}

/** A block as notifications carry it. */
function notifyBlockOf(b: BlockInfo): NotifyBlock {
  return {
    height: b.height,
    hash: b.hash,
    status: b.status ?? 'found',
    confirmations: b.confirmations ?? null,
    maturityHeight: b.maturityHeight ?? b.height + 99,
    ...(b.foundAt !== undefined && { foundAt: b.foundAt }),
    ...(b.engine !== undefined && { engine: b.backend !== undefined && b.backend !== '' ? `${b.engine}/${b.backend}` : b.engine }),
    ...(b.worker !== undefined && { worker: b.worker }),
    ...(b.address !== undefined && { address: b.address }),
    ...(b.coinbaseValue !== undefined && { value: formatBtc(b.coinbaseValue), valueSats: b.coinbaseValue }),
    ...(b.subsidy !== undefined && { subsidySats: b.subsidy }),
    ...(b.fees !== undefined && { feesSats: b.fees }),
    ...(b.reason !== undefined && { reason: b.reason }),
    ...(b.knownTo !== undefined && { knownTo: knownToOf(b.knownTo) }),
  };
}

/** "known to k of n nodes" as status and notifications carry it. */
function knownToOf(k: NonNullable<BlockInfo['knownTo']>): KnownToStatus {
  return { nodes: k.nodes.length, of: k.of, peers: k.peers, names: [...k.nodes] };
}

export class Recorder {
  readonly log: Logger;
  private readonly options: RecorderOptions;
  private readonly now: () => number;
  private readonly startedAt: number;
  /** This run's counts (the end-of-run summary reads them). */
  readonly run: RunTally;
  private readonly reports: HourlyReports;
  private readonly metrics: MinerMetrics;
  private server: StatusServer | undefined;
  private readonly statusLine: StatusLine | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private readonly rates = new Map<string, RateWindow>();
  private nodeHeight: number | null = null;
  private tip: string | null = null;
  private networkDifficulty: number | null = null;
  private nodeReachable = true;
  private lastTemplate: { at: number; reason: string } | null = null;
  private errors = 0;
  private lastError: ErrorRecord | null = null;
  private poolView: PoolView | undefined;
  private upstream: UpstreamLive | undefined;
  private rewards: (() => RewardsView) | undefined;
  private nodesView: (() => readonly NodeInfo[]) | undefined;
  private readonly nodeCounts = new Map<string, NodeCounts>();
  private readonly recentErrors: ErrorRecord[] = [];
  private job: { height: number; txCount: number; coinbaseValue: number } | null = null;
  private tipSeenAt: number | null = null;
  private readonly foundBlocks: FoundBlockStatus[] = [];
  private readonly historyIntervalMs: number;
  private readonly history: Ring<RateSample>;
  private lastSampleAt: number;
  private readonly statusPushIntervalMs: number;
  private lastPushAt = 0;
  private pushScheduled = false;
  /** Open /events streams. */
  private readonly hub = new SseHub();
  /** The last poll of the temperature sensors. */
  private temps: TemperatureInfo[] = [];
  /** Heat pauses this run: the running one's start (ms), how many, and the time of the ended ones. */
  private readonly heat = { since: null as number | null, by: null as TemperatureInfo | null, pauses: 0, pausedMs: 0 };

  private constructor(options: RecorderOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.run = new RunTally(this.startedAt);
    this.historyIntervalMs = options.timing?.historyIntervalMs ?? HISTORY_INTERVAL_MS;
    this.history = new Ring(options.timing?.historyCapacity ?? Math.ceil(HISTORY_SPAN_MS / this.historyIntervalMs));
    this.lastSampleAt = this.startedAt;
    this.statusPushIntervalMs = options.timing?.statusPushIntervalMs ?? STATUS_PUSH_INTERVAL_MS;
    const stream = options.statusStream ?? process.stderr;
    this.statusLine = StatusLine.wanted(stream, options.config.logFormat) ? new StatusLine(stream, () => this.statusText()) : undefined;
    this.log = this.statusLine ? this.statusLine.wrap(options.log) : options.log;
    this.metrics = new MinerMetrics(() => {
      const s = this.status();
      return {
        engines: s.engines,
        bestShareHour: s.bestShare.hour,
        bestShareAllTime: s.bestShare.allTime,
        nodeHeight: s.node.height,
        networkDifficulty: s.node.networkDifficulty,
        expectedSecondsToBlock: s.expectedTimeToBlock.seconds,
        nodeReachable: s.node.reachable,
        reportsWritable: s.reports.ok,
        uptimeSeconds: s.uptimeSeconds,
        lastTemplateAgeSeconds: s.lastTemplate?.ageSeconds ?? null,
        pool: s.pool ? { connections: s.pool.connections, ...(s.pool.connectionsByProtocol && { connectionsByProtocol: s.pool.connectionsByProtocol }), workers: s.workers ?? [] } : null,
        upstream: s.upstream ? { connected: s.upstream.connected, difficulty: s.upstream.difficulty } : null,
        immatureSats: this.rewards ? s.immature.sats : null,
        temperatures: s.temperatures ?? [],
        throttled: s.throttled === true,
        nodes: s.nodes ?? [],
      };
    });
    this.reports = new HourlyReports({
      dir: options.config.reportDir,
      runStartedAt: this.startedAt,
      now: this.now,
      ...(options.reportFlushIntervalMs !== undefined && { flushIntervalMs: options.reportFlushIntervalMs }),
      context: () => ({
        network: options.config.network,
        runStartedAt: this.startedAt,
        nodeHeight: this.nodeHeight,
        tip: this.tip,
        networkDifficulty: this.networkDifficulty,
        nodeReachable: this.reachable(),
        throttledSince: this.heat.since,
        nodes: this.nodesView?.().map((n) => ({ node: n.name, state: n.state, height: n.height })) ?? [],
      }),
      onWriteState: (err) => {
        if (err) {
          this.error('report-write', 'error', `report directory ${options.config.reportDir}: ${err.message}`, 'kept mining; counts kept in memory, retried at every flush');
        } else {
          this.log('info', `report directory ${options.config.reportDir} writable again; reports caught up`);
        }
      },
    });
  }

  /** Opens the reports (first write of this hour) and the metrics endpoint when asked for. */
  static async start(options: RecorderOptions): Promise<Recorder> {
    const ops = new Recorder(options);
    await ops.reports.start();
    const { metricsPort, metricsHost, statusToken } = options.config;
    if (metricsPort !== undefined) {
      try {
        ops.server = await StatusServer.listen({
          host: metricsHost,
          port: metricsPort,
          token: statusToken,
          metrics: async () => ({ contentType: ops.metrics.contentType, body: await ops.metrics.text() }),
          status: () => ops.status(),
          events: { hub: ops.hub, greeting: () => ops.greeting() },
        });
      } catch (err) {
        ops.hub.close();
        throw err;
      }
      // The token itself is never logged; only whether one is needed.
      const access = statusToken === undefined ? '' : ' (token required)';
      ops.log('info', `dashboard on ${ops.server.url}/${access}; Prometheus ${ops.server.url}/metrics, JSON ${ops.server.url}/status`);
    }
    ops.ticker = setInterval(() => ops.tick(), 1000);
    ops.ticker.unref();
    return ops;
  }

  /** Base URL of the metrics endpoint, when one listens. */
  get metricsUrl(): string | undefined {
    return this.server?.url;
  }

  // --- records (called from the service's event handlers) -------------------------------

  hashes(engine: string, backend: string, hashes: number): void {
    const key = `${engine}/${backend}`;
    let rate = this.rates.get(key);
    if (!rate) this.rates.set(key, (rate = { tally: this.run.engine(engine, backend), samples: [[this.startedAt, 0]] }));
    rate.tally.hashes += hashes;
    this.reports.current().addHashes(engine, backend, hashes);
    this.metrics.hashes.inc({ engine, backend }, hashes);
  }

  /** A template arrived, for `reason`, from the node named `node` (its RPC URL). */
  template(reason: string, node?: string): void {
    this.run.templates[reason] = (this.run.templates[reason] ?? 0) + 1;
    const acc = this.reports.current();
    acc.templates[reason] = (acc.templates[reason] ?? 0) + 1;
    this.lastTemplate = { at: this.now(), reason };
    this.metrics.templates.inc({ reason });
    if (node !== undefined) {
      const c = this.counts(node);
      c.templates++;
      c.lastTemplateAt = this.now();
      acc.node(node).templates++;
    }
  }

  /** Where the configured nodes are read from at status and scrape time. */
  watchNodes(view: () => readonly NodeInfo[]): void {
    this.nodesView = view;
  }

  /** A node's answer to a found block (submitted, replayed or handed back). */
  nodeAnswer(node: string, outcome: string): void {
    const c = this.counts(node);
    c.answers[outcome] = (c.answers[outcome] ?? 0) + 1;
    const row = this.reports.current().node(node);
    row.answers[outcome] = (row.answers[outcome] ?? 0) + 1;
    this.metrics.nodeAnswers.inc({ node, outcome });
  }

  private counts(node: string): NodeCounts {
    let c = this.nodeCounts.get(node);
    if (!c) this.nodeCounts.set(node, (c = { templates: 0, lastTemplateAt: null, answers: {} }));
    return c;
  }

  /** Some node usable (without a node set: the last up/down said). */
  private reachable(): boolean {
    const view = this.nodesView?.();
    return view !== undefined && view.length > 0 ? view.some((n) => n.state === 'ok' || n.state === 'restoring') : this.nodeReachable;
  }

  workSwitch(s: WorkSwitchInfo): void {
    this.run.workSwitches++;
    RunTally.sample(this.run.switchLatencyMs, s.latencyMs);
    RunTally.sample(this.run.switchOverheadMs, s.overheadMs);
    const acc = this.reports.current();
    acc.switches++;
    if (s.newTip) acc.newTips++;
    acc.latency.add(s.latencyMs);
    acc.overhead.add(s.overheadMs);
    if (s.newTip || this.tip !== s.job.previousBlockHash) this.tipSeenAt = this.now();
    this.nodeHeight = s.job.height - 1;
    this.tip = s.job.previousBlockHash;
    this.job = { height: s.job.height, txCount: s.job.txCount, coinbaseValue: s.job.coinbaseValue };
    try {
      this.networkDifficulty = bitsToDifficulty(s.job.bits);
    } catch {
      // an nBits the job builder accepted is valid; keep the last value otherwise
    }
    const labels = { new_tip: String(s.newTip) };
    this.metrics.switches.inc(labels);
    this.metrics.switchLatency.observe(labels, s.latencyMs / 1000);
  }

  share(difficulty: number, engine: string, hash?: string): void {
    this.run.candidates++;
    if (difficulty > this.run.bestShareDifficulty) this.run.bestShareDifficulty = difficulty;
    this.reports.current().share(difficulty, hash);
    this.reports.noteShare(difficulty);
    this.metrics.candidates.inc({ engine });
  }

  /** A candidate the orchestrator dropped (stale work, a solved tip, a wrong hash). */
  discarded(): void {
    this.run.discarded++;
  }

  /** Where the last found block and the immature total come from (the service's block tracker). */
  watchRewards(view: () => RewardsView): void {
    this.rewards = view;
  }

  blockFound(block: BlockInfo): void {
    this.run.blocksFound++;
    const acc = this.reports.current();
    acc.blocks.found++;
    acc.transition({ ...this.transitionRow(block), from: null, to: 'found' });
    this.metrics.blocks.inc({ outcome: 'found' });
    this.notifyBlock('found', { ...block, status: 'found' });
    this.foundBlocks.unshift(this.foundRow(block, 'pending'));
    this.foundBlocks.splice(FOUND_BLOCKS_KEPT);
    this.pushSoon();
  }

  /** A found block as /status lists it. */
  private foundRow(block: BlockInfo, outcome: string): FoundBlockStatus {
    return {
      time: new Date(this.now()).toISOString(),
      height: block.height,
      hash: block.hash,
      engine: block.engine ?? (block.worker !== undefined ? 'stratum' : 'unknown'),
      backend: block.backend ?? block.worker ?? '',
      outcome,
      ...(block.worker !== undefined && { worker: block.worker }),
      ...(block.confirmations !== undefined && { confirmations: block.confirmations }),
    };
  }

  /** What the node said of a found block; `solvedToSentMs`: candidate in hand → submitblock sent. */
  blockOutcome(block: BlockInfo, outcome: string, reason?: string, solvedToSentMs?: number): void {
    this.run.outcome(outcome, reason);
    if (solvedToSentMs !== undefined) RunTally.sample(this.run.submitMs, solvedToSentMs);
    const acc = this.reports.current();
    const time = new Date(this.now()).toISOString();
    acc.outcome({ time, height: block.height, hash: block.hash, engine: block.engine ?? block.worker ?? 'unknown', backend: block.backend ?? '', outcome, ...(reason !== undefined && { reason }) });
    const lost = outcome === 'rejected' || outcome === 'stale';
    const status = outcome === 'accepted' ? 'accepted' : lost ? 'rejected' : 'submitted';
    acc.transition({ ...this.transitionRow({ ...block, ...(reason !== undefined && { reason }) }), from: 'found', to: status });
    this.metrics.blocks.inc({ outcome });
    const i = this.foundBlocks.findIndex((b) => b.hash === block.hash);
    const row: FoundBlockStatus = { ...(this.foundBlocks[i] ?? this.foundRow(block, outcome)), outcome, ...(reason !== undefined && { reason }) };
    if (i >= 0) this.foundBlocks[i] = row;
    else this.foundBlocks.unshift(row);
    this.foundBlocks.splice(FOUND_BLOCKS_KEPT);
    this.pushSoon();
    if (outcome === 'rejected') {
      this.error('block-rejected', 'error', `block ${block.height} ${block.hash} rejected: ${reason ?? 'no reason given'}`, 'recorded in the journal; mining on the next template');
    }
    if (outcome === 'accepted' || lost) this.notifyBlock(outcome === 'accepted' ? 'accepted' : 'rejected', { ...block, status, ...(reason !== undefined && { reason }) });
  }

  /**
   * A found block known to one node only (and taken by none of its peers) for longer than
   * --propagation-alarm: it may never reach the network.
   */
  blockIsolated(block: BlockInfo & { readonly status: string }, afterSeconds: number): void {
    const k = block.knownTo;
    const where = k ? `known to ${k.nodes.length} of ${k.of} node${k.of === 1 ? '' : 's'}, ${k.peers === null ? 'peers unknown' : `${k.peers} peer${k.peers === 1 ? '' : 's'} took it`}` : 'known to one node';
    this.reports.current().chainEvent('isolated');
    this.metrics.blocks.inc({ outcome: 'isolated' });
    this.error('block-isolated', 'error', `block ${block.height} ${block.hash} is ${where} after ${afterSeconds} s: it may not reach the network`, "check the node's peers and connectivity; the block is in the journal");
    this.notifyBlock('isolated', { ...block, reason: `${where} after ${afterSeconds} s` });
  }

  /** A block placed in the active chain: after acceptance, or back from orphaned (a reorg). */
  blockConfirmed(change: BlockChange): void {
    this.blockChange(change, change.from === 'orphaned' ? 'restored' : undefined);
  }

  /** A block no longer in the active chain. */
  blockOrphaned(change: BlockChange): void {
    this.blockChange(change, 'orphaned');
  }

  /** A block with 100 confirmations: its reward can be spent. */
  blockMatured(change: BlockChange): void {
    this.blockChange(change, 'matured');
  }

  /**
   * An event the journal holds but that was never announced (the miner stopped first): said now,
   * once; counted when it happened, so only the notification goes out.
   */
  announceLate(event: BlockEventName, block: BlockInfo): void {
    const status = event === 'found' ? 'found' : event === 'matured' ? 'mature' : event === 'restored' ? 'confirmed' : event;
    this.notifyBlock(event, { ...block, status });
  }

  /** A block handed back to a node that had forgotten it, back in the active chain. */
  blockRestored(change: BlockChange): void {
    this.blockChange(change, 'restored');
  }

  private blockChange(change: BlockChange, event: 'restored' | 'orphaned' | 'matured' | undefined): void {
    const acc = this.reports.current();
    acc.transition({ ...this.transitionRow(change.block), from: change.from, to: change.block.status });
    if (event === undefined) return;
    acc.chainEvent(event);
    this.metrics.blocks.inc({ outcome: event });
    this.notifyBlock(event, change.block);
  }

  private transitionRow(b: BlockInfo) {
    return {
      time: new Date(this.now()).toISOString(),
      height: b.height,
      hash: b.hash,
      confirmations: b.confirmations ?? null,
      ...(b.reason !== undefined && { reason: b.reason }),
    };
  }

  private notifyBlock(event: BlockEventName, b: BlockInfo): void {
    this.options.notify?.({ event, time: new Date(this.now()).toISOString(), network: this.options.config.network, block: notifyBlockOf(b) });
  }

  /** A node went out of use (`node`: its RPC URL, with several). */
  nodeDown(err: Error, node?: string): void {
    this.nodeReachable = false;
    if (node !== undefined) this.reports.current().node(node).faults++;
    const others = this.nodesView?.().some((n) => n.name !== node && n.state === 'ok') === true;
    this.error('node-unreachable', 'error', err.message, others ? 'mining goes on from the other nodes; retrying this one' : 'kept the last work; retrying the node with backoff for as long as it takes');
    this.options.notify?.({ event: 'node-unreachable', time: new Date(this.now()).toISOString(), network: this.options.config.network, node: { error: err.message, ...(node !== undefined && { name: node }) } });
    this.pushSoon();
  }

  /** Serve the pool's live figures in /status and the metrics. */
  attachPool(view: PoolView): void {
    this.poolView = view;
  }

  /** A Stratum connection opened or closed: `open` connections now. */
  poolConnections(open: number): void {
    this.reports.current().stratumConnections(open);
  }

  /** A Stratum share, accepted (worth `owed`) or rejected for `reason`, on wire `protocol` (v1, v2). */
  poolShare(worker: { name: string; address: string } | undefined, accepted: boolean, owed: number, difficulty: number, hash?: string, reason?: string, protocol = 'v1'): void {
    if (accepted) {
      this.run.poolSharesAccepted++;
      this.share(difficulty, 'stratum', hash);
    } else {
      const why = reason ?? 'other';
      this.run.poolSharesRejected[why] = (this.run.poolSharesRejected[why] ?? 0) + 1;
    }
    this.reports.current().stratumShare(worker?.name, worker?.address, accepted, owed, difficulty, reason, protocol);
    this.metrics.poolShares.inc({ result: accepted ? 'accepted' : 'rejected', reason: accepted ? '' : (reason ?? 'other'), protocol });
  }

  /** A Stratum worker's share was a block (its outcome follows through blockOutcome). */
  poolBlock(worker: { name: string; address: string }): void {
    this.reports.current().stratumBlock(worker.name, worker.address);
  }

  /** A new job written to every ready connection of a wire: trigger → last job message written. */
  poolFanout(ms: number, connections: number, newTip: boolean, protocol = 'v1'): void {
    if (connections > 0) this.metrics.poolFanout.observe({ new_tip: String(newTip), protocol }, ms / 1000);
  }

  // --- mining through a pool (mine --pool) ----------------------------------------------

  /** Connected to the pool at `url`, or disconnected from it (`reason`). */
  upstreamState(connected: boolean, url: string, reason?: string): void {
    const u = this.upstreamLive();
    if (connected && u.everConnected) {
      u.reconnects++;
      this.metrics.upstreamReconnects.inc();
      this.reports.current().upstreamReconnect();
    }
    u.everConnected ||= connected;
    u.connected = connected;
    u.url = url;
    u.since = this.now();
    if (!connected) this.error('pool-unreachable', 'warning', `pool ${url}: ${reason ?? 'disconnected'}`, 'kept the last job while it can still be valid; reconnecting with backoff');
    this.pushSoon();
  }

  upstreamDifficulty(difficulty: number): void {
    this.upstreamLive().difficulty = difficulty;
  }

  /**
   * The pool's verdict on a share: `reason` in the pool's words, `kind` what the metrics count it as
   * (stale, duplicate, low-difficulty, unauthorized, not-subscribed, other: the client maps its wire's codes).
   */
  upstreamShare(accepted: boolean, reason?: string, kind?: string): void {
    const u = this.upstreamLive();
    if (accepted) u.accepted++;
    else {
      const why = reason ?? 'rejected without a reason';
      // Free text from a foreign pool: bounded, the most frequent kept.
      if (u.rejected.has(why) || u.rejected.size < 20) u.rejected.set(why, (u.rejected.get(why) ?? 0) + 1);
    }
    const label = accepted ? '' : (kind ?? 'other');
    this.metrics.upstreamShares.inc({ result: accepted ? 'accepted' : 'rejected', reason: label });
    // The share itself was recorded when the engine found it (share()): only the verdict here.
    this.reports.current().upstreamShare(accepted, label);
  }

  /** A share that was not sent (its session ended). */
  upstreamDropped(): void {
    this.upstreamLive().dropped++;
  }

  private upstreamLive(): UpstreamLive {
    this.upstream ??= { url: null, connected: false, everConnected: false, since: null, difficulty: null, accepted: 0, rejected: new Map(), dropped: 0, reconnects: 0 };
    return this.upstream;
  }

  /** A poll of the temperature sensors (every few seconds). */
  temperatures(readings: readonly TemperatureInfo[]): void {
    this.temps = readings.map((r) => ({ sensor: r.sensor, kind: r.kind, celsius: r.celsius }));
    if (readings.length > 0) this.reports.current().temperatures(readings);
  }

  /** Hashing paused: a sensor went above --max-temp. */
  thermalPaused(change: ThermalChangeInfo): void {
    if (this.heat.since !== null) return;
    this.heat.since = this.now();
    this.heat.by = { sensor: change.reading.sensor, kind: change.reading.kind, celsius: change.reading.celsius };
    this.heat.pauses++;
    this.reports.current().thermalPause();
    this.pushSoon();
  }

  /** Hashing resumed: every sensor is below --resume-temp. */
  thermalResumed(): void {
    const since = this.heat.since;
    if (since === null) return;
    const now = this.now();
    this.heat.since = null;
    this.heat.by = null;
    this.heat.pausedMs += now - since;
    const acc = this.reports.current();
    // The part before this hour was counted by the hour before, as its running pause.
    acc.thermalPaused(now - Math.max(since, acc.hourStart));
    this.pushSoon();
  }

  nodeUp(node?: string): void {
    this.nodeReachable = true;
    this.options.notify?.({ event: 'node-back', time: new Date(this.now()).toISOString(), network: this.options.config.network, ...(node !== undefined && { node: { name: node } }) });
    this.pushSoon();
  }

  error(kind: ErrorKind, severity: Severity, message: string, action: string): void {
    const record: ErrorRecord = { time: new Date(this.now()).toISOString(), kind, severity, message, action };
    this.errors++;
    this.lastError = record;
    this.recentErrors.unshift(record);
    this.recentErrors.splice(RECENT_ERRORS_KEPT);
    this.metrics.errors.inc({ kind });
    this.reports.error(record);
  }

  // --- views ----------------------------------------------------------------------------

  private rateOf(e: RateWindow): number {
    const now = this.now();
    const first = e.samples[0]!;
    const dt = (now - first[0]) / 1000;
    return dt > 0 ? (e.tally.hashes - first[1]) / dt : 0;
  }

  status(): MinerStatus {
    const now = this.now();
    const engines = [...this.rates.values()].map((e) => ({ engine: e.tally.kind, backend: e.tally.backend, hashes: e.tally.hashes, hashesPerSecond: Math.round(this.rateOf(e)) }));
    const rate = engines.reduce((a, e) => a + e.hashesPerSecond, 0);
    const hour = this.reports.current().bestShare;
    const expectedSeconds = expectedSecondsToBlock(this.networkDifficulty, rate);
    return {
      version: STATUS_SCHEMA_VERSION,
      network: this.options.config.network,
      startedAt: new Date(this.startedAt).toISOString(),
      uptimeSeconds: Math.round((now - this.startedAt) / 100) / 10,
      hashesPerSecond: rate,
      engines,
      node: { reachable: this.reachable(), height: this.nodeHeight, tip: this.tip, networkDifficulty: this.networkDifficulty },
      ...this.nodesStatus(),
      job: this.jobStatus(now),
      lastTemplate: this.lastTemplate && {
        at: new Date(this.lastTemplate.at).toISOString(),
        reason: this.lastTemplate.reason,
        ageSeconds: Math.round((now - this.lastTemplate.at) / 100) / 10,
      },
      bestShare: { hour, run: this.run.candidates > 0 ? this.run.bestShareDifficulty : null, allTime: this.reports.allTimeBest },
      candidates: this.run.candidates,
      blocks: { found: this.run.blocksFound, ...this.run.outcomes } as Record<string, number>,
      foundBlocks: this.foundBlockRows(),
      workSwitches: this.run.workSwitches,
      expectedTimeToBlock: {
        seconds: expectedSeconds,
        text: describeExpectedTime(this.options.config.network, this.networkDifficulty, rate),
        chancePerDay: chancePerDay(expectedSeconds),
      },
      lastError: this.lastError,
      recentErrors: [...this.recentErrors],
      errors: this.errors,
      reports: this.reports.state,
      ...(this.upstream && {
        upstream: {
          url: this.upstream.url,
          connected: this.upstream.connected,
          since: this.upstream.since === null ? null : new Date(this.upstream.since).toISOString(),
          difficulty: this.upstream.difficulty,
          sharesAccepted: this.upstream.accepted,
          sharesRejected: Object.fromEntries(this.upstream.rejected),
          sharesDropped: this.upstream.dropped,
          reconnects: this.upstream.reconnects,
        },
      }),
      ...(this.poolView && {
        pool: {
          url: this.poolView.url !== '' ? this.poolView.url : (this.poolView.sv2?.url ?? ''),
          connections: this.poolView.connections,
          ...(this.poolView.connectionsBy && { connectionsByProtocol: { ...this.poolView.connectionsBy() } }),
          sv2: this.poolView.sv2 ? { ...this.poolView.sv2 } : null,
          ...(this.poolView.login !== undefined && { login: this.poolView.login }),
          sharesAccepted: this.run.poolSharesAccepted,
          sharesRejected: { ...this.run.poolSharesRejected },
        },
        workers: this.poolView.workers(),
      }),
      ...this.rewardsStatus(),
      ...this.thermalStatus(now),
    };
  }

  private nodesStatus(): Pick<MinerStatus, 'nodes'> {
    const view = this.nodesView?.();
    if (view === undefined) return {};
    return {
      nodes: view.map((n): NodeStatus => {
        const c = this.nodeCounts.get(n.name);
        return {
          name: n.name,
          index: n.index,
          state: n.state,
          reason: n.reason,
          since: new Date(n.since).toISOString(),
          height: n.height,
          tip: n.tip,
          zmq: n.zmq,
          templateSource: n.templateSource,
          templates: c?.templates ?? 0,
          lastTemplateAt: c?.lastTemplateAt == null ? null : new Date(c.lastTemplateAt).toISOString(),
          answers: { ...c?.answers },
        };
      }),
    };
  }

  /**
   * The found-blocks rows: the tracker's newest blocks (this run's and earlier runs'), with the
   * status and confirmations `solominer blocks` shows; this run's rows keep their submit outcome.
   */
  private foundBlockRows(): FoundBlockStatus[] {
    const tracked = this.rewards?.().blocks;
    if (tracked === undefined) return [...this.foundBlocks];
    const rows = tracked.map((b): FoundBlockStatus => {
      const mine = this.foundBlocks.find((r) => r.hash === b.hash);
      const status = b.status ?? 'found';
      const outcome = mine?.outcome ?? (status === 'found' ? 'pending' : status === 'rejected' ? 'rejected' : status === 'submitted' ? 'inconclusive' : 'accepted');
      return {
        ...(mine ?? this.foundRow(b, outcome)),
        ...(mine === undefined && b.foundAt !== undefined && { time: b.foundAt }),
        outcome,
        status,
        confirmations: b.confirmations ?? null,
        ...(b.maturityHeight !== undefined && { maturityHeight: b.maturityHeight }),
        ...(b.reason !== undefined && (status === 'orphaned' || status === 'rejected' || mine?.reason !== undefined) && { reason: b.reason }),
        ...(b.knownTo !== undefined && { knownTo: knownToOf(b.knownTo) }),
      };
    });
    // This run's blocks the tracker has not taken in (none, normally) stay listed.
    const missing = this.foundBlocks.filter((r) => !tracked.some((b) => b.hash === r.hash));
    return [...missing, ...rows].slice(0, FOUND_BLOCKS_KEPT);
  }

  private thermalStatus(now: number): Pick<MinerStatus, 'temperatures' | 'throttled' | 'thermal'> {
    const { maxTemp, resumeTemp } = this.options.config;
    const since = this.heat.since;
    return {
      ...(this.temps.length > 0 && { temperatures: [...this.temps] }),
      throttled: since !== null,
      ...(maxTemp !== undefined && {
        thermal: {
          maxCelsius: maxTemp,
          resumeCelsius: resumeTemp ?? maxTemp - 5,
          pausedSince: since === null ? null : new Date(since).toISOString(),
          pausedBy: this.heat.by,
          pauses: this.heat.pauses,
          pausedSeconds: Math.round((this.heat.pausedMs + (since === null ? 0 : now - since)) / 100) / 10,
        },
      }),
    };
  }

  private rewardsStatus(): Pick<MinerStatus, 'lastBlock' | 'immature'> {
    const r = this.rewards?.();
    const b = r?.lastBlock;
    const immature = r?.immature ?? { blocks: 0, sats: 0 };
    return {
      lastBlock: b
        ? {
            height: b.height,
            hash: b.hash,
            foundAt: b.foundAt ?? null,
            status: b.status ?? 'found',
            confirmations: b.confirmations ?? null,
            maturityHeight: b.maturityHeight ?? b.height + 99,
            value: b.coinbaseValue === undefined ? null : formatBtc(b.coinbaseValue),
          }
        : null,
      immature: { ...immature, btc: formatBtc(immature.sats) },
    };
  }

  private jobStatus(now: number): MinerStatus['job'] {
    if (this.job === null) return null;
    const network = this.options.config.network;
    const subsidy = blockSubsidy(this.job.height, (NETWORKS as readonly string[]).includes(network) ? (network as Network) : 'main');
    return {
      height: this.job.height,
      transactions: this.job.txCount - 1,
      coinbaseValueSats: this.job.coinbaseValue,
      // A template pays at most subsidy + fees; the difference is the fees it collects.
      feesSats: Math.max(0, this.job.coinbaseValue - subsidy),
      subsidySats: subsidy,
      networkDifficulty: this.networkDifficulty,
      tipSeenAt: this.tipSeenAt === null ? null : new Date(this.tipSeenAt).toISOString(),
      tipAgeSeconds: this.tipSeenAt === null ? null : Math.round((now - this.tipSeenAt) / 100) / 10,
    };
  }

  // --- the live feed (/events) ----------------------------------------------------------

  /** What a new /events stream gets first: the history to draw, then the status. */
  private greeting(): string {
    const columns = RateColumns.fromSamples(this.history.toArray(), this.historyIntervalMs / 1000, this.history.capacity);
    return sseFrame(EVENT_NAMES.history, JSON.stringify(columns)) + sseFrame(EVENT_NAMES.status, JSON.stringify(this.status()));
  }

  private sample(now: number): void {
    const s = this.status();
    const sample: RateSample = {
      t: now,
      total: s.hashesPerSecond,
      engines: Object.fromEntries(s.engines.map((e) => [`${e.engine}/${e.backend}`, e.hashesPerSecond])),
      ...(s.workers !== undefined && { workers: Object.fromEntries(s.workers.map((w) => [w.name, w.hashesPerSecond])) }),
    };
    this.history.push(sample);
    this.hub.broadcast(EVENT_NAMES.sample, sample);
  }

  private pushStatus(now: number): void {
    this.lastPushAt = now;
    if (this.hub.size > 0) this.hub.broadcast(EVENT_NAMES.status, this.status());
  }

  /** A block found or answered reaches open pages at once, not at the next push. */
  private pushSoon(): void {
    if (this.pushScheduled || this.hub.size === 0) return;
    this.pushScheduled = true;
    setImmediate(() => {
      this.pushScheduled = false;
      this.pushStatus(this.now());
    });
  }

  /** The hash-rate history, oldest first. */
  historySamples(): RateSample[] {
    return this.history.toArray();
  }

  /** The live status line. */
  statusText(): string {
    const s = this.status();
    const engines = s.engines.map((e) => `${e.engine}/${e.backend} ${formatRate(e.hashesPerSecond)}`).join(' ') || 'starting';
    const best = s.bestShare.run === null ? '-' : formatDifficulty(s.bestShare.run);
    const eta = s.expectedTimeToBlock.seconds === null ? '?' : describeDuration(s.expectedTimeToBlock.seconds);
    const down = (s.nodes ?? []).filter((n) => n.state !== 'ok').length;
    const node = !s.node.reachable ? 'NODE DOWN' : `height ${s.node.height ?? '?'}${down > 0 ? ` (${down} of ${s.nodes!.length} nodes down)` : ''}`;
    const reports = s.reports.ok ? '' : ' | REPORTS FAILING';
    const top = s.temperatures?.reduce<TemperatureInfo | undefined>((a, t) => (a === undefined || t.celsius > a.celsius ? t : a), undefined);
    const heat = s.throttled ? ` | PAUSED: too hot (${top ? `${Math.round(top.celsius)}°C` : '?'})` : top ? ` | ${Math.round(top.celsius)}°C` : '';
    return `${engines} | ${node} | best ${best} | blocks ${s.blocks.accepted ?? 0} | block every ~${eta}${heat}${reports}`;
  }

  private tick(): void {
    const now = this.now();
    for (const e of this.rates.values()) {
      e.samples.push([now, e.tally.hashes]);
      while (e.samples.length > 2 && now - e.samples[0]![0] > RATE_WINDOW_MS) e.samples.shift();
    }
    // Within the first interval a sample every tick, so that a page opened at start-up draws a line at once.
    const early = now - this.startedAt <= this.historyIntervalMs && this.rates.size > 0;
    if (early || now - this.lastSampleAt >= this.historyIntervalMs) {
      this.lastSampleAt = now;
      this.sample(now);
    }
    if (now - this.lastPushAt >= this.statusPushIntervalMs) this.pushStatus(now);
    this.reports.current(); // finalizes the hour at its end even when no event arrives
    this.statusLine?.tick(now);
  }

  /** Final flush of the hour's report, endpoint closed, status line cleared. */
  async close(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    this.statusLine?.clear();
    await this.reports.close();
    this.hub.close();
    await this.server?.close();
  }
}
