/**
 * The hourly report files (`--report-dir`, default `./reports`): their layout, the versioned
 * schema of `report.json` and of the lines of `errors.jsonl`, and the arithmetic the reports,
 * the metrics and the status share (expected time to a block).
 *
 * Layout: `<dir>/YYYY/MM/DD/HH/` (UTC) holds
 * - `report.json` — the hour, `HourReport` below (`schema: "solominer.hourly-report"`,
 *   `version: 1`). Rewritten atomically (temp file, fsync, rename) while the hour is current;
 *   once the hour is over and written with `complete: true` it is never rewritten. A miner
 *   restarted within the hour merges the file's counts into its own (`restarts` grows); a file
 *   it cannot read or that is already complete is left alone and a sibling
 *   `report-<n>.json` is written instead.
 * - `errors.jsonl` — one `ErrorRecord` per line, appended as errors happen.
 *
 * Field names of the engine rows are those of `bench --json` (`engine`, `backend`, `hashes`,
 * `hashesPerSecond`). Times are ISO 8601 UTC; durations in seconds unless the name says `Ms`.
 * Difficulties are pool-convention difficulties (DIFF1_TARGET / value): a share's difficulty is
 * that of its hash, the lowest hash being the best share.
 * @module
 */
import { join } from 'node:path';

import { z } from 'zod';

export const REPORT_SCHEMA = 'solominer.hourly-report';
export const REPORT_SCHEMA_VERSION = 1;
export const REPORT_FILE = 'report.json';
export const ERRORS_FILE = 'errors.jsonl';

const count = z.number().int().min(0);
const num = z.number();
const nullableNum = z.number().nullable();

export const engineRowSchema = z.object({
  engine: z.string(),
  backend: z.string(),
  hashes: count,
  /** hashes / the seconds the miner ran within the hour (all runs together). */
  hashesPerSecond: num,
});

export const latencySchema = z.object({
  p50: nullableNum,
  p99: nullableNum,
  max: nullableNum,
});

export const blockRowSchema = z.object({
  time: z.string(),
  height: count,
  hash: z.string(),
  engine: z.string(),
  backend: z.string(),
  /** accepted, rejected, stale, duplicate, inconclusive, unconfirmed; "pending" if unknown yet. */
  outcome: z.string(),
  reason: z.string().optional(),
});

/** One Stratum worker's hour. */
export const stratumWorkerRowSchema = z.object({
  name: z.string(),
  address: z.string(),
  sharesAccepted: count,
  /** Σ difficulty of the accepted shares: × 2^32 / coveredSeconds is the hash rate they prove. */
  acceptedDifficulty: num,
  sharesRejected: z.record(z.string(), count),
  bestShare: nullableNum,
  blocksFound: count,
});

/**
 * A found block's move between lifecycle statuses within the hour (found, submitted, accepted,
 * rejected, confirmed, mature, orphaned; `from` is null for found). Added in version 1 as an
 * optional field: files written before it still read.
 */
export const blockTransitionRowSchema = z.object({
  time: z.string(),
  height: count,
  hash: z.string(),
  from: z.string().nullable(),
  to: z.string(),
  /** In the active chain: 1 at the tip; -1 orphaned; null not known. */
  confirmations: z.number().int().nullable(),
  reason: z.string().optional(),
});

/**
 * The hour's temperatures and heat pauses (--max-temp). Added in version 1 as an optional
 * field: files written before it, or by a miner without a sensor, still read.
 */
export const thermalHourSchema = z.object({
  /** Each sensor's hottest reading of the hour. */
  sensors: z.array(z.object({ sensor: z.string(), kind: z.string(), maxCelsius: num })),
  /** The hottest of them; null when no sensor was read this hour. */
  maxCelsius: nullableNum,
  /** Pauses for heat that began this hour, and the seconds of the hour spent paused. */
  pauses: count,
  pausedSeconds: num,
});

/** One configured node's hour. */
const nodeHourSchema = z.object({
  /** Its RPC URL. */
  node: z.string(),
  templates: count,
  answers: z.record(z.string(), count),
  /** Times it went out of use (unreachable, not ready, on another chain, login refused). */
  faults: count,
  /** When the file was written (null for a node of an earlier run of the hour no longer configured). */
  state: z.string().nullable(),
  height: count.nullable(),
});

export const hourReportSchema = z.object({
  schema: z.literal(REPORT_SCHEMA),
  version: z.literal(REPORT_SCHEMA_VERSION),
  /** The hour covered: [hourStart, hourEnd). */
  hourStart: z.string(),
  hourEnd: z.string(),
  /** When this file was written. */
  writtenAt: z.string(),
  /** True once the hour is over and its last counts are in; such a file is never rewritten. */
  complete: z.boolean(),
  network: z.string(),
  uptime: z.object({
    /** Start of the run that wrote this file. */
    runStartedAt: z.string(),
    /** Seconds that run had been up when it wrote this file. */
    runSeconds: num,
    /** Seconds within this hour during which a miner ran (all runs together). */
    coveredSeconds: num,
    /** Start-ups within this hour after the first one (a restart merges, never overwrites). */
    restarts: count,
    runStarts: z.array(z.string()),
  }),
  hashes: count,
  hashesPerSecond: num,
  engines: z.array(engineRowSchema),
  templates: z.object({
    total: count,
    /** How each template arrived: initial, zmq, longpoll, refresh, submit (after our block). */
    byReason: z.record(z.string(), count),
  }),
  workSwitches: z.object({
    count: count,
    newTip: count,
    /** Trigger (ZMQ message, timer, ...) to every engine hashing the new job. */
    latencyMs: latencySchema,
    /** The part of latencyMs that is not the getblocktemplate round trip. */
    overheadMs: latencySchema,
    /** A bounded sample of latencies (ms), kept so that a restart can merge percentiles. */
    sampleMs: z.array(num),
    overheadSampleMs: z.array(num),
  }),
  bestShare: z.object({
    /** Highest share difficulty (lowest hash) of the hour; null when no share was seen. */
    hour: nullableNum,
    hourHash: z.string().nullable(),
    /** Highest ever seen by miners writing to this report directory. */
    allTime: nullableNum,
  }),
  blocks: z.object({
    candidates: count,
    found: count,
    submitted: count,
    accepted: count,
    rejected: count,
    stale: count,
    duplicate: count,
    inconclusive: count,
    unconfirmed: count,
    rejectReasons: z.record(z.string(), count),
    list: z.array(blockRowSchema),
    // Optional (added within version 1; absent in older files): blocks orphaned, matured, and
    // brought back to the active chain by a reorg, and every transition of the hour.
    orphaned: count.optional(),
    matured: count.optional(),
    restored: count.optional(),
    /** Blocks known to one node only past --propagation-alarm (added within version 1). */
    isolated: count.optional(),
    transitions: z.array(blockTransitionRowSchema).optional(),
  }),
  node: z.object({
    height: count.nullable(),
    tip: z.string().nullable(),
    networkDifficulty: nullableNum,
    reachable: z.boolean(),
  }),
  expectedTimeToBlock: z.object({
    /** networkDifficulty × 2^32 / hashesPerSecond; null without a hash rate or difficulty. */
    seconds: nullableNum,
    /** Probability that a block is found within one hour at this rate (1 − e^(−3600/seconds)). */
    chancePerHour: nullableNum,
    /** One plain sentence, e.g. "about 1.2 million years at 20.00 MH/s on main". */
    text: z.string(),
  }),
  errors: z.object({
    total: count,
    byKind: z.record(z.string(), count),
  }),
  /** The pool mined through (mine --pool): its verdicts on this hour's shares, and reconnects. */
  upstream: z
    .object({
      sharesAccepted: count,
      sharesRejected: z.record(z.string(), count),
      reconnects: count,
    })
    .optional(),
  /** The Stratum pool's hour (present when the pool served shares or logins this hour). */
  stratum: z
    .object({
      sharesAccepted: count,
      sharesRejected: z.record(z.string(), count),
      /** Most connections open at once. */
      connectionsMax: count,
      workers: z.array(stratumWorkerRowSchema),
      /** Shares by wire: "v1" (Stratum V1), "v2" (Stratum V2). Optional: files before it still read. */
      byProtocol: z.record(z.string(), z.object({ sharesAccepted: count, sharesRejected: count })).optional(),
    })
    .optional(),
  /** Temperatures and heat pauses (present when a sensor was read or a pause ran this hour). */
  thermal: thermalHourSchema.optional(),
  /**
   * Each configured node's hour (added within version 1; absent in older files and with --pool):
   * templates it served, its submitblock answers by outcome, the times it went out of use, and
   * its state and height when the file was written.
   */
  nodes: z.array(nodeHourSchema).optional(),
});

export type HourReport = z.infer<typeof hourReportSchema>;
export type NodeHour = z.infer<typeof nodeHourSchema>;
export type EngineRow = z.infer<typeof engineRowSchema>;
export type BlockRow = z.infer<typeof blockRowSchema>;
export type StratumWorkerRow = z.infer<typeof stratumWorkerRowSchema>;
export type BlockTransitionRow = z.infer<typeof blockTransitionRowSchema>;
export type ThermalHour = z.infer<typeof thermalHourSchema>;

export type ErrorKind =
  | 'node-unreachable'
  | 'node-warning'
  | 'miner-warning'
  | 'block-rejected'
  | 'submission-failed'
  | 'report-write'
  | 'pool-warning'
  | 'pool-unreachable'
  | 'block-isolated';
export type Severity = 'warning' | 'error';

/** One line of errors.jsonl. */
export interface ErrorRecord {
  readonly time: string;
  readonly kind: ErrorKind | string;
  readonly severity: Severity;
  readonly message: string;
  /** What the miner did about it. */
  readonly action: string;
}

/** `YYYY/MM/DD/HH` of the UTC hour holding `ms`. */
export function hourKey(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/${p(d.getUTCHours())}`;
}

export function hourStartMs(ms: number): number {
  return Math.floor(ms / 3_600_000) * 3_600_000;
}

export function hourDir(reportDir: string, ms: number): string {
  return join(reportDir, ...hourKey(ms).split('/'));
}

// The arithmetic and wording shared with the dashboard page live in format.ts (no Node imports,
// so the browser build compiles the same file).
export { chancePerDay, chancePerHour, describeChance, describeDuration, describeExpectedTime, expectedSecondsToBlock, formatDifficulty, formatRate } from './format.js';
