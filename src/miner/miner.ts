// The orchestrator (docs/architecture.md, "Data flow"): templates in, jobs built, disjoint work handed to
// every engine, candidates re-checked with an independent SHA-256d, blocks assembled and
// handed to the submitter. It owns the rule that matters most on a trivial-target chain: once
// a block is found on a previous hash, that template is dead and no second block on the same
// previous hash is ever submitted.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';

import { DIFF1_TARGET, targetToBytes, targetToDifficulty } from '../bitcoin/target.js';
import type { Candidate, Engine, WorkDone } from '../engines/engine.js';
import type { TemplateReason, TemplateUpdate } from '../node/template-source.js';
import { assembleBlock, buildJob, jobTime, makeWorkUnit, unitHash, versionsFor, type AssembledBlock, type Job, type JobRolling, type WorkUnit } from '../work/job.js';

/** 4 bytes fixed per miner process + 4 bytes counted per work unit. */
export const EXTRANONCE1_SIZE = 4;
export const EXTRANONCE2_SIZE = 4;
const NONCE_SPACE = 2 ** 32;
const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

export interface FoundBlock {
  readonly job: Job;
  readonly unit: WorkUnit;
  readonly nonce: number;
  /** The header version of the block (one of the unit's rolled versions, or a worker's). */
  readonly version: number;
  readonly block: AssembledBlock;
  readonly engine: string;
  readonly backend: string;
  /** The Stratum worker (user name) whose share it was; absent for the local engines. */
  readonly worker?: string;
  /** The address the block pays (a Stratum worker's own, or the operator's). */
  readonly address?: string;
  /** performance.now() when the engine's candidate reached the orchestrator. */
  readonly foundAt: number;
}

/** A block found outside the local engines (a Stratum share at the block target). */
export interface ExternalBlock {
  readonly job: Job;
  readonly extranonce: Uint8Array;
  readonly time: number;
  readonly version: number;
  readonly nonce: number;
  /** Display-order hash the finder computed (checked again here). */
  readonly hash: string;
  readonly engine: string;
  readonly backend: string;
  readonly worker?: string;
  readonly address?: string;
  readonly foundAt: number;
}

export interface WorkSwitch {
  readonly job: Job;
  /** How the job came: a template's reason, or 'pool' for a pool's mining.notify. */
  readonly reason: TemplateReason | 'pool';
  /** A new previous block (true) or new transactions on the same one (false). */
  readonly newTip: boolean;
  /** performance.now() when the need for this job arose (ZMQ message, timer, ...). */
  readonly requestedAt: number;
  /** Milliseconds from the trigger (ZMQ message, timer, ...) to every engine hashing the new job. */
  readonly latencyMs: number;
  /** The part of latencyMs that is not the getblocktemplate round trip. */
  readonly overheadMs: number;
  readonly rpcMs: number;
}

/** Whether the engines roll versions on the jobs from now on, and how many per scan each hashes. */
export interface RollingState {
  /** The version bits rolled (0: none; every engine hashes one version). */
  readonly mask: number;
  /** Why no bits (or not all of BIP320's) are rolled; absent when rolling is fully on. */
  readonly reason?: string;
  /** Versions per scan each engine gets on such a job. */
  readonly engines: readonly { readonly kind: string; readonly backend: string; readonly versions: number }[];
}

export interface ShareEvent {
  readonly hash: string;
  readonly difficulty: number;
  readonly engine: string;
}

export interface MinerEvents {
  job: [WorkSwitch];
  block: [FoundBlock];
  share: [ShareEvent];
  /** A share for the pool this miner mines through (mine --pool): re-checked, on a live job. */
  poolShare: [PoolShare];
  hashes: [{ engine: Engine; hashes: number }];
  /** Version rolling turned on or off (or changed its reason) with the job that just started. */
  rolling: [RollingState];
  /** A candidate dropped: stale work, a solved tip, or an engine that reported a wrong hash. */
  discarded: [{ reason: 'stale' | 'solved' | 'bad-hash'; engine: string; nonce: number }];
  warning: [string];
}

/** What mining.submit needs of a share found on pool work. */
export interface PoolShare {
  readonly job: Job;
  readonly unit: WorkUnit;
  readonly nonce: number;
  /** The header version the share was found with (submitted as BIP310 version bits when rolled). */
  readonly version: number;
  readonly hash: string;
  readonly difficulty: number;
  readonly engine: string;
  /** performance.now() when the engine's candidate reached the orchestrator. */
  readonly foundAt: number;
}

export interface MinerOptions {
  readonly engines: readonly Engine[];
  readonly payoutScript: Uint8Array;
  readonly coinbaseTag?: string | undefined;
  /** Called once per found block, after the template has been retired; must not throw. */
  readonly onBlock: (found: FoundBlock) => Promise<void>;
  /** Asks the template source for a fresh template (after a block is found). */
  readonly requestTemplate: (reason: TemplateReason) => void;
  /** Random when absent; distinct per process so two miners never hash the same coinbase. */
  readonly extranonce1?: Uint8Array;
  /** Roll BIP320 version bits in the engines (default true; --no-version-rolling sets false). */
  readonly versionRolling?: boolean;
}

interface EngineSlot {
  readonly engine: Engine;
  current: WorkUnit | undefined;
  /** The orchestrator asked this engine to stop (new work, a block, hold, shutdown). */
  stopAsked: boolean;
  /** The work on which this engine last reported a candidate (a scan that stopped on it). */
  lastFindOn: string | undefined;
}

/** Pause before giving work again to an engine whose scan ended on its own (a lost device). */
const RETRY_AFTER_FAILURE_MS = 1000;

export class Miner extends EventEmitter<MinerEvents> {
  private readonly options: MinerOptions;
  private readonly extranonce1: Uint8Array;
  private readonly slots: EngineSlot[];
  private readonly units = new Map<string, WorkUnit>();
  private job: Job | undefined;
  private jobSeq = 0;
  private extranonce2 = 0;
  /** This process's extranonce1 for the local engines (a Stratum pool hands out others). */
  get localExtranonce1(): Uint8Array {
    return this.extranonce1;
  }

  /** Pool jobs whose shares may still be submitted (since the last clean_jobs). */
  private readonly livePoolJobs = new Set<string>();
  /** Previous-block hashes a block has been found on: their templates are dead. */
  private readonly solvedTips = new Set<string>();
  private switching: Promise<void> = Promise.resolve();
  /** The rolling state last announced (a 'rolling' event when a job changes it). */
  private rollingKey: string | undefined;
  private stopped = false;
  private held = false;
  private readonly detachers: (() => void)[] = [];

  constructor(options: MinerOptions) {
    super();
    this.options = options;
    this.extranonce1 = options.extranonce1 ?? randomBytes(EXTRANONCE1_SIZE);
    this.slots = options.engines.map((engine) => ({ engine, current: undefined, stopAsked: false, lastFindOn: undefined }));
    for (const slot of this.slots) {
      const listeners = {
        candidate: (c: Candidate) => this.onCandidate(slot, c),
        done: (d: WorkDone) => this.onDone(slot, d),
        hashes: (r: { hashes: number }) => this.emit('hashes', { engine: slot.engine, hashes: r.hashes }),
        error: (err: Error) => this.emit('warning', `${slot.engine.kind} engine: ${err.message}`),
      };
      slot.engine.on('candidate', listeners.candidate);
      slot.engine.on('done', listeners.done);
      slot.engine.on('hashes', listeners.hashes);
      slot.engine.on('error', listeners.error);
      // Engines may outlive this orchestrator (benchmarks, demo): let go of them on stop.
      this.detachers.push(() => {
        slot.engine.off('candidate', listeners.candidate);
        slot.engine.off('done', listeners.done);
        slot.engine.off('hashes', listeners.hashes);
        slot.engine.off('error', listeners.error);
      });
    }
  }

  get currentJob(): Job | undefined {
    return this.job;
  }

  /**
   * A job from a Stratum pool (mine --pool): every engine moves onto it. `clean` (the pool's
   * clean_jobs) makes shares of the jobs before it stale; without it they stay submittable.
   */
  onPoolJob(job: Job, clean: boolean, requestedAt = performance.now()): Promise<void> {
    this.switching = this.switching
      .then(async () => {
        if (this.stopped) return;
        if (clean) this.livePoolJobs.clear();
        this.livePoolJobs.add(job.id);
        const previous = this.job;
        this.job = job;
        this.announceRolling(job.rolling);
        await Promise.all(this.slots.map((slot) => this.restart(slot, job)));
        const latencyMs = performance.now() - requestedAt;
        const newTip = previous === undefined || previous.previousBlockHash !== job.previousBlockHash;
        this.emit('job', { job, reason: 'pool', newTip, requestedAt, latencyMs, rpcMs: 0, overheadMs: latencyMs });
      })
      .catch((err: unknown) => {
        this.emit('warning', `pool job ${job.id} refused: ${(err as Error).message}`);
      });
    return this.switching;
  }

  /** A new template: build its job and move every engine onto it. */
  onTemplate(update: TemplateUpdate): Promise<void> {
    this.switching = this.switching.then(() => this.switchTo(update)).catch((err: unknown) => {
      this.emit('warning', `template rejected: ${(err as Error).message}`);
    });
    return this.switching;
  }

  private async switchTo(update: TemplateUpdate): Promise<void> {
    if (this.stopped) return;
    const t = update.template;
    const tip = t.previousblockhash.toLowerCase();
    if (this.solvedTips.has(tip)) return; // a template fetched before our block reached the node
    const current = this.job;
    // Another node's template is built afresh even on the same tip (its transactions may differ).
    if (
      update.reason !== 'failover' &&
      current &&
      current.previousBlockHash === tip &&
      current.coinbaseValue === t.coinbasevalue &&
      current.txCount === t.transactions.length + 1 &&
      this.slots.every((s) => s.current?.job === current)
    ) {
      return; // nothing new to hash: same tip, same transactions
    }
    const newTip = !current || current.previousBlockHash !== tip;
    const job = buildJob(t, {
      id: `j${++this.jobSeq}`,
      payoutScript: this.options.payoutScript,
      coinbaseTag: this.options.coinbaseTag,
      extranonceSize: EXTRANONCE1_SIZE + EXTRANONCE2_SIZE,
      cleanJobs: newTip,
      ...(this.options.versionRolling === false && { versionRolling: false }),
    });
    this.job = job;
    this.announceRolling(job.rolling);
    await Promise.all(this.slots.map((slot) => this.restart(slot, job)));
    const latencyMs = performance.now() - update.requestedAt;
    this.emit('job', { job, reason: update.reason, newTip, requestedAt: update.requestedAt, latencyMs, rpcMs: update.rpcMs, overheadMs: Math.max(0, latencyMs - update.rpcMs) });
  }

  /** One 'rolling' event when a job rolls other bits than the job before it (or none, or again). */
  private announceRolling(rolling: JobRolling): void {
    const key = `${rolling.mask}:${rolling.reason ?? ''}`;
    if (key === this.rollingKey) return;
    this.rollingKey = key;
    const engines = this.slots.map(({ engine }) => ({ kind: engine.kind, backend: engine.backend, versions: versionsFor(rolling, engine.versionsPerScan) }));
    this.emit('rolling', { mask: rolling.mask, ...(rolling.reason !== undefined && { reason: rolling.reason }), engines });
  }

  private async restart(slot: EngineSlot, job: Job): Promise<void> {
    if (slot.engine.busy) await this.stopSlot(slot);
    if (this.stopped || this.job !== job) return;
    this.assign(slot, job);
  }

  /**
   * Holds all hashing (engines stop, templates are still followed) or lets it resume on the
   * current job. The service holds while the block that would complete --max-blocks is being
   * submitted, so that no block beyond the last one wanted is ever mined.
   */
  hold(held: boolean): void {
    this.held = held;
    if (held) {
      for (const s of this.slots) void this.stopSlot(s);
      return;
    }
    const job = this.job;
    if (!job || this.stopped) return;
    for (const slot of this.slots) if (!slot.engine.busy) this.assign(slot, job);
  }

  /** Hands the engine a fresh extranonce of `job`: work no other engine or unit shares. */
  private assign(slot: EngineSlot, job: Job): void {
    if (this.held || this.stopped) return;
    // extranonce1 (this process's, or the pool's) ‖ extranonce2 counted per work unit: no two
    // engines or threads ever hash the same header. The count fills the last 4 bytes of
    // extranonce2 (a pool gives at least 4 in practice; fewer wrap sooner, still disjoint per unit).
    const prefix = job.pool?.extranonce1 ?? this.extranonce1;
    const extranonce = new Uint8Array(job.coinbase.extranonceSize);
    extranonce.set(prefix, 0);
    const en2Size = extranonce.length - prefix.length;
    const counter = new Uint8Array(4);
    new DataView(counter.buffer).setUint32(0, this.extranonce2);
    extranonce.set(en2Size >= 4 ? counter : counter.subarray(4 - en2Size), extranonce.length - Math.min(4, en2Size));
    this.extranonce2 = (this.extranonce2 + 1) >>> 0;
    // A pool's job is hashed with its own ntime (shares are submitted with it). The engine gets
    // as many versions as it hashes best side by side and the job lets it roll: the extranonce
    // keeps every unit disjoint, the versions are a dimension inside it.
    const unit = makeWorkUnit(job, extranonce, job.pool ? job.curtime : jobTime(job), job.version, versionsFor(job.rolling, slot.engine.versionsPerScan));
    const id = `${job.id}/${this.extranonce2}`;
    // Engines report at the share target (at least difficulty 1) so the best share is known;
    // only a hash at or below the block target becomes a block. Pool work reports at the pool's
    // share target; where that is trivial (a regtest pool) each scan stops at its first share.
    const target = job.pool ? job.pool.shareTarget : job.target >= DIFF1_TARGET ? job.target : DIFF1_TARGET;
    const blockIsEasier = target >= DIFF1_TARGET;
    const shareTarget = targetToBytes(target);
    this.units.set(id, unit);
    if (this.units.size > 4096) this.units.delete(this.units.keys().next().value!);
    slot.current = unit;
    slot.stopAsked = false;
    try {
      slot.engine.start({
        id,
        header: unit.header,
        target: shareTarget,
        start: 0,
        count: NONCE_SPACE,
        stopOnFound: blockIsEasier,
        ...(unit.versions.length > 1 && { versions: unit.versions }),
      });
    } catch (err) {
      slot.current = undefined;
      this.emit('warning', `${slot.engine.kind} engine refused work: ${(err as Error).message}`);
    }
  }

  private stopSlot(slot: EngineSlot): Promise<void> {
    if (slot.engine.busy) slot.stopAsked = true;
    return slot.engine.stop();
  }

  private onDone(slot: EngineSlot, done: WorkDone): void {
    const asked = slot.stopAsked;
    slot.stopAsked = false;
    if (this.stopped || (done.stopped && asked)) return;
    // A scan that stopped at its first share on pool work (a trivial share target) goes on
    // with the next extranonce at once, like a spent range.
    const stoppedOnShare = done.stopped && slot.lastFindOn === done.workId && this.units.get(done.workId)?.job.pool !== undefined;
    const resume = () => {
      const job = this.job;
      if (job && (job.pool !== undefined || !this.solvedTips.has(job.previousBlockHash)) && !slot.engine.busy) this.assign(slot, job);
    };
    if (!done.stopped || stoppedOnShare) {
      // The whole nonce range of this extranonce is spent: move on to the next extranonce.
      resume();
    } else {
      // The engine ended the scan itself: stopOnFound (its candidate decides what happens
      // next) or a failure such as a lost GPU device, reported through its error event. Mining
      // goes on: the engine gets fresh work on the current job after a pause (a GPU engine
      // opens a new device on its next start).
      setTimeout(resume, RETRY_AFTER_FAILURE_MS).unref();
    }
  }

  private onCandidate(slot: EngineSlot, c: Candidate): void {
    const foundAt = performance.now();
    const engine = slot.engine;
    if (this.stopped) return;
    slot.lastFindOn = c.workId;
    const unit = this.units.get(c.workId);
    if (!unit) {
      this.emit('discarded', { reason: 'stale', engine: engine.kind, nonce: c.nonce });
      return;
    }
    // Cheap checks first: after a block, engines may still deliver what they found meanwhile.
    if (this.solvedTips.has(unit.job.previousBlockHash)) {
      this.emit('discarded', { reason: 'solved', engine: engine.kind, nonce: c.nonce });
      return;
    }
    // An engine only proposes: the orchestrator hashes the header itself before trusting it,
    // with the version the engine reports, which must be one of the unit's.
    if (!unit.versions.includes(c.version >>> 0)) {
      this.emit('discarded', { reason: 'bad-hash', engine: engine.kind, nonce: c.nonce });
      this.emit('warning', `${engine.kind}/${engine.backend} reported nonce ${c.nonce} with version ${hex8(c.version)}, which its work does not have (${unit.versions.map(hex8).join(', ')}); ignored`);
      return;
    }
    const hash = unitHash(unit, c.nonce, c.version);
    if (hash !== c.hash) {
      this.emit('discarded', { reason: 'bad-hash', engine: engine.kind, nonce: c.nonce });
      this.emit('warning', `${engine.kind}/${engine.backend} reported nonce ${c.nonce} version ${hex8(c.version)} with hash ${c.hash}, but it hashes to ${hash}; ignored`);
      return;
    }
    const value = BigInt(`0x${hash}`);
    const difficulty = value === 0n ? Infinity : targetToDifficulty(value);
    this.emit('share', { hash, difficulty, engine: engine.kind });
    const job = unit.job;
    if (job.pool) {
      // Pool work: a share for the pool when it meets the pool's target, on a job still live.
      if (value > job.pool.shareTarget) return;
      if (!this.livePoolJobs.has(job.id)) {
        this.emit('discarded', { reason: 'stale', engine: engine.kind, nonce: c.nonce });
        return;
      }
      this.emit('poolShare', { job, unit, nonce: c.nonce, version: c.version >>> 0, hash, difficulty, engine: engine.kind, foundAt });
      if (value <= job.target) {
        // A block: the pool will move every miner to a new tip, so the jobs of this one are done
        // (shares on them would only come back stale). The engines wait for the pool's next job.
        for (const [, u] of this.units) if (u.job.previousBlockHash === job.previousBlockHash) this.livePoolJobs.delete(u.job.id);
        for (const s of this.slots) void this.stopSlot(s);
      }
      return;
    }
    if (value > job.target) return;
    if (this.solvedTips.has(job.previousBlockHash)) {
      this.emit('discarded', { reason: 'solved', engine: engine.kind, nonce: c.nonce });
      return;
    }
    if (this.job?.previousBlockHash !== job.previousBlockHash) {
      this.emit('discarded', { reason: 'stale', engine: engine.kind, nonce: c.nonce });
      return;
    }
    // Retire the tip before anything else can happen: every later candidate on it is dropped.
    this.solvedTips.add(job.previousBlockHash);
    const block = assembleBlock(unit, c.nonce, c.version);
    for (const s of this.slots) void this.stopSlot(s);
    const found: FoundBlock = { job, unit, nonce: c.nonce, version: c.version >>> 0, block, engine: engine.kind, backend: engine.backend, foundAt };
    this.emit('block', found);
    void this.options.onBlock(found).finally(() => this.options.requestTemplate('submit'));
  }

  /**
   * A block found by someone else than the local engines (a Stratum worker): the same rules as
   * an engine's candidate — re-hashed here, never a second block on one parent, never a block
   * on a tip that is no longer current. 'submitted' when it went to onBlock.
   */
  claimBlock(b: ExternalBlock): 'submitted' | 'solved' | 'stale' | 'bad-hash' {
    if (this.stopped) return 'stale';
    const tip = b.job.previousBlockHash;
    if (this.solvedTips.has(tip)) return 'solved';
    if (this.job?.previousBlockHash !== tip) return 'stale';
    const unit = makeWorkUnit(b.job, b.extranonce, b.time, b.version);
    const hash = unitHash(unit, b.nonce);
    if (hash !== b.hash || BigInt(`0x${hash}`) > b.job.target) {
      this.emit('warning', `${b.engine}/${b.backend} reported a block with hash ${b.hash}, but its header hashes to ${hash}; ignored`);
      return 'bad-hash';
    }
    this.solvedTips.add(tip);
    const block = assembleBlock(unit, b.nonce);
    for (const s of this.slots) void this.stopSlot(s);
    const found: FoundBlock = {
      job: b.job,
      unit,
      nonce: b.nonce,
      version: b.version >>> 0,
      block,
      engine: b.engine,
      backend: b.backend,
      ...(b.worker !== undefined && { worker: b.worker }),
      ...(b.address !== undefined && { address: b.address }),
      foundAt: b.foundAt,
    };
    this.emit('block', found);
    void this.options.onBlock(found).finally(() => this.options.requestTemplate('submit'));
    return 'submitted';
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.switching;
    await Promise.all(this.slots.map((s) => this.stopSlot(s)));
    for (const detach of this.detachers.splice(0)) detach();
  }
}
