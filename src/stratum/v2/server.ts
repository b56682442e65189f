/**
 * The Stratum V2 wire of the pool (docs/stratum.md, "Stratum V2"): a TCP server on its own port
 * (`--sv2-port`, `--sv2-host`) whose connections (connection.ts) speak the encrypted Mining
 * Protocol to the same pool core as the Stratum V1 wire — the same jobs, share checks, vardiff,
 * workers, best shares and block path.
 *
 * Holding up, as on V1: connections count against the pool's one budget (in all and per
 * address); one that has no channel open after the idle timeout, or leaves a frame unfinished
 * that long, is closed; one that does not read its socket is dropped; a wrong key, a bad MAC, a
 * replayed or oversized frame closes only that connection.
 * @module
 */
import { createServer, type Server, type Socket } from 'node:net';

import type { StratumJob } from '../job-book.js';
import { admit, closeAll, listenOn } from '../listener.js';
import type { PoolCore, Wire } from '../pool-core.js';
import { MAX_BUFFERED_BYTES } from '../v1/server.js';
import type { ServerIdentity } from './authority.js';
import { Sv2Connection } from './connection.js';
import { EphemeralKeys, READY_KEYS } from './ephemeral-keys.js';
import { ESP_MINER_MAX_PAYLOAD } from './frames.js';
import { encodeMessage, MessageType } from './messages.js';

export interface Sv2ServerOptions {
  readonly host: string;
  readonly port: number;
  readonly identity: ServerIdentity;
}

/** ESP-Miner refuses a job with more merkle branches (SV2_MAX_MERKLE_BRANCHES; 2^20 transactions). */
const ESP_MINER_MAX_BRANCHES = 20;

interface Peer {
  readonly socket: Socket;
  readonly remote: string;
  readonly address: string;
  readonly conn: Sv2Connection;
  dropReason?: string;
}

/** The URL SRI-style miners take: stratum2+tcp://host:port/<authority key>. */
export function sv2Url(host: string, port: number, authorityKey: string): string {
  return `stratum2+tcp://${host.includes(':') ? `[${host}]` : host}:${port}/${authorityKey}`;
}

export class Sv2Server implements Wire {
  readonly protocol = 'v2' as const;
  private readonly server: Server;
  private readonly peers = new Set<Peer>();
  /** Each job's NewExtendedMiningJob payload (channel id 0), future and active, built once. */
  private readonly extendedJobs = new WeakMap<StratumJob, { future?: Buffer; active?: Buffer }>();
  private warnedSize = false;
  /** Handshake keys made ahead on a worker thread. */
  private readonly ephemerals: EphemeralKeys;

  private constructor(
    private readonly core: PoolCore,
    readonly identity: ServerIdentity,
  ) {
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.ephemerals = new EphemeralKeys(READY_KEYS, (message) => core.emit('warning', message));
  }

  static async listen(core: PoolCore, options: Sv2ServerOptions): Promise<Sv2Server> {
    const s = new Sv2Server(core, options.identity);
    let bound: { host: string; port: number };
    try {
      bound = await listenOn(s.server, options.host, options.port, '--sv2-port', core, 'stratum v2');
    } catch (err) {
      await s.ephemerals.close();
      throw err;
    }
    const { host, port } = bound;
    core.attach(s, { v2: { url: sv2Url(host, port, options.identity.authorityKey), host, port, authorityKey: options.identity.authorityKey } });
    return s;
  }

  get connections(): number {
    return this.peers.size;
  }

  broadcast(newTip: boolean): number {
    let sent = 0;
    for (const peer of this.peers) {
      const c = peer.conn;
      if (!c.mining && !c.waitingForWork) continue;
      if (newTip) c.forgetJobs((id) => this.core.book.find(id) !== undefined);
      // One write per connection however many channels it has (the connection batches).
      const n = this.guard(peer, () => c.sendJobs()) ?? 0;
      if (n > 0) sent++;
    }
    return sent;
  }

  tick(now: number): void {
    const idle = this.core.options.idleTimeoutMs;
    for (const peer of this.peers) {
      const c = peer.conn;
      if (!c.mining) {
        if (now - c.connectedAt > idle) this.drop(peer, c.waitingForWork ? 'no work from the node in time' : 'no channel open in time');
        continue;
      }
      if (c.partialSince !== undefined && now - c.partialSince > idle) {
        this.drop(peer, 'a frame left unfinished (truncated)');
        continue;
      }
      this.guard(peer, () => {
        c.tick();
        c.sendJobs(true);
      });
    }
  }

  /** Runs `fn` for one connection: a fault of this pool closes that connection only, said once. */
  private guard<T>(peer: Peer, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.core.emit('warning', `stratum v2: ${peer.remote}: ${(err as Error).message}; connection closed`);
      this.drop(peer, `internal error: ${(err as Error).message}`);
      return undefined;
    }
  }

  async close(): Promise<void> {
    await Promise.all([closeAll(this.server, [...this.peers].map((p) => p.socket)), this.ephemerals.close()]);
  }

  private accept(socket: Socket): void {
    const admitted = admit(this.core, socket, 'v2');
    if (!admitted) return;
    const { address, remote } = admitted;
    const conn: Sv2Connection = new Sv2Connection({
      core: this.core,
      remote,
      responder: () => this.identity.responder(() => this.ephemerals.take()),
      write: (bytes) => this.write(peer, bytes),
      extendedJob: (job, future) => this.extendedJob(job, future),
    });
    const peer: Peer = { socket, remote, address, conn };
    this.peers.add(peer);
    socket.setKeepAlive(true, 60_000);
    socket.on('data', (chunk: Buffer) => {
      if (conn.closeReason !== undefined) return; // closing: nothing more is read
      // A fault of this pool, not of the miner, closes this connection only.
      this.guard(peer, () => conn.receive(chunk));
      if (conn.closeReason !== undefined) this.drop(peer, conn.closeReason);
    });
    socket.on('error', () => undefined); // a reset is a disconnect, reported on close
    socket.on('close', () => this.onClose(peer));
  }

  private write(peer: Peer, bytes: Buffer): void {
    if (peer.socket.destroyed) return;
    if (peer.socket.writableLength > MAX_BUFFERED_BYTES) return this.drop(peer, 'not reading its socket');
    peer.socket.write(bytes);
  }

  private drop(peer: Peer, reason: string): void {
    peer.dropReason ??= reason;
    // What was written (an error reply) still goes out before the socket closes.
    peer.socket.end();
    peer.socket.destroySoon();
    setTimeout(() => peer.socket.destroy(), 1000).unref();
  }

  private onClose(peer: Peer): void {
    if (!this.peers.delete(peer)) return;
    const worker = [...peer.conn.channels.values()][0]?.worker.name;
    peer.conn.closed();
    this.core.release(peer.address, peer.remote, 'v2', worker, peer.dropReason ?? 'closed by the miner');
  }

  private extendedJob(job: StratumJob, future: boolean): Buffer {
    let cached = this.extendedJobs.get(job);
    if (!cached) this.extendedJobs.set(job, (cached = {}));
    const key = future ? 'future' : 'active';
    let payload = cached[key];
    if (!payload) {
      const j = job.prepared.job;
      payload = encodeMessage({
        type: MessageType.NewExtendedMiningJob,
        channelId: 0,
        jobId: job.seq,
        minNtime: future ? undefined : job.ntime,
        version: j.version >>> 0,
        versionRollingAllowed: true,
        merklePath: j.merkleBranch,
        // Stratum V1's coinb1/coinb2: the coinbase without BIP141 fields (§3.7.1).
        coinbaseTxPrefix: j.coinbase.coinb1,
        coinbaseTxSuffix: j.coinbase.coinb2,
      });
      if ((payload.length > ESP_MINER_MAX_PAYLOAD || j.merkleBranch.length > ESP_MINER_MAX_BRANCHES) && !this.warnedSize) {
        this.warnedSize = true;
        this.core.emit('warning', `stratum v2: a job of ${payload.length} bytes and ${j.merkleBranch.length} merkle branches is over ESP-Miner's limits (${ESP_MINER_MAX_PAYLOAD} bytes, ${ESP_MINER_MAX_BRANCHES} branches); BitAxe-class miners will drop it`);
      }
      cached[key] = payload;
    }
    return payload;
  }
}
