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
import { blockHashAt, blockHeader, type NodeFacts } from '../node/node-checks.js';
import { NodeSet, type NodeLink } from '../node/nodes.js';
import type { RpcClient } from '../node/rpc-client.js';
import { TemplateSource } from '../node/template-source.js';
import { unannounced } from '../submit/announcements.js';
import { BlockRestorer } from '../submit/block-restorer.js';
import { BlockSubmitter } from '../submit/block-submitter.js';
import { BlockTracker, type BlockTransition } from '../submit/block-tracker.js';
import { FoundBlockJournal, JournalError, type FoundBlockRecord } from '../submit/found-block-journal.js';
import { blockBytesByPeer, PropagationWatch, type PropagationNode } from '../submit/propagation.js';
import type { Logger } from '../telemetry/logger.js';
import { Notifier } from '../telemetry/notify/notifier.js';
import type { NotifyEvent } from '../telemetry/notify/notification-events.js';
import { Recorder, type RewardsView, type TelemetryTiming } from '../telemetry/recorder.js';
import { percentile, RunTally } from '../telemetry/run-tally.js';
import { Miner, type FoundBlock } from './miner.js';
import { checkNodesAtStart, nodeTarget, reportNodeEvents, submitTargets } from './node-wiring.js';
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
    /** The first configured node's RPC client. */
    rpc: RpcClient;
    nodes: NodeSet;
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
  /** How often and how patiently nodes are probed (tests and benchmarks shorten them). */
  readonly nodeTiming?: { readonly probeIntervalMs?: number; readonly probeTimeoutMs?: number; readonly zmqHeartbeatMs?: number; readonly disagreeMs?: number };
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
  const nodes = new NodeSet(config.nodes, { network: config.network, ...options.nodeTiming });
  const several = nodes.size > 1;
  let engines: Engine[] = [];
  let pool: PoolCore | undefined;
  // Notifications leave from their own queues: the mining path only hands them over.
  const notifier = new Notifier({ urls: config.notify, onBlock: config.onBlock, log });
  let tracker: BlockTracker | undefined;
  let thermal: ThermalGovernor | undefined;
  let propagation: PropagationWatch | undefined;
  // Aborted when the stop's grace runs out (STOP_GRACE_MS after the stop began).
  const stopping = new AbortController();
  const graceOver = once(stopping.signal, 'abort').then(() => undefined);
  let graceTimer: NodeJS.Timeout | undefined;
  let stopBeganAt: number | undefined;
  try {
    // Reports and the metrics endpoint start before the node is asked anything. Every block event
    // is journaled as announced once the notifications are done with it (announcements.ts).
    const announce = (e: NotifyEvent): void => {
      const done = notifier.notify(e);
      const hash = e.block?.hash;
      if (hash !== undefined) void done.then(() => journal.defer({ type: 'notified', time: new Date().toISOString(), hash, event: e.event }));
    };
    recorder = await Recorder.start({
      config,
      log: options.log,
      ...(options.reportFlushIntervalMs !== undefined && { reportFlushIntervalMs: options.reportFlushIntervalMs }),
      notify: announce,
      ...(options.telemetry !== undefined && { timing: options.telemetry }),
    });
    const rec = recorder;
    const node = await checkNodesAtStart(config, nodes, log);
    const nodeEvents = reportNodeEvents(nodes, rec, log);

    // Every block goes to every node; a node that lacks a block's parent gets the parents first.
    let restorer: BlockRestorer | undefined;
    const submitter = new BlockSubmitter({
      journal,
      targets: () => submitTargets(nodes, config.network),
      handBackParents: (target, found) => restorer!.handBackParents(nodeTarget(linkNamed(nodes, target.name), config.network), found),
      onAnswer: (found, answer) => {
        rec.nodeAnswer(answer.node, answer.outcome);
        tracker?.answered(found.hash, answer.node, answer.outcome);
      },
      onNodeFault: (found, node, message) =>
        rec.error('submission-failed', 'error', `${node} could not store block ${found.height} ${found.hash}: ${message}`, 'kept in the journal; submitted again until the node takes it'),
      log,
    });
    restorer = new BlockRestorer({
      journal,
      submitter,
      network: config.network,
      log,
      tipHint: () => Math.max(0, ...nodes.links.map((l) => l.health.height ?? 0)),
      // Restored, not orphaned: each says so at its next check.
      restored: (hash, node) => tracker?.handedBack(hash, node),
    });
    const blocks = new BlockTracker({
      journal,
      header: (hash) => blockHeader(followed(nodes).rpc, hash),
      hashAt: (height) => blockHashAt(followed(nodes).rpc, height),
      handBack: (hash) => restorer!.handBack(nodeTarget(followed(nodes), config.network), hash),
      log,
      network: config.network,
    }).load((await journal.scan()).records);
    tracker = blocks;
    blocks.on('transition', (t) => recordTransition(rec, t));
    rec.watchRewards(() => rewardsOf(blocks));

    // A node that comes (back) into contact gets the blocks it forgot before any work is mined on it.
    nodes.setGate(async (link, why) => {
      await restorer!.restore(nodeTarget(link, config.network), why);
    });
    propagation = new PropagationWatch({
      nodes: () => nodes.links.filter((l) => l.usable).map(propagationNode),
      of: nodes.size,
      journal,
      log,
      alarmMs: config.propagationAlarm * 1000,
      onChange: (hash, knownTo) => blocks.propagated(hash, knownTo),
      onIsolated: (hash, knownTo, seconds) => {
        const b = blocks.blocks().find((x) => x.hash === hash);
        if (b === undefined) return;
        blocks.propagated(hash, knownTo);
        log('error', `block ${b.height} is known to ${knownTo.nodes.length} of ${knownTo.of} node(s) and was sent to ${knownTo.peers ?? 'no known'} peer(s) after ${seconds} s: it may not reach the network`, { hash });
        rec.blockIsolated({ ...b, knownTo }, seconds);
      },
    });
    const watch = propagation;
    nodes.on('block', (link, n) => watch.seen(link.name, n.hash));
    // A node on another tip than the one work comes from, for a while: it is given the blocks of
    // ours it lacks (it takes them if that chain has more work), again whenever its tip moves.
    const catchingUp = new Set<NodeLink>();
    nodes.on('lagging', (link) => {
      // One at a time per node: a node far behind lags at every probe until it has caught up.
      if (catchingUp.has(link)) return;
      catchingUp.add(link);
      void restorer!
        .restore(nodeTarget(link, config.network), 'it is on another tip')
        .catch((err: unknown) => {
          if (link.usable) log('warn', `could not hand blocks to ${link.label}: ${(err as Error).message}`);
        })
        .finally(() => catchingUp.delete(link));
    });
    await nodes.start();
    nodeEvents.started();

    const replayed = await submitter.replay(undefined, { network: config.network, signal: stopping.signal });
    for (const r of replayed) log('info', 'journal: replayed a block found earlier', { hash: r.hash, outcome: r.outcome, reason: r.reason });
    for (const r of replayed) blocks.submitted(r.hash, r.outcome, r.reason);

    // What the journal holds but was never announced (a run that stopped first): said now, once.
    for (const u of unannounced((await journal.scan()).records, config.network)) {
      const b = blocks.blocks().find((x) => x.hash === u.hash);
      if (b !== undefined) rec.announceLate(u.event, b);
    }
    // At start-up, what happened while the miner was stopped (cheap: a header per block followed);
    // with no node usable yet, when one becomes so (below).
    const startNode = followed(nodes);
    if (startNode.usable) void blocks.checkAll({ hash: startNode.health.tip ?? node.chainInfo.bestblockhash, height: startNode.health.height ?? node.chainInfo.blocks });
    // Another node took over: its view of our blocks is checked in full.
    nodes.on('current', (next) => {
      if (next?.health.tip != null && next.health.height !== null) void blocks.checkAll({ hash: next.health.tip, height: next.health.height });
    });

    engines = options.engines ?? (await buildEngines(config));
    if (engines.some((e) => e.kind === 'cpu')) {
      for (const b of selfTestFailures()) {
        log('warn', `cpu: back end ${b.name} failed its self-test against the scalar reference on a CPU that supports it; it is not used (please report this)`);
      }
    }
    const rolling = configuredRolling(engines, !config.noVersionRolling);
    const first = nodes.links[0]!;
    log('info', `mining ${config.network} at height ${node.chainInfo.blocks + 1}`, {
      node: several ? nodes.links.map((l) => l.name).join(' ') : `${config.rpcUrl} ${node.version}`,
      payout: payout ? `${config.address} (${payout.type})` : 'none: every Stratum login must be a payout address (<address>[.<worker>])',
      engines: engines.map((e) => `${e.kind}/${e.backend}x${e.threads}`).join(','),
      ...gpuTuningField(engines),
      work: several ? nodes.links.map((l) => (l.entry.zmq ? `zmq ${l.entry.zmq}` : 'longpoll')).join(' ') : first.entry.zmq ? `zmq ${first.entry.zmq}` : 'longpoll',
      ...(engines.length > 0 && { versionRolling: describeRolling(rolling).replace(/^version rolling /, '') }),
    });

    const source = new TemplateSource({ nodes, network: config.network, refreshIntervalMs: config.refreshInterval * 1000 });
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
      stopBeganAt = performance.now();
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
          nodes: nodes.size,
        };
        // The tracker's row (payout, value, maturity height) is what the recorder reports; the
        // record itself is journaled by the submitter.
        const tracked = blocks.found(record);
        rec.blockFound(tracked);
        watch.found(record.hash);
        // The block that would complete --max-blocks: hash nothing more until the node has
        // answered, so no block beyond the last one wanted is mined (on regtest the next one
        // would take a millisecond).
        const completes = config.maxBlocks !== undefined && stats.accepted + inFlight.size + 1 >= config.maxBlocks;
        if (completes) hold('submit', true);
        const submitCalled = performance.now();
        unanswered.add(record.hash);
        const outcome = await submitter.submit(record, { signal: stopping.signal }).finally(() => unanswered.delete(record.hash));
        if (atStop?.has(record.hash)) settledAtStop[outcome.outcome] = (settledAtStop[outcome.outcome] ?? 0) + 1;
        // The other nodes' answers come within milliseconds: the announcement says how many hold it.
        const answers = several ? await Promise.race([outcome.allAnswered, delay(OTHER_ANSWERS_MS, outcome.answers)]) : outcome.answers;
        const knownTo = watch.answered(record.hash, answers);
        blocks.propagated(record.hash, knownTo);
        // The answers still coming count too (a node that was slow, or down and handed it back later).
        void outcome.allAnswered.then((all) => {
          const more = watch.answered(record.hash, all);
          blocks.propagated(record.hash, more);
        });
        // Candidate in hand → submitblock sent: the re-check, block assembly and journal fsync.
        const solvedToSentMs = submitCalled - found.foundAt + outcome.submitMs;
        const after = blocks.submitted(record.hash, outcome.outcome, outcome.reason) ?? tracked;
        rec.blockOutcome({ ...after, knownTo }, outcome.outcome, outcome.reason, solvedToSentMs);
        // The submitter logs the node's answer; the engine that found it is in the journal.
        if (config.maxBlocks !== undefined && stats.accepted >= config.maxBlocks) finish('max-blocks');
        else if (completes) hold('submit', false);
        const all = await outcome.allAnswered;
        if (all.length === nodes.size && all.every((a) => a.outcome === 'accepted')) RunTally.sample(stats.acceptedByAllMs, performance.now() - found.foundAt);
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
      rec.template(update.reason, update.node);
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

    if (thermalSensors !== undefined) {
      thermal = startThermal(thermalSensors, { config, rec, log, hold: (on) => hold('heat', on), ...(options.thermal !== undefined && { options: options.thermal }) });
    }

    const onAbort = () => finish('signal');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) finish('signal');
    const timer = config.duration !== undefined ? setTimeout(() => finish('duration'), config.duration * 1000) : undefined;

    pool = config.stratumPort !== undefined || config.sv2Port !== undefined ? await startPool(config, miner, rec, log, options.sv2Keys) : undefined;
    options.onStarted?.({ miner, source, stats, rpc: first.rpc, nodes, recorder: rec, tracker: blocks, pool, thermal });
    // The first template may be long in coming (no node ready yet); a stop meanwhile is a stop.
    await Promise.race([source.start(), finished]);
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
    // Whatever still waits on a node stops now (after an orderly stop the grace has run out or
    // nothing is left; after a failure nothing more is wanted of the nodes).
    stopping.abort();
    thermal?.stop();
    propagation?.stop();
    await pool?.close();
    await Promise.all(engines.map((e) => e.close().catch(() => undefined)));
    await nodes.stop();
    // A check in progress writes its transitions before the journal closes (within what is left
    // of the stop's grace).
    clearTimeout(graceTimer);
    const graceLeft = stopBeganAt === undefined ? undefined : Math.max(0, STOP_GRACE_MS - (performance.now() - stopBeganAt));
    let idleTimer: NodeJS.Timeout | undefined;
    await Promise.race([tracker?.idle(), ...(graceLeft === undefined ? [] : [new Promise<void>((r) => (idleTimer = setTimeout(r, graceLeft)))])]);
    clearTimeout(idleTimer);
    // Queued notifications get their grace, and are journaled as announced, before the journal closes.
    await notifier.close();
    await journal.close();
    await recorder?.close(); // the current hour is flushed on shutdown
  }
}

/** How long the announcement of an accepted block waits for the other nodes' answers. */
const OTHER_ANSWERS_MS = 1000;

function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());
}

/** The node the block tracker follows: the one templates come from, else the first. */
function followed(nodes: NodeSet): NodeLink {
  return nodes.current() ?? nodes.links[0]!;
}

function linkNamed(nodes: NodeSet, name: string): NodeLink {
  return nodes.links.find((l) => l.name === name) ?? nodes.links[0]!;
}

/** A node as the propagation watch asks it. */
function propagationNode(link: NodeLink): PropagationNode {
  return {
    name: link.name,
    knows: async (hash) => (await blockHeader(link.rpc, hash)) !== null,
    peerBlockBytes: async () => blockBytesByPeer(await link.rpc.call<Array<{ id: number; bytessent_per_msg?: Record<string, number> }>>('getpeerinfo')),
  };
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
  else if (t.to === 'mature' && t.from !== 'mature') rec.blockMatured(change);
  else if (t.restored === true) rec.blockRestored(change);
  else rec.blockConfirmed(change);
}

function rewardsOf(tracker: BlockTracker): RewardsView {
  const list = tracker.blocks();
  const totals = tracker.totals();
  return { lastBlock: list.at(-1) ?? null, immature: totals.immature, blocks: list.slice(-FOUND_BLOCKS_SHOWN).reverse() };
}

/** Found blocks the dashboard and /status list. */
const FOUND_BLOCKS_SHOWN = 20;

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
