// The CPU engine: the C++ nonce scanner behind the Engine interface. Threads live in C++;
// this class only starts scans, forwards their events and tracks which work is current.
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

import {
  nativeAddon,
  type CpuPriority,
  type NativeBackend,
  type NativeScanJob,
  type NativeUpdate,
} from '../native/addon.js';
import type { Engine, EngineEvents, ScanWork } from './engine.js';
import { checkScanWork } from './work-checks.js';

/** A back end that does not exist or that this CPU cannot run. */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
}

export type { CpuPriority } from '../native/addon.js';

export interface CpuEngineOptions {
  /** A back end name from cpuBackends(); the fastest usable one when absent. */
  readonly backend?: string;
  /** Worker threads; defaultThreads({ reserveCores }) when absent. */
  readonly threads?: number;
  /** With threads absent: cores left to the rest of the system (the result is never below 1). */
  readonly reserveCores?: number;
  /** How often hash counts are reported while a scan runs. */
  readonly progressMs?: number;
  /** CPU indices: hashing thread i runs only on affinity[i % length] (Linux). */
  readonly affinity?: readonly number[];
  /**
   * Scheduling of the hashing threads only (Linux), never of the JavaScript thread, so work
   * switches stay fast: 'idle' = SCHED_IDLE (runs only when nothing else wants the core),
   * 'low' = nice 19, 'normal' = unchanged (the default).
   */
  readonly priority?: CpuPriority;
  /** Percent of one core each hashing thread may use, an integer 1..100 (100: no limit). */
  readonly cpuLimit?: number;
}

/** A CPU engine option out of range; the message names the option, what it expects and what it got. */
export class CpuOptionError extends RangeError {
  override readonly name = 'CpuOptionError';
}

const PRIORITIES: readonly CpuPriority[] = ['idle', 'low', 'normal'];

/** Every back end compiled into the addon, fastest first, with whether this CPU can run it. */
export function cpuBackends(): NativeBackend[] {
  return nativeAddon().backends();
}

/**
 * Back ends whose instructions this CPU has but which failed the native self-test against the
 * scalar reference: a bug (never a property of the machine), so the miner names them at start.
 */
export function selfTestFailures(): NativeBackend[] {
  return cpuBackends().filter((b) => b.state === 'self-test-failed');
}

/** Picks a usable back end by name, or the fastest; one clear error otherwise. */
export function resolveCpuBackend(name?: string): NativeBackend {
  const all = cpuBackends();
  if (name === undefined) {
    const best = all.find((b) => b.usable);
    if (!best) throw new BackendUnavailableError('backend: no usable CPU back end (even scalar failed its self-test)');
    return best;
  }
  const found = all.find((b) => b.name === name);
  if (!found) {
    throw new BackendUnavailableError(`backend: expected one of ${all.map((b) => b.name).join(', ')}, got ${name}`);
  }
  if (!found.usable) throw new BackendUnavailableError(`backend: ${name} is not available here (${found.reason})`);
  return found;
}

function checkReserveCores(reserve: number | undefined): number {
  if (reserve !== undefined && (!Number.isInteger(reserve) || reserve < 0 || reserve > 1024)) {
    throw new CpuOptionError(`reserveCores: expected an integer 0..1024, got ${String(reserve)}`);
  }
  return reserve ?? 0;
}

/** Where defaultThreads looks; tests point it at a fake cgroup tree. */
export interface CpuBudgetSources {
  /** The cgroup file system (default /sys/fs/cgroup). */
  readonly cgroupRoot?: string;
  /** This process's cgroup membership (default /proc/self/cgroup). */
  readonly procSelfCgroup?: string;
  /** How many CPUs the process may run on (default: its affinity mask, sched_getaffinity). */
  readonly allowedCpus?: number;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The folders from `dir/rel` up to `dir`, deepest first: a parent's limit binds its children too. */
function levels(dir: string, rel: string): string[] {
  const parts = rel.split('/').filter((p) => p !== '');
  return parts.map((_, i) => join(dir, ...parts.slice(0, parts.length - i))).concat(dir);
}

/**
 * CPUs' worth of time the cgroup CPU quota allows this process (quota / period, the smallest
 * along the hierarchy), or undefined when there is no quota. cgroup v2: cpu.max holds
 * "max <period>" or "<quota> <period>"; v1: cpu.cfs_quota_us (-1 = none) and cpu.cfs_period_us.
 */
export function cgroupCpuQuota(sources: CpuBudgetSources = {}): number | undefined {
  const root = sources.cgroupRoot ?? '/sys/fs/cgroup';
  const membership = readText(sources.procSelfCgroup ?? '/proc/self/cgroup') ?? '';
  const lines = membership.split('\n').map((l) => l.split(':'));
  const quotas: number[] = [];
  const v2 = lines.find((f) => f[0] === '0' && f[1] === '' && f.length >= 3);
  if (v2 && existsSync(join(root, 'cgroup.controllers'))) {
    for (const dir of levels(root, v2.slice(2).join(':'))) {
      const [quota, period] = (readText(join(dir, 'cpu.max')) ?? '').trim().split(/\s+/);
      if (quota !== undefined && quota !== 'max' && Number(quota) > 0 && Number(period) > 0) {
        quotas.push(Number(quota) / Number(period));
      }
    }
  } else {
    const v1 = lines.find((f) => f.length >= 3 && (f[1] ?? '').split(',').includes('cpu'));
    if (v1) {
      const rel = v1.slice(2).join(':');
      for (const mount of [join(root, v1[1] ?? 'cpu'), join(root, 'cpu'), join(root, 'cpu,cpuacct')]) {
        if (!existsSync(mount)) continue;
        for (const dir of levels(mount, rel)) {
          const quota = Number((readText(join(dir, 'cpu.cfs_quota_us')) ?? '').trim());
          const period = Number((readText(join(dir, 'cpu.cfs_period_us')) ?? '').trim());
          if (quota > 0 && period > 0) quotas.push(quota / period);
        }
        break;
      }
    }
  }
  return quotas.length > 0 ? Math.min(...quotas) : undefined;
}

/**
 * Hashing threads to use when none is asked for: the CPUs this process may run on (its
 * affinity mask), no more than its cgroup CPU quota allows (rounded down: a thread that the
 * quota would throttle part of each period only adds contention), less reserveCores, and
 * never below 1. Node 20's availableParallelism() honours neither the quota nor, on every
 * platform, the mask.
 */
export function defaultThreads(options: { readonly reserveCores?: number } & CpuBudgetSources = {}): number {
  const reserve = checkReserveCores(options.reserveCores);
  const allowed = options.allowedCpus ?? (nativeAddon().allowedCpus().length || availableParallelism());
  const quota = cgroupCpuQuota(options);
  const cpus = Math.min(allowed, quota === undefined ? Infinity : Math.max(1, Math.floor(quota)));
  return Math.max(1, cpus - reserve);
}

/** Checks the governance options against this machine; throws CpuOptionError naming the first bad one. */
function checkGovernance(options: CpuEngineOptions): void {
  const { affinity, priority, cpuLimit } = options;
  checkReserveCores(options.reserveCores);
  const linuxOnly = (what: string): void => {
    if (process.platform !== 'linux') throw new CpuOptionError(`${what}: supported on Linux only, this is ${process.platform}`);
  };
  if (affinity !== undefined) {
    linuxOnly('affinity');
    if (!Array.isArray(affinity) || affinity.length < 1 || affinity.length > 1024) {
      throw new CpuOptionError(`affinity: expected a list of 1..1024 CPU indices, got ${JSON.stringify(affinity)}`);
    }
    const allowed = new Set(nativeAddon().allowedCpus());
    for (const cpu of affinity) {
      if (!Number.isInteger(cpu) || cpu < 0) {
        throw new CpuOptionError(`affinity: expected CPU indices (integers >= 0), got ${String(cpu)}`);
      }
      if (!allowed.has(cpu)) {
        throw new CpuOptionError(`affinity: expected CPUs this process may use (${[...allowed].join(',')}), got ${cpu}`);
      }
    }
  }
  if (priority !== undefined) {
    if (!PRIORITIES.includes(priority)) {
      throw new CpuOptionError(`priority: expected one of ${PRIORITIES.join(', ')}, got ${String(priority)}`);
    }
    if (priority !== 'normal') linuxOnly('priority');
  }
  if (cpuLimit !== undefined && (!Number.isInteger(cpuLimit) || cpuLimit < 1 || cpuLimit > 100)) {
    throw new CpuOptionError(`cpuLimit: expected an integer percent 1..100, got ${String(cpuLimit)}`);
  }
}

export class CpuEngine extends EventEmitter<EngineEvents> implements Engine {
  readonly kind = 'cpu';
  readonly backend: string;
  readonly description: string;
  readonly threads: number;
  readonly versionsPerScan: number;
  readonly affinity: readonly number[] | undefined;
  readonly priority: CpuPriority;
  readonly cpuLimit: number;
  private readonly progressMs: number;
  private job: NativeScanJob | undefined;
  private current: ScanWork | undefined;
  private reported = 0;
  private finished: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(options: CpuEngineOptions = {}) {
    super();
    const backend = resolveCpuBackend(options.backend);
    this.backend = backend.name;
    this.description = backend.description;
    this.versionsPerScan = backend.versions;
    const threads = options.threads ?? defaultThreads({ reserveCores: checkReserveCores(options.reserveCores) });
    if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
      throw new RangeError(`threads: expected an integer 1..1024, got ${threads}`);
    }
    checkGovernance(options);
    this.threads = threads;
    this.affinity = options.affinity ? [...options.affinity] : undefined;
    this.priority = options.priority ?? 'normal';
    this.cpuLimit = options.cpuLimit ?? 100;
    this.progressMs = options.progressMs ?? 250;
  }

  get busy(): boolean {
    return this.job !== undefined;
  }

  start(work: ScanWork): void {
    if (this.closed) throw new Error('cpu engine: start() after close()');
    if (this.job) throw new Error('cpu engine: start() while a scan is running; stop() it first');
    checkScanWork(work);
    this.current = work;
    this.reported = 0;
    let resolveFinished: () => void = () => {};
    this.finished = new Promise((resolve) => {
      resolveFinished = resolve;
    });
    this.job = new (nativeAddon().ScanJob)(
      {
        header: work.header,
        target: work.target,
        start: work.start,
        count: work.count,
        backend: this.backend,
        threads: this.threads,
        progressMs: this.progressMs,
        stopOnFound: work.stopOnFound ?? false,
        ...(work.versions && { versions: work.versions }),
        ...(this.affinity && { affinity: this.affinity }),
        priority: this.priority,
        cpuLimit: this.cpuLimit,
      },
      (update) => this.onUpdate(work, update, resolveFinished),
    );
  }

  private onUpdate(work: ScanWork, update: NativeUpdate, resolveFinished: () => void): void {
    for (const found of update.found) {
      this.emit('candidate', { workId: work.id, nonce: found.nonce, version: found.version, hash: found.hash });
    }
    const delta = update.hashes - this.reported;
    if (delta > 0) {
      this.reported = update.hashes;
      this.emit('hashes', { workId: work.id, hashes: delta });
    }
    if (update.done) {
      this.job = undefined;
      this.current = undefined;
      this.emit('done', { workId: work.id, hashes: update.hashes, seconds: update.seconds, stopped: update.stopped });
      resolveFinished();
    }
  }

  async stop(): Promise<void> {
    this.job?.stop();
    await this.finished;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
  }

  /** The work being hashed now, if any. */
  get work(): ScanWork | undefined {
    return this.current;
  }
}
