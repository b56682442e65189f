/**
 * One Stratum V2 connection on the pool's side (sv2-spec §4–§5), without its socket: bytes in,
 * bytes out. The Noise handshake first (64 bytes in, 234 out), then encrypted frames:
 * `SetupConnection` must be the first message and is answered at once (ESP-Miner expects its
 * Success as the very next frame), then channels — standard (header-only: the pool fixes the
 * whole extranonce and sends merkle roots) and extended (the miner rolls its part of the
 * extranonce) — each a protocol-free share session (../session.ts) of its worker.
 *
 * Jobs on a channel: a new tip is a future job (no min_ntime) followed by `SetNewPrevHash`; new
 * transactions on the same tip are a job with min_ntime, active at once. A new target goes out
 * as `SetTarget` before the next job, and shares on jobs sent before it are still judged at the
 * easier of both targets (the firmware applies a target from the next job it picks up). Every
 * channel target is no harder than the network target: on regtest every share is a block.
 *
 * Bad input: a wrong key, a bad MAC, a replayed frame end the connection (NoiseError); a message
 * before SetupConnection is answered SetupConnection.Error and closes it; an unknown message
 * type or a malformed message counts as a bad message (8 in a row close it); a channel id that
 * is not this connection's, or a share for an unknown job, gets SubmitShares.Error with the
 * error code (docs/stratum.md lists them). Nothing here touches another connection.
 * @module
 */
import type { WorkerIdentity } from '../authorize.js';
import type { StratumJob } from '../job-book.js';
import { EXTRANONCE_PREFIX_SIZE, EXTRANONCE_ROLLABLE_SIZE, type PoolCore } from '../pool-core.js';
import { ShareSession } from '../session.js';
import { merkleRootWith, SERVER_VERSION_MASK, type RejectKind } from '../share.js';
import { nearestPowerOfTwo } from '../vardiff.js';
import { printable } from './codec.js';
import { DecodeError, NoiseError } from './errors.js';
import { CHANNEL_MSG_BIT, FrameReader, FrameWriter, type Frame } from './frames.js';
import {
  decodeMessage,
  encodeMessage,
  messageName,
  MessageType,
  MINING_PROTOCOL,
  PROTOCOL_VERSION,
  SetupFlags,
  type OpenExtendedMiningChannel,
  type OpenStandardMiningChannel,
  type SetupConnection,
  type SubmitSharesExtended,
  type SubmitSharesStandard,
  type Sv2Message,
  type UpdateChannel,
} from './messages.js';
import { ACT1_SIZE, type NoiseResponder } from './noise.js';
import { difficultyToTargetLE, targetLEToDifficulty, targetToLE } from './target.js';

/** Consecutive bad messages after which a connection is dropped (as on Stratum V1). */
export const MAX_BAD_MESSAGES = 8;
/** No message a miner sends is near this; a larger length is not Stratum V2 (as V1's 16 KiB line). */
export const MAX_INBOUND_PAYLOAD = 16 * 1024;
/** A miner that has had no frame for this long gets its unchanged target again (ESP-Miner gives up at 180 s). */
export const KEEPALIVE_MS = 60_000;
/** Channels one connection may open (a proxy opens one per device; a device opens one). */
export const MAX_CHANNELS = 1024;
/** Flags of SetupConnection this pool serves (work selection needs the Job Declaration Protocol). */
const SUPPORTED_FLAGS = SetupFlags.REQUIRES_STANDARD_JOBS | SetupFlags.REQUIRES_VERSION_ROLLING;

/**
 * The error codes this pool sends (sv2-spec §3.5: implementations document their own; these are
 * the names the spec suggested before it stopped listing any, which SRI and firmware show).
 */
export const ErrorCode = {
  unsupportedProtocol: 'unsupported-protocol',
  versionMismatch: 'protocol-version-mismatch',
  unsupportedFlags: 'unsupported-feature-flags',
  setupFirst: 'setup-connection-required',
  unknownUser: 'unknown-user',
  maxTargetOutOfRange: 'max-target-out-of-range',
  extranonceTooLarge: 'min-extranonce-size-too-large',
  tooManyChannels: 'too-many-channels',
  invalidChannel: 'invalid-channel-id',
} as const;

/** SubmitShares.Error codes by the pool's protocol-free reasons. */
export const SHARE_ERROR: Readonly<Record<RejectKind, string>> = {
  'invalid-channel': 'invalid-channel-id',
  'unknown-job': 'invalid-job-id',
  stale: 'stale-share',
  duplicate: 'duplicate-share',
  'low-difficulty': 'difficulty-too-low',
  invalid: 'invalid-share',
  unauthorized: 'unauthorized',
  'not-subscribed': 'invalid-channel-id',
};

export type ChannelKind = 'standard' | 'extended';

export interface Channel {
  readonly id: number;
  readonly kind: ChannelKind;
  readonly worker: WorkerIdentity;
  readonly session: ShareSession;
  /** The pool's 4 unique bytes (freed when the channel closes). */
  readonly allocated: Buffer;
  /** The tip of the last SetNewPrevHash sent: a job of another tip goes as a future job. */
  sentTip: string | undefined;
}

/** What a connection needs of its server. */
export interface Sv2ConnectionHost {
  readonly core: PoolCore;
  readonly remote: string;
  /** A responder with the server's static key and certificate of the moment. */
  responder(): NoiseResponder;
  write(bytes: Buffer): void;
  /** The extended job payload of `job`, channel id zero, shared by every channel (server.ts). */
  extendedJob(job: StratumJob, future: boolean): Buffer;
}

type State = 'handshake' | 'setup' | 'open';

/** Each job's SetNewPrevHash payload, channel id zero: the same for every channel (stamped as sealed). */
const setNewPrevHashes = new WeakMap<StratumJob, Buffer>();

function setNewPrevHashOf(job: StratumJob): Buffer {
  let payload = setNewPrevHashes.get(job);
  if (payload === undefined) {
    const header = job.prepared.job;
    payload = encodeMessage({ type: MessageType.SetNewPrevHash, channelId: 0, jobId: job.seq, prevHash: header.prevHash, minNtime: job.ntime, nbits: header.bits >>> 0 });
    setNewPrevHashes.set(job, payload);
  }
  return payload;
}

export class Sv2Connection {
  readonly connectedAt: number;
  private state: State = 'handshake';
  private handshakeBytes: Buffer = Buffer.alloc(0);
  private reader: FrameReader | undefined;
  private writer: FrameWriter | undefined;
  readonly channels = new Map<number, Channel>();
  /**
   * Channel requests that arrived before the pool's first job: answered with the first job,
   * because a channel's target can only be capped at the network target once it is known (an
   * answer before it announced difficulty 1, harder than regtest's, then a SetTarget).
   */
  private pendingOpens: Array<OpenStandardMiningChannel | OpenExtendedMiningChannel> = [];
  private nextChannelId = 1;
  private badMessages = 0;
  /** Set when the connection must be closed (the server closes the socket). */
  closeReason: string | undefined;
  /** What the miner said it is (SetupConnection's vendor, hardware, firmware). */
  userAgent: string | undefined;
  /** Since when bytes of an unfinished frame have waited (a truncated frame). */
  partialSince: number | undefined;
  private flags = 0;
  /** When a frame last went to the miner. */
  private lastSent: number;
  /** Batches running (frames queue until the outermost ends). */
  private batching = 0;

  constructor(private readonly host: Sv2ConnectionHost) {
    this.connectedAt = host.core.now();
    this.lastSent = this.connectedAt;
  }

  /** Mining: the handshake and setup are done and a channel is open. */
  get mining(): boolean {
    return this.channels.size > 0;
  }

  /** Channel requests waiting for the pool's first job. */
  get waitingForWork(): boolean {
    return this.pendingOpens.length > 0;
  }

  /** Bytes from the miner (every reply to them goes out in one write). */
  receive(chunk: Buffer): void {
    this.batch(() => this.receiveFrames(chunk));
  }

  private receiveFrames(chunk: Buffer): void {
    try {
      if (this.state === 'handshake') {
        this.handshakeBytes = Buffer.concat([this.handshakeBytes, chunk]);
        if (this.handshakeBytes.length < ACT1_SIZE) return;
        const act1 = this.handshakeBytes.subarray(0, ACT1_SIZE);
        const rest = this.handshakeBytes.subarray(ACT1_SIZE);
        this.handshakeBytes = Buffer.alloc(0);
        const { reply, session } = this.host.responder().respond(act1);
        this.reader = new FrameReader(session.recv, MAX_INBOUND_PAYLOAD);
        this.writer = new FrameWriter(session.send);
        this.state = 'setup';
        this.host.write(reply);
        if (rest.length === 0) return;
        chunk = rest;
      }
      const frames = this.reader!.push(chunk);
      this.partialSince = this.reader!.pending > 0 ? (this.partialSince ?? this.host.core.now()) : undefined;
      for (const frame of frames) {
        this.onFrame(frame);
        if (this.closeReason !== undefined) return;
      }
    } catch (err) {
      if (err instanceof NoiseError || err instanceof DecodeError) {
        this.closeReason = err.message;
        return;
      }
      throw err;
    }
  }

  /**
   * Sends the current job to every channel (a new job, or a difficulty change due): every
   * frame of every channel sealed in one call and written at once.
   */
  sendJobs(onlyDue = false): number {
    return this.batch(() => {
      if (this.pendingOpens.length > 0 && this.host.core.networkTarget !== undefined) {
        const waiting = this.pendingOpens;
        this.pendingOpens = [];
        // Each open sends its channel's first job itself.
        for (const m of waiting) this.openChannel(m);
        if (this.closeReason !== undefined) return 0;
      }
      let sent = 0;
      for (const ch of this.channels.values()) {
        if (onlyDue && !ch.session.difficultyChangeDue) continue;
        if (this.sendJob(ch)) sent++;
      }
      return sent;
    });
  }

  /** Forget jobs of previous tips on every channel. */
  forgetJobs(keep: (id: string) => boolean): void {
    for (const ch of this.channels.values()) ch.session.forgetJobs(keep);
  }

  tick(): void {
    this.batch(() => this.keepAlive());
  }

  private keepAlive(): void {
    for (const ch of this.channels.values()) ch.session.tick();
    // ESP-Miner reconnects after 180 s without a frame: a quiet chain (no new transactions, a
    // miner between shares) gets its unchanged target again well before that.
    if (this.host.core.now() - this.lastSent > KEEPALIVE_MS) {
      for (const ch of this.channels.values()) {
        const d = ch.session.sent;
        if (d !== undefined) this.send({ type: MessageType.SetTarget, channelId: ch.id, maximumTarget: this.targetOf(d) });
      }
    }
  }

  /** The connection ended: what it held goes back to the pool. */
  closed(): void {
    for (const ch of this.channels.values()) this.dropChannel(ch);
  }

  // --- frames --------------------------------------------------------------------------

  /** A message out: queued while a batch runs, written at once otherwise. */
  private send(m: Sv2Message): void {
    this.writer!.queueMessage(m);
    if (this.batching === 0) this.flush();
  }

  /**
   * Runs `fn` with every frame it sends queued, then seals them in one call and writes them in
   * one piece: a socket write per connection and event, as on Stratum V1.
   */
  private batch<T>(fn: () => T): T {
    this.batching++;
    try {
      return fn();
    } finally {
      if (--this.batching === 0) this.flush();
    }
  }

  private flush(): void {
    const bytes = this.writer?.flush();
    if (bytes === undefined) return;
    this.lastSent = this.host.core.now();
    this.host.write(bytes);
  }

  private onFrame(frame: Frame): void {
    const extension = frame.extensionType & 0x7fff;
    if (extension !== 0) return; // an extension never negotiated: discarded (§3.4.1)
    if (this.state === 'setup') {
      if (frame.msgType !== MessageType.SetupConnection) {
        this.send({ type: MessageType.SetupConnectionError, flags: 0, errorCode: ErrorCode.setupFirst });
        this.closeReason = `${messageName(frame.msgType)} before SetupConnection`;
        return;
      }
      return this.setup(frame.payload);
    }
    let m: Sv2Message | undefined;
    try {
      m = decodeMessage(frame.msgType, frame.payload);
    } catch (err) {
      if (err instanceof DecodeError) return this.bad(err.message);
      throw err;
    }
    if (m === undefined) return this.bad(`unknown message type 0x${frame.msgType.toString(16).padStart(2, '0')}`);
    switch (m.type) {
      case MessageType.OpenStandardMiningChannel:
      case MessageType.OpenExtendedMiningChannel:
        return this.openChannel(m);
      case MessageType.SubmitSharesStandard:
      case MessageType.SubmitSharesExtended:
        return this.submit(m);
      case MessageType.UpdateChannel:
        return this.updateChannel(m);
      case MessageType.CloseChannel: {
        const ch = this.channels.get(m.channelId);
        if (ch) this.dropChannel(ch);
        return;
      }
      case MessageType.SetupConnection:
        return this.bad('SetupConnection again');
      default:
        return this.bad(`${messageName(m.type)} is not a message a miner sends`);
    }
  }

  private bad(message: string): void {
    // Not logged one by one (a flood must not flood the log): the close reason names the last.
    if (++this.badMessages >= MAX_BAD_MESSAGES) this.closeReason = `${MAX_BAD_MESSAGES} bad messages in a row (the last: ${message})`;
  }

  private setup(payload: Buffer): void {
    let m: SetupConnection;
    try {
      m = decodeMessage(MessageType.SetupConnection, payload) as SetupConnection;
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.send({ type: MessageType.SetupConnectionError, flags: 0, errorCode: 'invalid-setup-connection' });
      this.closeReason = err.message;
      return;
    }
    const refuse = (flags: number, code: string, why: string) => {
      this.send({ type: MessageType.SetupConnectionError, flags, errorCode: code });
      this.closeReason = why;
    };
    if (m.protocol !== MINING_PROTOCOL) return refuse(0, ErrorCode.unsupportedProtocol, `SetupConnection: protocol ${m.protocol} (only the Mining Protocol, 0, is served)`);
    if (m.minVersion > PROTOCOL_VERSION || m.maxVersion < PROTOCOL_VERSION) {
      return refuse(0, ErrorCode.versionMismatch, `SetupConnection: versions ${m.minVersion}..${m.maxVersion} (this pool speaks ${PROTOCOL_VERSION})`);
    }
    const unsupported = (m.flags & ~SUPPORTED_FLAGS) >>> 0;
    if (unsupported !== 0) return refuse(unsupported, ErrorCode.unsupportedFlags, `SetupConnection: flags ${unsupported.toString(16)} not served`);
    this.flags = m.flags;
    this.userAgent = printable([m.vendor, m.hardwareVersion, m.firmware].filter((x) => x !== '').join('/'), 128) || undefined;
    this.state = 'open';
    // Success must be the very next frame: ESP-Miner reads exactly one frame after its setup.
    this.send({ type: MessageType.SetupConnectionSuccess, usedVersion: PROTOCOL_VERSION, flags: 0 });
  }

  private openChannel(m: OpenStandardMiningChannel | OpenExtendedMiningChannel): void {
    const core = this.host.core;
    const refuse = (code: string, why: string, kind: RejectKind = 'invalid') => {
      this.send({ type: MessageType.OpenMiningChannelError, requestId: m.requestId, errorCode: code });
      core.rejected(undefined, kind, `${printable(m.userIdentity)}: ${why}`, this.host.remote, 'v2');
      if (++this.badMessages >= MAX_BAD_MESSAGES) this.closeReason = `${MAX_BAD_MESSAGES} refused channels in a row`;
    };
    if (this.channels.size + this.pendingOpens.length >= MAX_CHANNELS) return refuse(ErrorCode.tooManyChannels, `more than ${MAX_CHANNELS} channels on one connection`);
    if (core.networkTarget === undefined) {
      this.pendingOpens.push(m);
      return;
    }
    const extended = m.type === MessageType.OpenExtendedMiningChannel;
    if (extended && m.minExtranonceSize > EXTRANONCE_ROLLABLE_SIZE) {
      return refuse(ErrorCode.extranonceTooLarge, `min_extranonce_size ${m.minExtranonceSize} (this pool gives ${EXTRANONCE_ROLLABLE_SIZE})`);
    }
    // No password field in Stratum V2: the identity carries one after its last ':' (checked with
    // --stratum-password, else ignored — and never part of the worker's name, so never shown).
    const colon = m.userIdentity.lastIndexOf(':');
    const user = colon < 0 ? m.userIdentity : m.userIdentity.slice(0, colon);
    const password = colon < 0 ? undefined : m.userIdentity.slice(colon + 1);
    if (user === '') return refuse(ErrorCode.unknownUser, 'user_identity: expected <address>[.<worker>]', 'unauthorized');
    const verdict = core.authorize(user, password);
    if (!verdict.ok) return refuse(ErrorCode.unknownUser, verdict.message, 'unauthorized');
    const floor = targetLEToDifficulty(m.maxTarget);
    if (floor > core.networkDifficulty) {
      return refuse(ErrorCode.maxTargetOutOfRange, `max_target is harder than the network target (difficulty ${floor} > ${core.networkDifficulty}): block-grade shares would never be sent`);
    }
    const allocated = core.allocateExtranonce();
    // A standard channel's extranonce is all the pool's: its unique 4 bytes and 4 fixed ones.
    const prefix = extended ? allocated : Buffer.concat([allocated, Buffer.alloc(EXTRANONCE_ROLLABLE_SIZE)]);
    const session = new ShareSession(core.sessionHost, prefix, SERVER_VERSION_MASK, floor > 0 && Number.isFinite(floor) ? floor : 0);
    // The nominal hash rate is the miner's suggestion: one share per --stratum-share-seconds.
    if (Number.isFinite(m.nominalHashRate) && m.nominalHashRate > 0) {
      session.suggest(nearestPowerOfTwo((m.nominalHashRate * core.options.shareSeconds) / 2 ** 32));
    }
    const difficulty = session.announce();
    const id = this.nextChannelId++;
    const ch: Channel = { id, kind: extended ? 'extended' : 'standard', worker: verdict.worker, session, allocated, sentTip: undefined };
    this.channels.set(id, ch);
    const target = this.targetOf(difficulty);
    if (extended) {
      this.send({ type: MessageType.OpenExtendedMiningChannelSuccess, requestId: m.requestId, channelId: id, target, extranonceSize: EXTRANONCE_ROLLABLE_SIZE, extranoncePrefix: prefix, groupChannelId: 0 });
    } else {
      this.send({ type: MessageType.OpenStandardMiningChannelSuccess, requestId: m.requestId, channelId: id, target, extranoncePrefix: prefix, groupChannelId: 0 });
    }
    this.badMessages = 0;
    core.workerConnected(verdict.worker, this.userAgent, this.host.remote, 'v2');
    this.sendJob(ch);
  }

  private dropChannel(ch: Channel): void {
    if (!this.channels.delete(ch.id)) return;
    this.host.core.freeExtranonce(ch.allocated);
    this.host.core.workerDisconnected(ch.worker.name, 'v2');
  }

  /** Sends the current job of the channel's payout (with SetTarget first when due). */
  private sendJob(ch: Channel): boolean {
    const core = this.host.core;
    let job = core.jobFor(ch.worker);
    if (!job) return false;
    // Sent before (a new target goes with the same work): under a new job_id, the old one still
    // valid at its own target (sv2-spec: a job_id in use by a valid job is never assigned again).
    if (ch.session.owes(job.id) !== undefined) job = core.book.reissue(job);
    const { difficulty, changed } = ch.session.jobSent(job);
    if (changed) this.send({ type: MessageType.SetTarget, channelId: ch.id, maximumTarget: this.targetOf(difficulty) });
    const tip = job.base.previousBlockHash;
    const future = ch.sentTip !== tip;
    const header = job.prepared.job;
    if (ch.kind === 'extended') {
      // One payload for every channel of the pool: the writer seals it with this channel's id.
      this.writer!.queue(CHANNEL_MSG_BIT, MessageType.NewExtendedMiningJob, this.host.extendedJob(job, future), ch.id);
    } else {
      const merkleRoot = merkleRootWith(job.prepared, ch.session.extranoncePrefix);
      this.send({ type: MessageType.NewMiningJob, channelId: ch.id, jobId: job.seq, minNtime: future ? undefined : job.ntime, version: header.version >>> 0, merkleRoot });
    }
    if (future) {
      // The future job becomes the one to mine: the new previous hash, ntime and nbits.
      this.writer!.queue(CHANNEL_MSG_BIT, MessageType.SetNewPrevHash, setNewPrevHashOf(job), ch.id);
      ch.sentTip = tip;
    }
    core.workerDifficulty(ch.worker.name, difficulty);
    return true;
  }

  private submit(m: SubmitSharesStandard | SubmitSharesExtended): void {
    const core = this.host.core;
    const ch = this.channels.get(m.channelId);
    const refuse = (worker: WorkerIdentity | undefined, kind: RejectKind, message: string) => {
      this.send({ type: MessageType.SubmitSharesError, channelId: m.channelId, sequenceNumber: m.sequenceNumber, errorCode: SHARE_ERROR[kind] });
      core.rejected(worker, kind, message, this.host.remote, 'v2');
    };
    if (!ch) return refuse(undefined, 'invalid-channel', `channel ${m.channelId} is not open on this connection`);
    const extranonce = m.type === MessageType.SubmitSharesExtended ? m.extranonce : new Uint8Array(0);
    if (ch.kind === 'standard' && extranonce.length > 0) return refuse(ch.worker, 'invalid', 'SubmitSharesExtended on a standard channel');
    const verdict = ch.session.judge(m.jobId.toString(16), { extranonce, ntime: m.ntime, nonce: m.nonce, version: m.version }, String(m.jobId));
    if (!verdict.ok) return refuse(ch.worker, verdict.kind, verdict.message);
    this.badMessages = 0;
    this.send({ type: MessageType.SubmitSharesSuccess, channelId: ch.id, lastSequenceNumber: m.sequenceNumber, newSubmitsAcceptedCount: 1, newSharesSum: BigInt(Math.floor(verdict.owed)) });
    core.accepted(ch.worker, verdict.owed, verdict.share, verdict.job, 'v2');
    // A vardiff change goes out at once with a job (SetTarget, then the job).
    if (ch.session.difficultyChangeDue) this.sendJob(ch);
  }

  private updateChannel(m: UpdateChannel): void {
    const ch = this.channels.get(m.channelId);
    if (!ch) {
      this.send({ type: MessageType.UpdateChannelError, channelId: m.channelId, errorCode: ErrorCode.invalidChannel });
      return;
    }
    const floor = targetLEToDifficulty(m.maximumTarget);
    if (floor > this.host.core.networkDifficulty) {
      this.send({ type: MessageType.UpdateChannelError, channelId: m.channelId, errorCode: ErrorCode.maxTargetOutOfRange });
      return;
    }
    if (Number.isFinite(m.nominalHashRate) && m.nominalHashRate > 0) {
      ch.session.suggest(nearestPowerOfTwo((m.nominalHashRate * this.host.core.options.shareSeconds) / 2 ** 32));
    }
    // A smaller maximum target must be reflected with SetTarget (§5.3.7): it goes with the next job.
    ch.session.raiseFloor(floor);
    if (ch.session.difficultyChangeDue) this.sendJob(ch);
  }

  /**
   * The channel target of a difficulty: at the cap, exactly the network target (a difficulty in
   * doubles converts back a hair under it, and a block-grade share must always be sent).
   */
  private targetOf(difficulty: number): Buffer {
    const net = this.host.core.networkTarget;
    if (net !== undefined && difficulty >= this.host.core.networkDifficulty) return targetToLE(net);
    return difficultyToTargetLE(difficulty);
  }

  /** Flags the miner set up with (REQUIRES_STANDARD_JOBS, REQUIRES_VERSION_ROLLING). */
  get setupFlags(): number {
    return this.flags;
  }
}
