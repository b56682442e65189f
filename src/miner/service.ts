// `solominer mine` as a function: start-up checks, journal replay, engines, template source
// and orchestrator wired together, and an orderly stop. The CLI only parses configuration and
// maps the outcome to an exit code; tests and `demo` call this directly.
import { addressToScript, type AddressType } from '../bitcoin/address.js';
import { BitcoinError } from '../bitcoin/errors.js';
import type { MineConfig } from '../config/mine-config.js';
import { createEngine, EngineUnavailableError } from '../engines/create-engine.js';
import { BackendUnavailableError } from '../engines/cpu-engine.js';
import type { Engine } from '../engines/engine.js';
import { NodeAuthError, NodeStateError, NodeTlsError } from '../node/errors.js';
import { blockInActiveChain, checkNode, checkZmq, NodeConnectTimeoutError, nodeKnowsBlock, waitForNode, type NodeFacts } from '../node/node-checks.js';
import { rpcClientFor, type RpcClient } from '../node/rpc-client.js';
import { TemplateSource } from '../node/template-source.js';
import { BlockSubmitter } from '../submit/block-submitter.js';
import { FoundBlockJournal, JournalError } from '../submit/found-block-journal.js';
import type { Logger } from '../telemetry/logger.js';
import { Recorder, type TelemetryTiming } from '../telemetry/recorder.js';
import { percentile, type RunTally } from '../telemetry/run-tally.js';
import { Miner, type FoundBlock } from './miner.js';

/** A start-up failure: one line for the user and the exit code it deserves. */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
  }
}

export interface ServiceOptions {
  readonly config: MineConfig;
  readonly log: Logger;
  /** Aborting it stops the service in order (SIGINT/SIGTERM). */
  readonly signal?: AbortSignal;
  /** Engines to use instead of building them from config (tests, demo). */
  readonly engines?: Engine[];
  /** Called with the live objects once mining has started (tests and benchmarks observe them). */
  readonly onStarted?: (live: { miner: Miner; source: TemplateSource; stats: RunTally; rpc: RpcClient; recorder: Recorder }) => void;
  /** Period of the hourly report's flush of the current hour (default 60 s; tests shorten it). */
  readonly reportFlushIntervalMs?: number;
  /** Periods of the dashboard's history and live status (tests shorten them). */
  readonly telemetry?: TelemetryTiming;
}

export interface ServiceSummary {
  /** The run's counts, kept by the recorder. */
  readonly stats: RunTally;
  readonly node: NodeFacts;
  readonly seconds: number;
  readonly stopReason: 'max-blocks' | 'duration' | 'signal';
}

function payoutOf(config: MineConfig): { script: Uint8Array; type: AddressType } {
  try {
    return addressToScript(config.address, config.network);
  } catch (err) {
    if (err instanceof BitcoinError) throw new ServiceError(`--address: ${err.what}`, 2);
    throw err;
  }
}

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
    if (err instanceof NodeConnectTimeoutError) throw new ServiceError(err.message, 1);
    if (err instanceof NodeStateError) {
      const config_problem = /^(network|zmq):/.test(err.message);
      throw new ServiceError(config_problem ? `--${err.message}` : err.message, config_problem ? 2 : 1);
    }
    throw err;
  }
}

async function buildEngines(config: MineConfig): Promise<Engine[]> {
  const engines: Engine[] = [];
  try {
    for (const kind of config.engines) {
      engines.push(
        await createEngine({
          kind,
          threads: config.threads,
          ...(kind === 'gpu' && config.gpuAdapter !== undefined ? { backend: String(config.gpuAdapter) } : {}),
        }),
      );
    }
    return engines;
  } catch (err) {
    await Promise.all(engines.map((e) => e.close()));
    if (err instanceof EngineUnavailableError || err instanceof BackendUnavailableError) throw new ServiceError(`--engines: ${err.message}`, 2);
    throw err;
  }
}

export async function runMineService(options: ServiceOptions): Promise<ServiceSummary> {
  const { config } = options;
  // Once the recorder is up, log lines go through it (it keeps the status line clear of them).
  let recorder: Recorder | undefined;
  const log: Logger = (level, msg, fields) => (recorder ? recorder.log(level, msg, fields) : options.log(level, msg, fields));
  const payout = payoutOf(config);
  let journal: FoundBlockJournal;
  try {
    journal = await FoundBlockJournal.open(config.journal, { warn: (m) => log('warn', m) });
  } catch (err) {
    if (err instanceof JournalError) throw new ServiceError(`--journal: ${err.message.replace(/^journal: /, '')}`, 2);
    throw err;
  }
  const rpc = rpcClientFor(config);
  let engines: Engine[] = [];
  try {
    // Reports and the metrics endpoint start before the node is asked anything.
    recorder = await Recorder.start({
      config,
      log: options.log,
      ...(options.reportFlushIntervalMs !== undefined && { reportFlushIntervalMs: options.reportFlushIntervalMs }),
      ...(options.telemetry !== undefined && { timing: options.telemetry }),
    });
    const node = await startNode(config, rpc, log);
    const submitter = new BlockSubmitter({
      journal,
      submitBlock: (hex) => rpc.call<string | null>('submitblock', hex),
      blockInActiveChain: (hash) => blockInActiveChain(rpc, hash),
      log,
    });
    const stopping = new AbortController();
    const replayed = await submitter.replay((hash) => nodeKnowsBlock(rpc, hash), { network: config.network, signal: stopping.signal });
    for (const r of replayed) log('info', 'journal: replayed a block found earlier', { hash: r.hash, outcome: r.outcome, reason: r.reason });

    engines = options.engines ?? (await buildEngines(config));
    log('info', `mining ${config.network} at height ${node.chainInfo.blocks + 1}`, {
      node: `${config.rpcUrl} ${node.version}`,
      payout: `${config.address} (${payout.type})`,
      engines: engines.map((e) => `${e.kind}/${e.backend}x${e.threads}`).join(','),
      work: config.zmq ? `zmq ${config.zmq}` : 'longpoll',
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
    const rec = recorder;
    const stats = rec.run;
    let finishing = false;
    // Halts hashing at once (no block after the last one wanted), then lets the caller wind down.
    const finish = (reason: ServiceSummary['stopReason']): void => {
      if (finishing) return;
      finishing = true;
      void miner.stop();
      resolveFinished(reason);
    };
    const inFlight = new Set<Promise<void>>();

    const onBlock = (found: FoundBlock): Promise<void> => {
      const task = (async () => {
        const info = { height: found.job.height, hash: found.block.hash, engine: found.engine, backend: found.backend };
        rec.blockFound(info);
        // The block that would complete --max-blocks: hash nothing more until the node has
        // answered, so no block beyond the last one wanted is mined (on regtest the next one
        // would take a millisecond).
        const completes = config.maxBlocks !== undefined && stats.accepted + inFlight.size + 1 >= config.maxBlocks;
        if (completes) miner.hold(true);
        const submitCalled = performance.now();
        const outcome = await submitter.submit(
          {
            type: 'found',
            time: new Date().toISOString(),
            network: config.network,
            height: found.job.height,
            hash: found.block.hash,
            previousblockhash: found.job.previousBlockHash,
            blockHex: found.block.hex,
            engine: found.engine,
            backend: found.backend,
          },
          { signal: stopping.signal },
        );
        // Candidate in hand → submitblock sent: the re-check, block assembly and journal fsync.
        const solvedToSentMs = submitCalled - found.foundAt + outcome.submitMs;
        rec.blockOutcome(info, outcome.outcome, outcome.reason, solvedToSentMs);
        // The submitter logs the node's answer; the engine that found it is in the journal.
        if (config.maxBlocks !== undefined && stats.accepted >= config.maxBlocks) finish('max-blocks');
        else if (completes) miner.hold(false);
      })().catch((err: unknown) => {
        log('error', `submission failed: ${(err as Error).message}`);
        rec.error('submission-failed', 'error', (err as Error).message, 'the block stays in the journal and is replayed at the next start');
      });
      inFlight.add(task);
      return task.finally(() => inFlight.delete(task));
    };

    const miner = new Miner({
      engines,
      payoutScript: payout.script,
      coinbaseTag: config.coinbaseTag,
      onBlock,
      requestTemplate: (reason) => {
        if (!finishing) void source.request(reason);
      },
    });
    // One recorder call per event: it feeds the tally, reports, metrics and status alike.
    miner.on('hashes', ({ engine, hashes }) => rec.hashes(engine.kind, engine.backend, hashes));
    miner.on('share', (s) => rec.share(s.difficulty, s.engine, s.hash));
    miner.on('discarded', () => rec.discarded());
    miner.on('warning', (w) => {
      log('warn', w);
      rec.error('miner-warning', 'warning', w, 'kept mining');
    });
    miner.on('job', (s) => {
      rec.workSwitch(s);
      if (s.newTip) log('info', `new work: height ${s.job.height}`, { reason: s.reason, txs: s.job.txCount - 1, switchMs: s.latencyMs });
    });
    source.on('template', (update) => {
      rec.template(update.reason);
      void miner.onTemplate(update);
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

    const onAbort = () => finish('signal');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) finish('signal');
    const timer = config.duration !== undefined ? setTimeout(() => finish('duration'), config.duration * 1000) : undefined;

    options.onStarted?.({ miner, source, stats, rpc, recorder: rec });
    await source.start();
    const stopReason = await finished;

    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    await source.stop();
    await miner.stop();
    // A submission in flight is finished (its retries end once we say we are stopping).
    const grace = setTimeout(() => stopping.abort(), 10_000);
    await Promise.all([...inFlight]);
    clearTimeout(grace);
    return { stats, node, seconds: (Date.now() - stats.startedAt) / 1000, stopReason };
  } finally {
    await Promise.all(engines.map((e) => e.close().catch(() => undefined)));
    await journal.close();
    await recorder?.close(); // the current hour is flushed on shutdown
  }
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
  if (stats.switchOverheadMs.length > 0) {
    lines.push(
      `work switches: ${stats.switchOverheadMs.length}, overhead beyond getblocktemplate p50 ${percentile(stats.switchOverheadMs, 0.5).toFixed(2)} ms, p99 ${percentile(stats.switchOverheadMs, 0.99).toFixed(2)} ms`,
    );
  }
  return lines;
}
