// `solominer mine --pool …` as a function (docs/stratum.md, "Mining through a pool"): the
// engines hash a Stratum pool's jobs instead of the node's. The pool client (src/stratum/v1/client.ts
// for stratum+tcp://, src/stratum/v2/client.ts for stratum2+tcp://, the same fail-over and events)
// hands every job to the orchestrator, which gives each engine and thread its own
// extranonce2 and re-checks every share before it goes back to the pool with the job's ntime.
// Reports, metrics, /status and the status line are the same as in node mode, with the pool's
// figures (shares by verdict, difficulty, connection, reconnects).
import type { UpstreamClient } from '../stratum/upstream.js';
import { StratumClient } from '../stratum/v1/client.js';
import { Sv2Client } from '../stratum/v2/client.js';
import type { Engine } from '../engines/engine.js';
import type { MineConfig } from '../config/mine-config.js';
import type { Logger } from '../telemetry/logger.js';
import { Recorder, type TelemetryTiming } from '../telemetry/recorder.js';
import { percentile, type RunTally } from '../telemetry/run-tally.js';
import type { EngineKind } from '../engines/create-engine.js';
import type { ThermalGovernor } from '../engines/thermal.js';
import { Miner } from './miner.js';
import { openSensors, startThermal, type ThermalOptions } from './thermal-wiring.js';
import { configuredRolling, describeRolling, logRollingChanges, recordMinerEvents } from './record-events.js';
import { buildEngines } from './service.js';

/** After the pool is lost, its last job is hashed this long (its shares wait), then hashing holds. */
export const LAST_JOB_GRACE_MS = 120_000;

export interface PoolClientOptions {
  readonly config: MineConfig;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  readonly engines?: Engine[];
  readonly onStarted?: (live: { miner: Miner; client: UpstreamClient; recorder: Recorder; stats: RunTally }) => void;
  readonly reportFlushIntervalMs?: number;
  readonly telemetry?: TelemetryTiming;
  readonly thermal?: ThermalOptions;
  /** Backoff of the reconnects (tests shorten it). */
  readonly reconnect?: { initialDelayMs: number; maxDelayMs: number };
}

export interface PoolClientSummary {
  readonly stats: RunTally;
  readonly seconds: number;
  readonly stopReason: 'duration' | 'signal';
  readonly sharesAccepted: number;
  readonly sharesRejected: number;
}

export async function runPoolClientService(options: PoolClientOptions): Promise<PoolClientSummary> {
  const { config } = options;
  let recorder: Recorder | undefined;
  const log: Logger = (level, msg, fields) => (recorder ? recorder.log(level, msg, fields) : options.log(level, msg, fields));
  let engines: Engine[] = [];
  let client: UpstreamClient | undefined;
  let thermal: ThermalGovernor | undefined;
  const kinds = options.engines ? [...new Set(options.engines.map((e) => e.kind as EngineKind))] : config.engines;
  const sensors = await openSensors(config, kinds, options.thermal?.sources);
  try {
    recorder = await Recorder.start({
      config,
      log: options.log,
      ...(options.reportFlushIntervalMs !== undefined && { reportFlushIntervalMs: options.reportFlushIntervalMs }),
      ...(options.telemetry !== undefined && { timing: options.telemetry }),
    });
    const rec = recorder;
    engines = options.engines ?? (await buildEngines(config));
    const clientOptions = {
      urls: config.pool!,
      user: config.user!,
      password: config.pass,
      suggestDifficulty: config.suggestDifficulty,
      userAgent: 'solominer/0.1.0',
      ...options.reconnect,
    };
    // One wire per run: fail-over goes from one pool to the next of the same protocol.
    const stratum: UpstreamClient = config.pool!.every((u) => u.startsWith('stratum2+tcp://')) ? new Sv2Client(clientOptions) : new StratumClient(clientOptions);
    client = stratum;
    const miner = new Miner({
      engines,
      // Pool jobs carry their own coinbase; these two belong to node mode and are never used.
      payoutScript: new Uint8Array(0),
      onBlock: async () => {},
      requestTemplate: () => {},
      versionRolling: !config.noVersionRolling,
    });
    // Whether the pool grants BIP320's bits is known at login; the line below says what is asked.
    const rolling = configuredRolling(engines, !config.noVersionRolling);
    log('info', `mining through ${config.pool!.join(', then ')} as ${config.user}`, {
      engines: engines.map((e) => `${e.kind}/${e.backend}x${e.threads}`).join(','),
      versionRolling: describeRolling(rolling).replace(/^version rolling /, ''),
    });

    // One recorder call per event, as in node mode.
    recordMinerEvents(miner, rec, log);
    logRollingChanges(miner, log, rolling);
    miner.on('job', (s) => rec.workSwitch(s));
    miner.on('poolShare', (p) =>
      stratum.submit({ job: p.job, extranonce: p.unit.extranonce, ntime: p.unit.time, nonce: p.nonce, version: p.version, difficulty: p.job.pool!.difficulty }),
    );

    // Hashing holds while the pool is gone too long, or while too hot (--max-temp).
    const holds = new Set<'no-pool' | 'heat'>();
    const hold = (reason: 'no-pool' | 'heat', on: boolean): void => {
      if (on) holds.add(reason);
      else holds.delete(reason);
      miner.hold(holds.size > 0);
    };
    if (sensors !== undefined) thermal = startThermal(sensors, { config, rec, log, hold: (on) => hold('heat', on), ...(options.thermal !== undefined && { options: options.thermal }) });
    let graceTimer: NodeJS.Timeout | undefined;
    stratum.on('job', ({ job, clean, receivedAt }) => {
      rec.template('pool');
      if (holds.has('no-pool')) hold('no-pool', false);
      void miner.onPoolJob(job, clean, receivedAt);
    });
    stratum.on('connected', (c) => {
      if (graceTimer) clearTimeout(graceTimer);
      graceTimer = undefined;
      log('info', `logged in to the pool ${c.url}`, { extranonce1: c.extranonce1, extranonce2Size: c.extranonce2Size, versionRolling: c.versionRolling });
      rec.upstreamState(true, c.url);
    });
    stratum.on('disconnected', (d) => {
      log('warn', `lost the pool ${d.url} (${d.reason}); reconnecting with backoff, the last job hashed for ${LAST_JOB_GRACE_MS / 1000} s more`);
      rec.upstreamState(false, d.url, d.reason);
      // The last job stays worth hashing only while it can still be valid.
      graceTimer = setTimeout(() => {
        hold('no-pool', true);
        log('warn', `no pool for ${LAST_JOB_GRACE_MS / 1000} s: hashing holds until a pool sends work`);
      }, LAST_JOB_GRACE_MS);
      graceTimer.unref();
    });
    stratum.on('difficulty', (d) => rec.upstreamDifficulty(d));
    stratum.on('share', (s) => {
      if (!s.accepted) log('debug', `the pool rejected a share: ${s.reason}`);
      rec.upstreamShare(s.accepted, s.reason, s.kind);
    });
    stratum.on('dropped', (d) => {
      log('debug', `a share was not sent: ${d.reason}`);
      rec.upstreamDropped();
    });
    stratum.on('warning', (w) => {
      log('warn', w);
      rec.error('pool-warning', 'warning', w, 'reconnecting');
    });

    const stopReason = await new Promise<PoolClientSummary['stopReason']>((resolve) => {
      const timer = config.duration !== undefined ? setTimeout(() => resolve('duration'), config.duration * 1000) : undefined;
      const onAbort = () => {
        if (timer) clearTimeout(timer);
        resolve('signal');
      };
      if (options.signal?.aborted) onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      options.onStarted?.({ miner, client: stratum, recorder: rec, stats: rec.run });
      stratum.start();
    });
    if (graceTimer) clearTimeout(graceTimer);
    thermal?.stop();
    await miner.stop();
    await stratum.stop();
    const status = rec.status();
    return {
      stats: rec.run,
      seconds: (Date.now() - rec.run.startedAt) / 1000,
      stopReason,
      sharesAccepted: status.upstream?.sharesAccepted ?? 0,
      sharesRejected: Object.values(status.upstream?.sharesRejected ?? {}).reduce((a, b) => a + b, 0),
    };
  } finally {
    thermal?.stop();
    await client?.stop();
    await Promise.all(engines.map((e) => e.close().catch(() => undefined)));
    await recorder?.close();
  }
}

/** The end-of-run lines of mine --pool. */
export function poolSummaryLines(s: PoolClientSummary): string[] {
  const rate = s.seconds > 0 ? s.stats.totalHashes / s.seconds : 0;
  const lines = [
    `stopped (${s.stopReason}) after ${s.seconds.toFixed(1)} s: ${s.stats.totalHashes} hashes (${(rate / 1e6).toFixed(2)} MH/s)`,
    `shares: accepted ${s.sharesAccepted}, rejected ${s.sharesRejected}`,
  ];
  for (const e of s.stats.engines.values()) lines.push(`engine ${e.kind}/${e.backend}: ${e.hashes} hashes`);
  if (s.stats.switchLatencyMs.length > 0) {
    lines.push(`pool jobs: ${s.stats.switchLatencyMs.length}, notify → every engine hashing p50 ${percentile(s.stats.switchLatencyMs, 0.5).toFixed(2)} ms, p99 ${percentile(s.stats.switchLatencyMs, 0.99).toFixed(2)} ms`);
  }
  return lines;
}
