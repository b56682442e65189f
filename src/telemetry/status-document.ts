// The documents a running miner serves: GET /status (what `solominer status --json` prints) and
// the Server-Sent Events of GET /events that the dashboard page draws (docs/reports.md). Types
// only, no imports: the browser build (tsconfig.dashboard.json) reads this same file, so the page
// and the server cannot disagree on a field's name.

export const STATUS_SCHEMA_VERSION = 1;

export interface EngineStatus {
  readonly engine: string;
  readonly backend: string;
  readonly hashes: number;
  /** Over the last 30 s. */
  readonly hashesPerSecond: number;
}

/** One Stratum worker (a user name, over its connections) of the pool (src/stratum/workers.ts). */
export interface WorkerStatus {
  readonly name: string;
  /** The part after the address, or the whole name when it is not an address. */
  readonly worker: string;
  /** The address its blocks pay. */
  readonly address: string;
  readonly userAgent: string | null;
  readonly connections: number;
  /** The wires it is connected over now: "v1" (Stratum V1), "v2" (Stratum V2). */
  readonly protocols?: readonly string[];
  readonly connectedSince: string | null;
  /** What the difficulty of its accepted shares proves over 10 minutes. */
  readonly hashesPerSecond: number;
  readonly difficulty: number | null;
  readonly sharesAccepted: number;
  /** By reason: stale, duplicate, low-difficulty, unauthorized, not-subscribed, other. */
  readonly sharesRejected: Readonly<Record<string, number>>;
  readonly bestShare: { readonly run: number | null; readonly allTime: number | null };
  readonly lastShareAt: string | null;
  readonly blocksFound: number;
}

/** Where Stratum V2 miners connect (--sv2-port): what ESP-Miner's three settings and SRI's URL take. */
export interface Sv2Status {
  /** stratum2+tcp://host:port/<authority key> */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The pool's authority public key, base58check (sv2-spec §4.7). */
  readonly authorityKey: string;
}

/** The Stratum pool, when one is served (--stratum-port, --sv2-port). */
export interface PoolStatus {
  /** Stratum V1's URL when served, else Stratum V2's. */
  readonly url: string;
  readonly connections: number;
  /** Open connections per wire: "v1" (Stratum V1), "v2" (Stratum V2). */
  readonly connectionsByProtocol?: Readonly<Record<string, number>>;
  /** Stratum V2's endpoint (null when only Stratum V1 is served). */
  readonly sv2?: Sv2Status | null;
  /**
   * What a miner logs in as: "address" — `<address>[.<worker>]`, a payout address of the network
   * (the pool has no operator address: any other name is refused); "address-or-worker" — that,
   * or any other name, which mines to the operator's address under that worker name.
   */
  readonly login?: LoginRule;
  readonly sharesAccepted: number;
  readonly sharesRejected: Readonly<Record<string, number>>;
}

export type LoginRule = 'address' | 'address-or-worker';

/** The pool this miner mines through (mine --pool). */
export interface UpstreamStatus {
  /** The pool connected now, or the one last tried. */
  readonly url: string | null;
  readonly connected: boolean;
  /** Since when connected, or disconnected. */
  readonly since: string | null;
  /** The pool's share difficulty now. */
  readonly difficulty: number | null;
  readonly sharesAccepted: number;
  /** By the pool's reason (its message), the 20 most frequent. */
  readonly sharesRejected: Readonly<Record<string, number>>;
  /** Shares not sent: found for a session the pool did not resume. */
  readonly sharesDropped: number;
  readonly reconnects: number;
}

/** A found block as the block tracker last saw it. */
export interface StatusBlock {
  readonly height: number;
  readonly hash: string;
  readonly foundAt: string | null;
  readonly status: string;
  readonly confirmations: number | null;
  readonly maturityHeight: number;
  /** Subsidy plus fees in BTC ("3.12500000"); null when not known. */
  readonly value: string | null;
}

/** The job every engine hashes now. */
export interface JobStatus {
  readonly height: number;
  /** Transactions in the block besides the coinbase. */
  readonly transactions: number;
  /** What the coinbase may pay: subsidy plus fees, satoshis. */
  readonly coinbaseValueSats: number;
  readonly feesSats: number;
  readonly subsidySats: number;
  readonly networkDifficulty: number | null;
  /** When this miner first got work on the current tip (the previous block), and how long ago. */
  readonly tipSeenAt: string | null;
  readonly tipAgeSeconds: number | null;
}

/** Which configured nodes hold a found block, and how many of their peers took it. */
export interface KnownToStatus {
  /** Configured nodes that have it, of all configured ones, and their RPC URLs. */
  readonly nodes: number;
  readonly of: number;
  readonly names: readonly string[];
  /** Peers of those nodes the block was sent to; null when not known. */
  readonly peers: number | null;
}

/**
 * A block this miner found: `outcome` is "pending" until the node has answered; `status` and
 * `confirmations` are the block tracker's, as `solominer blocks` shows them.
 */
export interface FoundBlockStatus {
  readonly time: string;
  readonly height: number;
  readonly hash: string;
  readonly engine: string;
  readonly backend: string;
  readonly outcome: string;
  readonly reason?: string;
  /** Filled in where blocks are followed after submission; absent otherwise. */
  readonly confirmations?: number | null;
  readonly worker?: string;
  /** found, submitted, accepted, confirmed, mature, orphaned or rejected (the block tracker's). */
  readonly status?: string;
  /** Tip height at which it has 100 confirmations. */
  readonly maturityHeight?: number;
  readonly knownTo?: KnownToStatus;
}

/** One configured node (mine --node): its health, its tip, what it served and answered this run. */
export interface NodeStatus {
  /** Its RPC URL. */
  readonly name: string;
  /** Its place in the configuration: templates come from the first usable node. */
  readonly index: number;
  /** ok, connecting, restoring, unreachable, not-ready, wrong-chain or refused. */
  readonly state: string;
  /** Why it is not ok (null when ok). */
  readonly reason: string | null;
  readonly since: string;
  readonly height: number | null;
  readonly tip: string | null;
  /** none (no endpoint configured), connected, disconnected or silent. */
  readonly zmq: string;
  /** Templates come from this node now. */
  readonly templateSource: boolean;
  /** Templates it served this run, and when the last one came. */
  readonly templates: number;
  readonly lastTemplateAt: string | null;
  /** Its answers to submitblock this run, by outcome (handed-back blocks included). */
  readonly answers: Readonly<Record<string, number>>;
}

/** One line of errors.jsonl (report-schema.ts ErrorRecord). */
export interface ErrorEntry {
  readonly time: string;
  readonly kind: string;
  readonly severity: 'warning' | 'error';
  readonly message: string;
  readonly action: string;
}

export interface ReportsState {
  readonly dir: string;
  readonly ok: boolean;
  readonly lastWriteAt: string | null;
  readonly error: string | null;
  readonly errorSince: string | null;
}

/** One temperature sensor's last reading (src/engines/thermal.ts names them). */
export interface TemperatureStatus {
  /** "coretemp/Package id 0", "k10temp/Tdie", "thermal/x86_pkg_temp", "nvidia/0", "amdgpu/edge". */
  readonly sensor: string;
  /** cpu or gpu. */
  readonly kind: string;
  readonly celsius: number;
}

/** The temperature limit (--max-temp) and what it did this run. */
export interface ThermalStatus {
  readonly maxCelsius: number;
  readonly resumeCelsius: number;
  /** When the running pause for heat began, and the reading that began it; null while hashing. */
  readonly pausedSince: string | null;
  readonly pausedBy: TemperatureStatus | null;
  /** Pauses this run, and the seconds spent paused (the running pause included). */
  readonly pauses: number;
  readonly pausedSeconds: number;
}

/** The /status document. New fields are added, never renamed: readers ignore what they do not know. */
export interface MinerStatus {
  readonly version: number;
  readonly network: string;
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  readonly hashesPerSecond: number;
  readonly engines: EngineStatus[];
  /** The Stratum pool and its workers (connected now, or seen within 10 minutes): with --stratum-port only. */
  readonly pool?: PoolStatus;
  readonly workers?: readonly WorkerStatus[];
  /** The pool mined through (mine --pool only). */
  readonly upstream?: UpstreamStatus;
  /** The node work comes from (reachable: some node is usable). */
  readonly node: { reachable: boolean; height: number | null; tip: string | null; networkDifficulty: number | null };
  /** Every configured node, in the configured order (mining from nodes only). */
  readonly nodes?: readonly NodeStatus[];
  readonly job: JobStatus | null;
  readonly lastTemplate: { at: string; reason: string; ageSeconds: number } | null;
  readonly bestShare: { hour: number | null; run: number | null; allTime: number | null };
  readonly candidates: number;
  /** Counts by outcome: found, accepted, rejected, ... */
  readonly blocks: Record<string, number>;
  /** Found blocks, newest first (at most 20): this run's, and earlier runs' from the journal. */
  readonly foundBlocks: FoundBlockStatus[];
  readonly workSwitches: number;
  readonly expectedTimeToBlock: { seconds: number | null; text: string; chancePerDay: number | null };
  readonly lastError: ErrorEntry | null;
  /** The last errors, newest first (at most 10). */
  readonly recentErrors: ErrorEntry[];
  readonly errors: number;
  readonly reports: ReportsState;
  /** The last block found (this run or an earlier one, from the journal); null when none. */
  readonly lastBlock: StatusBlock | null;
  /** Rewards accepted or confirmed but not yet spendable (fewer than 100 confirmations). */
  readonly immature: { readonly blocks: number; readonly sats: number; readonly btc: string };
  /** The engines' temperature sensors, last poll (every 5 s); absent on a machine without one. */
  readonly temperatures?: readonly TemperatureStatus[];
  /** True while hashing is paused because a sensor is above --max-temp (miners before the limit send none). */
  readonly throttled?: boolean;
  /** With --max-temp only. */
  readonly thermal?: ThermalStatus;
}

// --- /events -------------------------------------------------------------------------------
// A client gets `history` once, then `status` every couple of seconds (and at once when a block
// is found or answered), and `sample` each time the history ring takes one.

/** One point of the hash-rate history: hashes per second, in all and per engine / worker. */
export interface RateSample {
  /** Milliseconds since the epoch. */
  readonly t: number;
  readonly total: number;
  /** Keyed engine/backend ("cpu/avx2"). */
  readonly engines: Readonly<Record<string, number>>;
  /** Keyed by worker name; absent without a pool. */
  readonly workers?: Readonly<Record<string, number>>;
}

export type SeriesKind = 'total' | 'engine' | 'worker';

/** The history as columns, the shape a chart draws (uPlot's: x values, then one array per series). */
export interface HistoryColumns {
  readonly intervalSeconds: number;
  /** Seconds since the epoch. */
  readonly t: number[];
  readonly series: Array<{ key: string; kind: SeriesKind; label: string; values: Array<number | null> }>;
}

export const EVENT_NAMES = { history: 'history', status: 'status', sample: 'sample' } as const;
