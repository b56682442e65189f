/**
 * The Stratum V2 client of `mine --pool stratum2+tcp://host:port/<authority key>` (docs/stratum.md,
 * "Mining through a pool"): the Noise handshake with the server's certificate checked against
 * the authority key in the URL (a wrong key or an expired certificate ends the session before
 * anything is sent), SetupConnection, one extended channel (the orchestrator gives every engine
 * and thread its own part of the extranonce, as on Stratum V1), then jobs: future jobs made live
 * by SetNewPrevHash, active ones at once, SetTarget for the jobs after it. Shares go back as
 * SubmitSharesExtended with the job's ntime and the full version. The fail-over, backoff, queue
 * and events are those of every pool client (../upstream.ts).
 *
 * Anything malformed from the pool (a frame that does not decode, a SetNewPrevHash for a job
 * never sent, a merkle path longer than any block's, an invalid nbits) is one warning and a
 * reconnect — never a crash, never a wrong share.
 * @module
 */
import { connect, type Socket } from 'node:net';

import { bitsToTarget, targetToDifficulty } from '../../bitcoin/target.js';
import { SERVER_VERSION_MASK } from '../share.js';
import { UpstreamClient, upstreamJob, type ShareToSubmit, type UpstreamOptions, type UpstreamSession } from '../upstream.js';
import { decodeAuthorityKey, parseCertificate, verifyCertificate } from './certificate.js';
import { NoiseError, Sv2Error } from './errors.js';
import { FrameReader, FrameWriter } from './frames.js';
import { decodeMessage, messageName, MessageType, MINING_PROTOCOL, PROTOCOL_VERSION, type NewExtendedMiningJob, type Sv2Message } from './messages.js';
import { ACT2_SIZE, NoiseInitiator, type EllswiftKey } from './noise.js';
import { targetFromLE } from './target.js';

/** More levels than any block can have (2^32 transactions). */
const MAX_MERKLE_PATH = 32;
/** What the pool may send in one frame (its jobs are a few hundred bytes). */
const MAX_INBOUND_PAYLOAD = 1024 * 1024;
const NO_LIMIT_TARGET = Buffer.alloc(32, 0xff);
/** Seconds per share a nominal hash rate is computed for (the pool's vardiff aims near this). */
const SHARE_SECONDS = 10;
/** SetupConnection.Success flag: the pool accepts no change to the version (sv2-spec §5.3.1). */
const REQUIRES_FIXED_VERSION = 1;
/** The extranonce the orchestrator counts through (4 bytes, as on Stratum V1). */
const MIN_EXTRANONCE_SIZE = 4;

export class Sv2UrlError extends Error {
  override readonly name = 'Sv2UrlError';
}

/** host, port and authority key of stratum2+tcp://host:port/<authority key>. */
export function parseSv2Url(url: string): { host: string; port: number; authorityKey: Uint8Array } {
  const m = /^stratum2\+tcp:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})\/([1-9A-HJ-NP-Za-km-z]+)$/.exec(url);
  if (!m) throw new Sv2UrlError(`--pool: expected stratum2+tcp://host:port/<authority key>, got ${JSON.stringify(url)}`);
  let authorityKey: Uint8Array;
  try {
    authorityKey = decodeAuthorityKey(m[3]!);
  } catch (err) {
    throw new Sv2UrlError(`--pool ${url}: ${(err as Error).message}`);
  }
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]), authorityKey };
}

export interface Sv2ClientOptions extends UpstreamOptions {
  /** Ephemeral keys of the handshakes, in order (replayable transcripts); fresh otherwise. */
  readonly ephemeral?: () => EllswiftKey;
  /** Unix seconds for the certificate's window (tests). */
  readonly nowSeconds?: () => number;
}

/** The metric reason of an SV2 error code (docs/stratum.md lists the pool's codes). */
export function kindOfErrorCode(code: string): string {
  if (/stale|invalid-job-id|job-not-found/.test(code)) return 'stale';
  if (/duplicate/.test(code)) return 'duplicate';
  if (/difficulty|low-diff|target/.test(code)) return 'low-difficulty';
  if (/unknown-user|unauthori[sz]ed/.test(code)) return 'unauthorized';
  return 'other';
}

class Session implements UpstreamSession {
  extranonce1: Buffer = Buffer.alloc(0);
  extranonceSize = 0;
  channelId = 0;
  target = 0n;
  difficulty = 1;
  ready = false;
  closed = false;
  why = 'the connection closed';
  writer: FrameWriter | undefined;
  reader: FrameReader | undefined;
  /** SetupConnection.Success said REQUIRES_FIXED_VERSION: no job's version may change. */
  fixedVersion = false;
  sequence = 0;
  /** Shares sent and not yet answered: sequence number → difficulty. */
  readonly inFlight = new Map<number, number>();
  readonly futureJobs = new Map<number, NewExtendedMiningJob>();
  prev: { prevHash: Buffer; minNtime: number; nbits: number } | undefined;
  /** A reply a step of the start is waiting for. */
  waiting: ((m: Sv2Message) => void) | undefined;

  constructor(
    readonly url: string,
    readonly socket: Socket,
  ) {}

  end(reason: string): void {
    this.why = reason;
    this.socket.destroy();
  }

  send(m: Sv2Message): void {
    if (!this.closed) this.socket.write(this.writer!.message(m));
  }
}

export class Sv2Client extends UpstreamClient<Session> {
  private jobSeq = 0;

  constructor(protected override readonly options: Sv2ClientOptions) {
    super(options);
    for (const u of options.urls) parseSv2Url(u);
  }

  protected send(s: Session, share: ShareToSubmit): void {
    const pool = share.job.pool!;
    const sequenceNumber = s.sequence;
    s.sequence = (s.sequence + 1) >>> 0;
    s.inFlight.set(sequenceNumber, share.difficulty);
    s.send({
      type: MessageType.SubmitSharesExtended,
      channelId: s.channelId,
      sequenceNumber,
      jobId: Number(pool.jobId),
      nonce: share.nonce >>> 0,
      ntime: share.ntime >>> 0,
      version: share.version >>> 0,
      extranonce: share.extranonce.subarray(pool.extranonce1.length),
    });
  }

  protected runSession(url: string): Promise<'connected' | 'failed'> {
    const { host, port, authorityKey } = parseSv2Url(url);
    return new Promise((resolve) => {
      const socket = connect({ host, port });
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 60_000);
      const s = new Session(url, socket);
      this.session = s;
      let reachedMining = false;
      const noise = new NoiseInitiator(this.options.ephemeral?.());
      let handshake: Buffer | undefined = Buffer.alloc(0);
      socket.setTimeout(this.options.requestTimeoutMs ?? 10_000, () => {
        if (!s.ready) s.end('no answer to the handshake and setup in time');
      });
      socket.on('connect', () => socket.write(noise.start()));
      socket.on('data', (chunk: Buffer) => {
        try {
          if (handshake !== undefined) {
            handshake = Buffer.concat([handshake, chunk]);
            if (handshake.length < ACT2_SIZE) return;
            const act2 = handshake.subarray(0, ACT2_SIZE);
            const rest = handshake.subarray(ACT2_SIZE);
            handshake = undefined;
            const { session, server } = noise.finish(act2);
            verifyCertificate(parseCertificate(server.signatureMessage), server.staticKey, authorityKey, this.options.nowSeconds?.() ?? Math.floor(Date.now() / 1000));
            s.writer = new FrameWriter(session.send);
            s.reader = new FrameReader(session.recv, MAX_INBOUND_PAYLOAD);
            void this.login(s, host, port).then(
              () => {
                reachedMining = true;
                s.ready = true;
                socket.setTimeout(0);
                this.emit('connected', { url, extranonce1: s.extranonce1.toString('hex'), extranonce2Size: s.extranonceSize, versionRolling: !s.fixedVersion });
                this.emit('difficulty', s.difficulty);
                this.flushQueue(s);
              },
              (err: Error) => s.end(err.message),
            );
            if (rest.length === 0) return;
            chunk = rest;
          }
          for (const frame of s.reader!.push(chunk)) {
            if ((frame.extensionType & 0x7fff) !== 0) continue; // an extension never negotiated
            const m = decodeMessage(frame.msgType, frame.payload);
            if (m === undefined) continue; // a message type this client does not know: ignored
            const problem = this.onMessage(s, m);
            if (problem !== undefined) {
              this.emit('warning', `pool ${url} sent ${problem}; reconnecting`);
              return s.end(problem);
            }
          }
        } catch (err) {
          const what = err instanceof NoiseError ? err.message : err instanceof Sv2Error ? `a message that does not decode (${err.message})` : `what this client cannot handle (${(err as Error).message})`;
          this.emit('warning', `pool ${url}: ${what}; reconnecting`);
          return s.end(what);
        }
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        s.why = err.code ?? err.message;
      });
      socket.on('close', () => {
        s.closed = true;
        s.waiting = undefined;
        if (reachedMining) this.emit('disconnected', { url, reason: s.why });
        resolve(reachedMining ? 'connected' : 'failed');
      });
    });
  }

  /** SetupConnection, then one extended channel; rejects with the pool's error code. */
  private async login(s: Session, host: string, port: number): Promise<void> {
    const next = () =>
      new Promise<Sv2Message>((resolve) => {
        s.waiting = resolve;
      });
    s.send({
      type: MessageType.SetupConnection,
      protocol: MINING_PROTOCOL,
      minVersion: PROTOCOL_VERSION,
      maxVersion: PROTOCOL_VERSION,
      flags: 0,
      endpointHost: host,
      endpointPort: port,
      vendor: 'solominer',
      hardwareVersion: '',
      firmware: this.options.userAgent,
      deviceId: '',
    });
    const setup = await next();
    if (setup.type === MessageType.SetupConnectionError) throw new Error(`the pool refused SetupConnection: ${setup.errorCode}`);
    if (setup.type !== MessageType.SetupConnectionSuccess) throw new Error(`${messageName(setup.type)} instead of SetupConnection.Success`);
    s.fixedVersion = (setup.flags & REQUIRES_FIXED_VERSION) !== 0;
    // Stratum V2 has no password field: a password other than the default rides after the name.
    const identity = this.options.password !== '' && this.options.password !== 'x' ? `${this.options.user}:${this.options.password}` : this.options.user;
    const d = this.options.suggestDifficulty;
    s.send({
      type: MessageType.OpenExtendedMiningChannel,
      requestId: 1,
      userIdentity: identity,
      nominalHashRate: d === undefined ? 0 : (d * 2 ** 32) / SHARE_SECONDS,
      maxTarget: NO_LIMIT_TARGET,
      minExtranonceSize: MIN_EXTRANONCE_SIZE,
    });
    const open = await next();
    if (open.type === MessageType.OpenMiningChannelError) throw new Error(`the pool refused the channel of ${this.options.user}: ${open.errorCode}`);
    if (open.type !== MessageType.OpenExtendedMiningChannelSuccess) throw new Error(`${messageName(open.type)} instead of OpenExtendedMiningChannel.Success`);
  }

  private setTarget(s: Session, le: Uint8Array): void {
    s.target = targetFromLE(le);
    s.difficulty = s.target === 0n ? Number.MAX_VALUE : targetToDifficulty(s.target);
  }

  /** One message from the pool; returns what was wrong with it when the session must end. */
  private onMessage(s: Session, m: Sv2Message): string | undefined {
    if (m.type === MessageType.OpenExtendedMiningChannelSuccess && s.waiting !== undefined) {
      // Taken at once: the channel's first job may follow in the same chunk.
      if (m.extranonceSize < 1 || m.extranonceSize > 32 || m.extranoncePrefix.length + m.extranonceSize > 32) {
        return `OpenExtendedMiningChannel.Success: extranonce_size ${m.extranonceSize} with a ${m.extranoncePrefix.length}-byte prefix (expected 1..32 bytes in all)`;
      }
      s.channelId = m.channelId;
      s.extranonce1 = Buffer.from(m.extranoncePrefix);
      s.extranonceSize = m.extranonceSize;
      this.setTarget(s, m.target);
    }
    if (s.waiting !== undefined && (m.type === MessageType.SetupConnectionSuccess || m.type === MessageType.SetupConnectionError || m.type === MessageType.OpenExtendedMiningChannelSuccess || m.type === MessageType.OpenMiningChannelError)) {
      const w = s.waiting;
      s.waiting = undefined;
      w(m);
      return undefined;
    }
    switch (m.type) {
      case MessageType.NewExtendedMiningJob: {
        if (m.channelId !== s.channelId) return undefined; // another channel's (a group's) job
        if (m.merklePath.length > MAX_MERKLE_PATH) return `NewExtendedMiningJob: a merkle path of ${m.merklePath.length} hashes, more than any block has (${MAX_MERKLE_PATH})`;
        if (m.minNtime === undefined) {
          s.futureJobs.set(m.jobId, m);
          if (s.futureJobs.size > 64) s.futureJobs.delete(s.futureJobs.keys().next().value!);
          return undefined;
        }
        if (!s.prev) {
          s.futureJobs.set(m.jobId, m);
          return undefined;
        }
        return this.emitJob(s, m, m.minNtime, false);
      }
      case MessageType.SetNewPrevHash: {
        if (m.channelId !== s.channelId) return undefined;
        const job = s.futureJobs.get(m.jobId);
        if (!job) return `SetNewPrevHash for job ${m.jobId}, never sent as a future job`;
        s.futureJobs.clear();
        s.prev = { prevHash: Buffer.from(m.prevHash), minNtime: m.minNtime, nbits: m.nbits };
        return this.emitJob(s, job, m.minNtime, true);
      }
      case MessageType.SetTarget:
        if (m.channelId !== s.channelId) return undefined;
        this.setTarget(s, m.maximumTarget);
        this.emit('difficulty', s.difficulty);
        return undefined;
      case MessageType.SetExtranoncePrefix:
        if (m.channelId !== s.channelId) return undefined;
        if (m.extranoncePrefix.length + s.extranonceSize > 32) return `SetExtranoncePrefix: ${m.extranoncePrefix.length} bytes with ${s.extranonceSize} of ours is over 32`;
        // Applies to the jobs that follow; shares of earlier ones would now be refused.
        s.extranonce1 = Buffer.from(m.extranoncePrefix);
        return undefined;
      case MessageType.SubmitSharesSuccess: {
        let n = m.newSubmitsAcceptedCount;
        for (const [seq, difficulty] of s.inFlight) {
          if (n <= 0 || seqAfter(seq, m.lastSequenceNumber)) break;
          s.inFlight.delete(seq);
          n--;
          this.emit('share', { accepted: true, difficulty });
        }
        return undefined;
      }
      case MessageType.SubmitSharesError: {
        const difficulty = s.inFlight.get(m.sequenceNumber) ?? 0;
        s.inFlight.delete(m.sequenceNumber);
        this.emit('share', { accepted: false, reason: m.errorCode, kind: kindOfErrorCode(m.errorCode), difficulty });
        return undefined;
      }
      case MessageType.CloseChannel:
        if (m.channelId !== s.channelId) return undefined;
        return `CloseChannel (${m.reasonCode})`;
      case MessageType.Reconnect: {
        const { host, port } = parseSv2Url(s.url);
        const h = m.newHost !== '' ? m.newHost : host;
        const p = m.newPort !== 0 ? m.newPort : port;
        // The same authority key: a Reconnect cannot send us to another pool (§3.6.5).
        this.redirect = `stratum2+tcp://${h.includes(':') ? `[${h}]` : h}:${p}/${s.url.slice(s.url.lastIndexOf('/') + 1)}`;
        this.redirectDelay = 0;
        this.emit('warning', `pool ${s.url} asked to reconnect to ${h}:${p}`);
        s.end('the pool asked to reconnect');
        return undefined;
      }
      default:
        return undefined; // UpdateChannel.Error, SetGroupChannel and the like: nothing to do
    }
  }

  private emitJob(s: Session, m: NewExtendedMiningJob, ntime: number, clean: boolean): string | undefined {
    const prev = s.prev!;
    let target: bigint;
    try {
      target = bitsToTarget(prev.nbits);
    } catch {
      return `SetNewPrevHash: nbits ${prev.nbits.toString(16)} is not a valid compact target`;
    }
    const job = upstreamJob({
      id: `p${++this.jobSeq}`,
      poolJobId: String(m.jobId),
      prevHash: prev.prevHash,
      version: m.version,
      bits: prev.nbits,
      target,
      ntime,
      coinb1: m.coinbaseTxPrefix,
      coinb2: m.coinbaseTxSuffix,
      extranoncePrefix: s.extranonce1,
      extranonceSize: s.extranonceSize,
      merkleBranch: m.merklePath,
      clean,
      difficulty: s.difficulty,
      shareTarget: s.target,
      versionMask: s.fixedVersion || !m.versionRollingAllowed ? 0 : SERVER_VERSION_MASK,
      noRollingReason: s.fixedVersion ? 'the pool requires a fixed version (Stratum V2 REQUIRES_FIXED_VERSION)' : 'the pool does not allow version rolling on this job (Stratum V2 version_rolling_allowed)',
    });
    this.emit('job', { job, clean, receivedAt: performance.now() });
    return undefined;
  }
}

/** Sequence numbers wrap at 2^32: `a` is after `b` when it is less than half the space ahead. */
function seqAfter(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x80000000;
}
