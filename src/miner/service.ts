// `solominer mine` as a function: start-up checks, journal replay, engines, template source
// and orchestrator wired together, and an orderly stop. The CLI only parses configuration and
// maps the outcome to an exit code; tests and `demo` call this directly.
import { once } from 'node:events';

import { addressToScript, type AddressType } from '../bitcoin/address.js';
import { BitcoinError } from '../bitcoin/errors.js';
import { OP_RETURN } from '../bitcoin/script.js';
import { blockSubsidy, type BlockReward } from '../bitcoin/subsidy.js';
import { payoutAddressOf, payoutAddressOptional, type MineConfig } from '../config/mine-config.js';
import { createEngine, engineErrorLine, type EngineKind } from '../engines/create-engine.js';
import { CpuOptionError, selfTestFailures } from '../engines/cpu-engine.js';
import type { Engine } from '../engines/engine.js';
import { parseTuningLabel, tuningLabel, type GpuTuning } from '../engines/gpu/tuning.js';
import type { ThermalGovernor } from '../engines/thermal.js';
import { openSensors, startThermal, type ThermalOptions } from './thermal-wiring.js';
import { NodeAuthError, NodeCookieError, NodeStateError, NodeTlsError } from '../node/errors.js';
import { blockHashAt, blockHeader, blockInActiveChain, checkNode, checkZmq, NodeConnectTimeoutError, nodeKnowsBlock, waitForNode, type NodeFacts } from '../node/node-checks.js';
import { rpcClientFor, type RpcClient } from '../node/rpc-client.js';
import { TemplateSource } from '../node/template-source.js';
import { BlockSubmitter } from '../submit/block-submitter.js';
import { BlockTracker, type BlockTransition } from '../submit/block-tracker.js';
import { FoundBlockJournal, JournalError, type FoundBlockRecord } from '../submit/found-block-journal.js';
import type { Logger } from '../telemetry/logger.js';
import { Notifier } from '../telemetry/notify/notifier.js';
import { Recorder, type RewardsView, type TelemetryTiming } from '../telemetry/recorder.js';
import { percentile, type RunTally } from '../telemetry/run-tally.js';
import { Miner, type FoundBlock } from './miner.js';
import { startPool } from './pool.js';
import { configuredRolling, describeRolling, logRollingChanges, recordMinerEvents } from './record-events.js';
import { ServiceError } from './service-error.js';

export { ServiceError };
import type { PoolCore } from '../stratum/pool-core.js';
import type { IdentityOptions } from '../stratum/v2/authority.js';

export interface ServiceOptions {
  readonly config: MineConfig;
  readonly log: Logger;
  /** Aborting it stops the service in order (SIGINT/SIGTERM). */
  readonly signal?: AbortSignal;
  /** Engines to use instead of building them from config (tests, demo). */
  readonly engines?: Engine[];
  /** Called with the live objects once mining has started (tests and benchmarks observe them). */
  readonly onStarted?: (live: {
    miner: Miner;
    source: TemplateSource;
    stats: RunTally;
    rpc: RpcClient;
    recorder: Recorder;
    tracker: BlockTracker;
    pool: PoolCore | undefined;
    /** The temperature poll, when this machine has a sensor for the engines in use. */
    thermal: ThermalGovernor | undefined;
  }) => void;
  /** Where temperatures are read and how often (tests: a sysfs tree of their own, a short poll). */
  readonly thermal?: ThermalOptions;
  /** Period of the hourly report's flush of the current hour (default 60 s; tests shorten it). */
  readonly reportFlushIntervalMs?: number;
  /** Periods of the dashboard's history and live status (tests shorten them). */
  readonly telemetry?: TelemetryTiming;
  /**
   * Stratum V2 keys instead of the authority key file and fresh keys (recorded transcripts with
   * fixed keys: scripts/sv2-pool-regtest.mjs --seed).
   */
  readonly sv2Keys?: IdentityOptions;
}

export interface ServiceSummary {
  /** The run's counts, kept by the recorder. */
  readonly stats: RunTally;
  readonly node: NodeFacts;
  readonly seconds: number;
  readonly stopReason: 'max-blocks' | 'duration' | 'signal';
  /** The submissions in flight when the stop began, and what became of them before exit. */
  readonly atStop: StopSettlement;
}

export interface StopSettlement {
  /** Blocks being submitted when the stop began. */
  readonly inFlight: number;
  /** Their outcomes (accepted, rejected, ...) by the time the service returned. */
  readonly settled: Readonly<Record<string, number>>;
  /** Those without an outcome (the grace period ran out): in the journal, replayed at the next start. */
  readonly unsettled: number;
}

/**
 * The payout of the orchestrator's own job; undefined for a pool without an operator address
 * (payoutAddressOptional): no engine mines that job then and every login pays itself
 * (stratum/job-book.ts), so its coinbase pays NO_OPERATOR_SCRIPT, which nothing ever mines.
 */
function payoutOf(config: MineConfig): { script: Uint8Array; type: AddressType } | undefined {
  if (config.address === undefined && payoutAddressOptional(config)) return undefined;
  try {
    return addressToScript(payoutAddressOf(config), config.network);
  } catch (err) {
    if (err instanceof BitcoinError) throw new ServiceError(`--address: ${err.what}`, 2);
    throw err;
  }
}

/**
 * The orderly stop's grace: from the moment the stop begins, what waits on the node (the
 * submission in flight, a template request, a block check) gets this long in all; then the
 * submission is given up (the block stays pending in the journal and is submitted again at the
 * next start), so that the whole stop ends within Docker's default 10 s.
 */
export const STOP_GRACE_MS = 7_000;

/** Unspendable: the coinbase of a job no one is given (a pool without an operator address). */
const NO_OPERATOR_SCRIPT = Uint8Array.of(OP_RETURN);

async function startNode(config: MineConfig, rpc: RpcClient, log: Logger): Promise<NodeFacts> {
  try {
    const chain = await waitForNode(rpc, config.connectTimeout * 1000, (err) =>
      log('warn', `waiting for the node: ${err.message}`, { timeoutSeconds: config.connectTimeout }),
    );
    const facts = await checkNode(rpc, config.network, chain);
    if (config.zmq !== undefined) await checkZmq(rpc, config.zmq);
    return facts;
  } catch (err) {
    if (err instanceof NodeAuthError) throw new ServiceError(`${err.message}: check --rpc-user/--rpc-password or --rpc-cookie`, 2);
    if (err instanceof NodeTlsError) throw new ServiceError(`--${err.field}: ${err.message}`, 2);
    if (err instanceof NodeCookieError) {
      const uid = process.getuid?.();
      throw new ServiceError(
        `--rpc-cookie: cannot read ${err.path} (${err.code})${uid === undefined ? '' : ` as uid ${uid}`}: let this user read it (bitcoind -rpccookieperms=group and the node's group) or give --rpc-user and --rpc-password`,
        2,
      );
    }
    if (err instanceof NodeConnectTimeoutError) throw new ServiceError(err.message, 1);
    if (err instanceof NodeStateError) {
      const config_problem = /^(network|zmq):/.test(err.message);
      throw new ServiceError(config_problem ? `--${err.message}` : err.message, config_problem ? 2 : 1);
    }
    throw err;
  }
}

/** The GPU engines' tuning for the start-up line ("wg64 n16 40ms q2"), which --gpu-tuning sets. */
function gpuTuningField(engines: readonly Engine[]): { gpuTuning?: string } {
  const labels = engines.flatMap((e) => {
    const tuning = (e as Partial<{ tuning: GpuTuning }>).tuning;
    return e.kind === 'gpu' && tuning !== undefined ? [tuningLabel(tuning)] : [];
  });
  return labels.length > 0 ? { gpuTuning: labels.join(', ') } : {};
}

/** Flags of mine that choose an engine, for one-line errors. */
const MINE_ENGINE_FLAGS = { engine: '--engines', backend: '--cpu-backend', adapter: '--gpu-adapter' } as const;
/** CpuOptionError's field → the mine flag that set it. */
const GOVERNANCE_FLAGS: Readonly<Record<string, string>> = { affinity: '--cpu-affinity', priority: '--cpu-priority', cpuLimit: '--cpu-limit', reserveCores: '--reserve-cores' };

/** The engines the configuration asks for; one clear line (exit 2) when one is not available. */
export async function buildEngines(config: MineConfig): Promise<Engine[]> {
  const engines: Engine[] = [];
  const tuning = config.gpuTuning === undefined ? undefined : parseTuningLabel(config.gpuTuning);
  try {
    for (const kind of config.engines) {
      if (kind === 'cpu') {
        engines.push(
          await createEngine({
            kind,
            threads: config.threads,
            ...(config.cpuBackend !== undefined && { backend: config.cpuBackend }),
            governance: {
              ...(config.cpuAffinity !== undefined && { affinity: config.cpuAffinity }),
              ...(config.cpuPriority !== undefined && { priority: config.cpuPriority }),
              ...(config.cpuLimit !== undefined && { cpuLimit: config.cpuLimit }),
            },
          }),
        );
      } else {
        engines.push(
          await createEngine({
            kind,
            ...(config.gpuAdapter !== undefined && { backend: String(config.gpuAdapter) }),
            ...(tuning !== undefined && { tuning }),
          }),
        );
      }
    }
    return engines;
  } catch (err) {
    await Promise.all(engines.map((e) => e.close()));
    const line = engineErrorLine(err, MINE_ENGINE_FLAGS);
    if (line !== undefined) throw new ServiceError(line, 2);
    if (err instanceof CpuOptionError) {
      const field = /^(\w+):/.exec(err.message)?.[1] ?? '';
      throw new ServiceError(`${GOVERNANCE_FLAGS[field] ?? '--engines'}: ${err.message.replace(/^\w+: /, '')}`, 2);
    }
    // The tuning is within the engine's ranges (the config checked); the adapter may allow less.
    if (err instanceof RangeError && /^(workgroupSize|noncesPerInvocation|inFlight|dispatchMs):/.test(err.message)) {
      throw new ServiceError(`--gpu-tuning: ${err.message}`, 2);
    }
    throw err;
  }
}

export async function runMineService(options: ServiceOptions): Promise<ServiceSummary> {
  const { config } = options;
  // Once the recorder is up, log lines go through it (it keeps the status line clear of them).
  let recorder: Recorder | undefined;
  const log: Logger = (level, msg, fields) => (recorder ? recorder.log(level, msg, fields) : options.log(level, msg, fields));
  const payout = payoutOf(config);
  const engineKinds = options.engines ? [...new Set(options.engines.map((e) => e.kind as EngineKind))] : config.engines;
  const thermalSensors = await openSensors(config, engineKinds, options.thermal?.sources);
  let journal: FoundBlockJournal;
  try {
    journal = await FoundBlockJournal.open(config.journal, { warn: (m) => log('warn', m) });
  } catch (err) {
    if (err instanceof JournalError) throw new ServiceError(`--journal: ${err.message.replace(/^journal: /, '')}`, 2);
    throw err;
  }
  const rpc = rpcClientFor(config);
  let engines: Engine[] = [];
  let pool: PoolCore | undefined;
  // Notifications leave from their own queues: the mining path only hands them over.
  const notifier = new Notifier({ urls: config.notify, onBlock: config.onBlock, log });
  let tracker: BlockTracker | undefined;
  let thermal: ThermalGovernor | undefined;
  // Aborted when the stop's grace runs out (STOP_GRACE_MS after the stop began).
  const stopping = new AbortController();
  const graceOver = once(stopping.signal, 'abort').then(() => undefined);
  let graceTimer: NodeJS.Timeout | undefined;
  try {
    // Reports and the metrics endpoint start before the node is asked anything.
    recorder = await Recorder.start({
      config,
      log: options.log,
      ...(options.reportFlushIntervalMs !== undefined && { reportFlushIntervalMs: options.reportFlushIntervalMs }),
      ...(notifier.enabled && { notify: (e) => notifier.notify(e) }),
      ...(options.telemetry !== undefined && { timing: options.telemetry }),
    });
    const rec = recorder;
    const node = await startNode(config, rpc, log);
    const submitter = new BlockSubmitter({
      journal,
      // (bitcoin-core's client cannot cancel a request: one given up at the stop ends with the process)
      submitBlock: (hex) => rpc.call<string | null>('submitblock', hex),
      blockInActiveChain: (hash) => blockInActiveChain(rpc, hash),
      log,
    });
    const replayed = await submitter.replay((hash) => nodeKnowsBlock(rpc, hash), { network: config.network, signal: stopping.signal });
    for (const r of replayed) log('info', 'journal: replayed a block found earlier', { hash: r.hash, outcome: r.outcome, reason: r.reason });

    // Every block found so far (this run's journal, earlier runs' too) is followed to maturity.
    const blocks = new BlockTracker({
      journal,
      header: (hash) => blockHeader(rpc, hash),
      hashAt: (height) => blockHashAt(rpc, height),
      log,
      network: config.network,
    }).load((await journal.scan()).records);
    tracker = blocks;
    blocks.on('transition', (t) => recordTransition(rec, t));
    rec.watchRewards(() => rewardsOf(blocks));
    // At start-up, what happened while the miner was stopped (cheap: a header per block followed).
    void blocks.checkAll({ hash: node.chainInfo.bestblockhash, height: node.chainInfo.blocks });

    engines = options.engines ?? (await buildEngines(config));
    if (engines.some((e) => e.kind === 'cpu')) {
      for (const b of selfTestFailures()) {
        log('warn', `cpu: back end ${b.name} failed its self-test against the scalar reference on a CPU that supports it; it is not used (please report this)`);
      }
    }
    const rolling = configuredRolling(engines, !config.noVersionRolling);
    log('info', `mining ${config.network} at height ${node.chainInfo.blocks + 1}`, {
      node: `${config.rpcUrl} ${node.version}`,
      payout: payout ? `${config.address} (${payout.type})` : 'none: every Stratum login must be a payout address (<address>[.<worker>])',
      engines: engines.map((e) => `${e.kind}/${e.backend}x${e.threads}`).join(','),
      ...gpuTuningField(engines),
      work: config.zmq ? `zmq ${config.zmq}` : 'longpoll',
      ...(engines.length > 0 && { versionRolling: describeRolling(rolling).replace(/^version rolling /, '') }),
    });

    const source = new TemplateSource({
      rpc,
      network: config.network,
      zmqEndpoint: config.zmq,
      refreshIntervalMs: config.refreshInterval * 1000,
    });
    let resolveFinished: (reason: ServiceSummary['stopReason']) => void = () => {};
    const finished = new Promise<ServiceSummary['stopReason']>((resolve) => {
      resolveFinished = resolve;
    });
    const stats = rec.run;
    let finishing = false;
    const inFlight = new Set<Promise<void>>();
    // Blocks between journal and the node's answer; those at the stop, and what they became.
    const unanswered = new Set<string>();
    let atStop: Set<string> | undefined;
    const settledAtStop: Record<string, number> = {};
    // Halts hashing at once (no block after the last one wanted), then lets the caller wind down.
    const finish = (reason: ServiceSummary['stopReason']): void => {
      if (finishing) return;
      finishing = true;
      atStop = new Set(unanswered);
      graceTimer = setTimeout(() => stopping.abort(), STOP_GRACE_MS);
      void miner.stop();
      resolveFinished(reason);
    };
    // Hashing is held while any reason holds it: the block that completes --max-blocks being
    // submitted, or heat (--max-temp). Templates are still followed while held.
    const holds = new Set<'submit' | 'heat'>();
    const hold = (reason: 'submit' | 'heat', on: boolean): void => {
      if (on) holds.add(reason);
      else holds.delete(reason);
      miner.hold(holds.size > 0);
    };
    const rewardOf = rewardFields(config.address, config.network);

    const onBlock = (found: FoundBlock): Promise<void> => {
      const task = (async () => {
        const record: FoundBlockRecord = {
          type: 'found',
          time: new Date().toISOString(),
          network: config.network,
          height: found.job.height,
          hash: found.block.hash,
          previousblockhash: found.job.previousBlockHash,
          blockHex: found.block.hex,
          engine: found.engine,
          backend: found.backend,
          version: found.version,
          ...(found.worker !== undefined && { worker: found.worker }),
          // A Stratum worker's block pays its own address; the local engines' the operator's.
          ...rewardOf(found.job.coinbaseValue, found.job.height),
          ...(found.address !== undefined && { address: found.address }),
        };
        // The tracker's row (payout, value, maturity height) is what the recorder reports; the
        // record itself is journaled by the submitter.
        const tracked = blocks.found(record);
        rec.blockFound(tracked);
        // The block that would complete --max-blocks: hash nothing more until the node has
        // answered, so no block beyond the last one wanted is mined (on regtest the next one
        // would take a millisecond).
        const completes = config.maxBlocks !== undefined && stats.accepted + inFlight.size + 1 >= config.maxBlocks;
        if (completes) hold('submit', true);
        const submitCalled = performance.now();
        unanswered.add(record.hash);
        const outcome = await submitter.submit(record, { signal: stopping.signal }).finally(() => unanswered.delete(record.hash));
        if (atStop?.has(record.hash)) settledAtStop[outcome.outcome] = (settledAtStop[outcome.outcome] ?? 0) + 1;
        // Candidate in hand → submitblock sent: the re-check, block assembly and journal fsync.
        const solvedToSentMs = submitCalled - found.foundAt + outcome.submitMs;
        rec.blockOutcome(blocks.submitted(record.hash, outcome.outcome, outcome.reason) ?? tracked, outcome.outcome, outcome.reason, solvedToSentMs);
        // The submitter logs the node's answer; the engine that found it is in the journal.
        if (config.maxBlocks !== undefined && stats.accepted >= config.maxBlocks) finish('max-blocks');
        else if (completes) hold('submit', false);
      })().catch((err: unknown) => {
        log('error', `submission failed: ${(err as Error).message}`);
        rec.error('submission-failed', 'error', (err as Error).message, 'the block stays in the journal and is replayed at the next start');
      });
      inFlight.add(task);
      return task.finally(() => inFlight.delete(task));
    };

    const miner = new Miner({
      engines,
      payoutScript: payout?.script ?? NO_OPERATOR_SCRIPT,
      coinbaseTag: config.coinbaseTag,
      onBlock,
      requestTemplate: (reason) => {
        if (!finishing) void source.request(reason);
      },
      versionRolling: !config.noVersionRolling,
    });
    // One recorder call per event: it feeds the tally, reports, metrics and status alike.
    recordMinerEvents(miner, rec, log);
    if (engines.length > 0) logRollingChanges(miner, log, rolling);
    miner.on('job', (s) => {
      rec.workSwitch(s);
      if (s.newTip) log('info', `new work: height ${s.job.height}`, { reason: s.reason, txs: s.job.txCount - 1, switchMs: s.latencyMs });
    });
    // A new tip (the ZMQ or longpoll notice behind this template): found blocks are checked on it.
    let lastTip: string | undefined;
    source.on('template', (update) => {
      rec.template(update.reason);
      void miner.onTemplate(update);
      const tip = update.template.previousblockhash;
      if (tip !== lastTip) {
        lastTip = tip;
        void blocks.onTip({ hash: tip, height: update.template.height - 1 });
      }
    });
    source.on('warning', (w) => {
      log('warn', w);
      rec.error('node-warning', 'warning', w, 'kept mining on the current work');
    });
    source.on('nodeDown', (err) => {
      log('warn', `node unreachable, waiting for it as long as it takes: ${err.message}`);
      rec.nodeDown(err);
    });
    source.on('nodeUp', () => {
      log('info', 'node reachable again');
      rec.nodeUp();
    });

    if (thermalSensors !== undefined) {
      thermal = startThermal(thermalSensors, { config, rec, log, hold: (on) => hold('heat', on), ...(options.thermal !== undefined && { options: options.thermal }) });
    }

    const onAbort = () => finish('signal');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) finish('signal');
    const timer = config.duration !== undefined ? setTimeout(() => finish('duration'), config.duration * 1000) : undefined;

    pool = config.stratumPort !== undefined || config.sv2Port !== undefined ? await startPool(config, miner, rec, log, options.sv2Keys) : undefined;
    options.onStarted?.({ miner, source, stats, rpc, recorder: rec, tracker: blocks, pool, thermal });
    await source.start();
    const stopReason = await finished;

    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    // A template request the node does not answer holds the stop no longer than the grace;
    // whatever it brings later is not wanted.
    await Promise.race([source.stop(), graceOver]);
    source.removeAllListeners();
    await miner.stop();
    // A submission in flight is finished, or given up when the grace runs out.
    await Promise.all([...inFlight]);
    return { stats, node, seconds: (Date.now() - stats.startedAt) / 1000, stopReason, atStop: settlement(atStop?.size ?? 0, settledAtStop) };
  } finally {
    thermal?.stop();
    await pool?.close();
    await Promise.all(engines.map((e) => e.close().catch(() => undefined)));
    // A check in progress writes its transitions before the journal closes (within the grace).
    await Promise.race([tracker?.idle(), ...(graceTimer === undefined ? [] : [graceOver])]);
    clearTimeout(graceTimer);
    await journal.close();
    await recorder?.close(); // the current hour is flushed on shutdown
    await notifier.close();
  }
}

/** The submissions in flight at the stop and their outcomes; those without one are unsettled. */
function settlement(inFlight: number, settled: Record<string, number>): StopSettlement {
  const count = Object.values(settled).reduce((a, b) => a + b, 0);
  return { inFlight, settled: { ...settled }, unsettled: Math.max(0, inFlight - count) };
}

/** One line: "2 submissions in flight at the stop: accepted 2" (or nothing in flight). */
export function describeSettlement(s: StopSettlement): string {
  if (s.inFlight === 0) return 'no submission was in flight at the stop';
  const outcomes = Object.entries(s.settled).map(([k, v]) => (k === 'unconfirmed' ? `unconfirmed ${v} (no answer from the node: pending in the journal, submitted again at the next start)` : `${k} ${v}`));
  if (s.unsettled > 0) outcomes.push(`${s.unsettled} unsettled (in the journal, submitted again at the next start)`);
  return `${s.inFlight} submission${s.inFlight === 1 ? '' : 's'} in flight at the stop: ${outcomes.join(', ')}`;
}

/** Recorded with every found block: what it pays and to whom. */
function rewardFields(address: string | undefined, network: MineConfig['network']) {
  return (coinbaseValue: number, height: number): BlockReward => {
    const subsidy = blockSubsidy(height, network);
    return { ...(address !== undefined && { address }), coinbaseValue, subsidy, fees: Math.max(0, coinbaseValue - subsidy) };
  };
}

/** One recorder call per chain transition of a found block. */
function recordTransition(rec: Recorder, t: BlockTransition): void {
  // Old blocks of a journal written before block tracking: in the journal and the log only.
  if (t.catchUp) return;
  const change = { block: t.block, from: t.from };
  if (t.to === 'orphaned') rec.blockOrphaned(change);
  else if (t.to === 'mature') rec.blockMatured(change);
  else rec.blockConfirmed(change);
}

function rewardsOf(tracker: BlockTracker): RewardsView {
  const list = tracker.blocks();
  const totals = tracker.totals();
  return { lastBlock: list.at(-1) ?? null, immature: totals.immature };
}

/** The end-of-run lines: what the run did. */
export function summaryLines(summary: ServiceSummary): string[] {
  const { stats } = summary;
  const rate = summary.seconds > 0 ? stats.totalHashes / summary.seconds : 0;
  const lines = [
    `stopped (${summary.stopReason}) after ${summary.seconds.toFixed(1)} s: ${stats.totalHashes} hashes (${(rate / 1e6).toFixed(2)} MH/s)`,
    `blocks: found ${stats.blocksFound}, ${Object.entries(stats.outcomes)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none submitted'}`,
  ];
  for (const e of stats.engines.values()) lines.push(`engine ${e.kind}/${e.backend}: ${e.hashes} hashes`);
  lines.push(describeSettlement(summary.atStop));
  if (stats.switchOverheadMs.length > 0) {
    lines.push(
      `work switches: ${stats.switchOverheadMs.length}, overhead beyond getblocktemplate p50 ${percentile(stats.switchOverheadMs, 0.5).toFixed(2)} ms, p99 ${percentile(stats.switchOverheadMs, 0.99).toFixed(2)} ms`,
    );
  }
  return lines;
}
