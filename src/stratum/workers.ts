/**
 * What operators see of each Stratum worker (a user name, over all its connections): address,
 * user agent, connected since, hash rate from the difficulty of its accepted shares, shares
 * accepted and rejected by reason, best share of this run and of all time, last share, blocks
 * found. Counts are kept here and nowhere else; the recorder reads snapshots.
 * @module
 */
import type { WorkerStatus } from '../telemetry/status-document.js';

/** Hash rate is estimated over this window of accepted shares. */
const RATE_WINDOW_MS = 10 * 60_000;
const TWO_32 = 2 ** 32;

/** A worker as /status shows it: the document's own type (src/telemetry/status-document.ts). */
export type WorkerSnapshot = WorkerStatus;

interface WorkerState {
  readonly name: string;
  readonly worker: string;
  readonly address: string;
  userAgent: string | null;
  connections: number;
  /** Open connections per wire (Stratum V1, V2). */
  readonly byProtocol: Map<string, number>;
  connectedSince: number | null;
  difficulty: number | null;
  accepted: number;
  readonly rejected: Record<string, number>;
  bestRun: number | null;
  lastShareAt: number | null;
  blocks: number;
  /** [time, difficulty] of accepted shares in the rate window. */
  readonly window: Array<[number, number]>;
  windowSum: number;
}

export class WorkerBook {
  private readonly workers = new Map<string, WorkerState>();

  constructor(
    private readonly now: () => number,
    /** All-time best share per worker name (persisted by the caller). */
    private readonly allTimeBest: (name: string) => number | null,
  ) {}

  private state(name: string, worker: string, address: string): WorkerState {
    let s = this.workers.get(name);
    if (!s) {
      s = { name, worker, address, userAgent: null, connections: 0, byProtocol: new Map(), connectedSince: null, difficulty: null, accepted: 0, rejected: {}, bestRun: null, lastShareAt: null, blocks: 0, window: [], windowSum: 0 };
      this.workers.set(name, s);
    }
    return s;
  }

  connected(name: string, worker: string, address: string, userAgent: string | undefined, protocol = 'v1'): void {
    const s = this.state(name, worker, address);
    s.connections++;
    s.byProtocol.set(protocol, (s.byProtocol.get(protocol) ?? 0) + 1);
    s.connectedSince ??= this.now();
    if (userAgent !== undefined) s.userAgent = userAgent;
  }

  disconnected(name: string, protocol = 'v1'): void {
    const s = this.workers.get(name);
    if (!s) return;
    s.connections = Math.max(0, s.connections - 1);
    const n = (s.byProtocol.get(protocol) ?? 1) - 1;
    if (n <= 0) s.byProtocol.delete(protocol);
    else s.byProtocol.set(protocol, n);
    if (s.connections === 0) s.connectedSince = null;
  }

  difficulty(name: string, difficulty: number): void {
    const s = this.workers.get(name);
    if (s) s.difficulty = difficulty;
  }

  accepted(name: string, worker: string, address: string, owed: number, shareDifficulty: number): void {
    const s = this.state(name, worker, address);
    const now = this.now();
    s.accepted++;
    s.lastShareAt = now;
    s.window.push([now, owed]);
    s.windowSum += owed;
    this.trim(s, now);
    if (s.bestRun === null || shareDifficulty > s.bestRun) s.bestRun = shareDifficulty;
  }

  rejected(name: string, worker: string, address: string, reason: string): void {
    const s = this.state(name, worker, address);
    s.rejected[reason] = (s.rejected[reason] ?? 0) + 1;
  }

  blockFound(name: string): void {
    const s = this.workers.get(name);
    if (s) s.blocks++;
  }

  private trim(s: WorkerState, now: number): void {
    while (s.window.length > 0 && now - s.window[0]![0] > RATE_WINDOW_MS) s.windowSum -= s.window.shift()![1];
  }

  /** Connected workers, and those that sent shares within the rate window. */
  snapshot(): WorkerSnapshot[] {
    const now = this.now();
    const out: WorkerSnapshot[] = [];
    for (const s of this.workers.values()) {
      this.trim(s, now);
      if (s.connections === 0 && s.window.length === 0) continue;
      const span = Math.min(RATE_WINDOW_MS, Math.max(1, now - (s.connectedSince ?? s.window[0]?.[0] ?? now))) / 1000;
      const allTime = this.allTimeBest(s.name);
      out.push({
        name: s.name,
        worker: s.worker,
        address: s.address,
        userAgent: s.userAgent,
        connections: s.connections,
        protocols: [...s.byProtocol.keys()].sort(),
        connectedSince: s.connectedSince === null ? null : new Date(s.connectedSince).toISOString(),
        hashesPerSecond: Math.round((s.windowSum * TWO_32) / span),
        difficulty: s.difficulty,
        sharesAccepted: s.accepted,
        sharesRejected: { ...s.rejected },
        bestShare: { run: s.bestRun, allTime: allTime === null || (s.bestRun !== null && s.bestRun > allTime) ? s.bestRun : allTime },
        lastShareAt: s.lastShareAt === null ? null : new Date(s.lastShareAt).toISOString(),
        blocksFound: s.blocks,
      });
    }
    return out.sort((a, b) => b.hashesPerSecond - a.hashesPerSecond || a.name.localeCompare(b.name));
  }
}
