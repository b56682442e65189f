// A Stratum V2 miner for the tests, written from the miner's side: it speaks the encrypted wire
// with src/stratum/v2's codec (the handshake and messages are checked against fixed vectors and
// ESP-Miner's own code elsewhere) but builds every header itself, independently of the pool —
// a standard job's header from its merkle root, an extended job's from coinbase_tx_prefix ‖
// extranonce_prefix ‖ extranonce ‖ coinbase_tx_suffix and the merkle path — so a block the node
// accepts proves the byte orders (U256 little-endian targets, internal-order prev_hash and
// merkle root, U32 fields). It can also send what a hostile client would: raw bytes, replayed
// frames, messages out of order.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';

import { parseCertificate, verifyCertificate } from '../../src/stratum/v2/certificate.js';
import { FrameReader, FrameWriter } from '../../src/stratum/v2/frames.js';
import { decodeMessage, encodeMessage, MessageType, type NewExtendedMiningJob, type NewMiningJob, type Sv2Message } from '../../src/stratum/v2/messages.js';
import { ACT2_SIZE, NoiseInitiator, type EllswiftKey } from '../../src/stratum/v2/noise.js';
import { within } from './events.js';

function sha256d(data: Uint8Array): Buffer {
  return createHash('sha256').update(createHash('sha256').update(data).digest()).digest();
}

/** A little-endian U256 as a number. */
export function le256(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).reverse().toString('hex')}`);
}

export interface ChannelInfo {
  readonly channelId: number;
  readonly kind: 'standard' | 'extended';
  readonly extranoncePrefix: Buffer;
  readonly extranonceSize: number;
  target: bigint;
  /** Jobs by id, as received. */
  readonly jobs: Map<number, NewMiningJob | NewExtendedMiningJob>;
  prev: { prevHash: Buffer; minNtime: number; nbits: number; jobId: number } | undefined;
}

/** A job made live (SetNewPrevHash, or a job with min_ntime): what a miner hashes. */
export interface LiveJob {
  readonly channel: ChannelInfo;
  readonly jobId: number;
  readonly version: number;
  readonly prevHash: Buffer;
  readonly ntime: number;
  readonly nbits: number;
  readonly job: NewMiningJob | NewExtendedMiningJob;
  /** The share target in force when it went live. */
  readonly target: bigint;
}

export interface Solved {
  readonly nonce: number;
  readonly ntime: number;
  readonly version: number;
  readonly extranonce: Buffer;
  /** Display-order hash. */
  readonly hash: string;
  readonly header: Buffer;
}

export class TestSv2Client extends EventEmitter<{ message: [Sv2Message]; live: [LiveJob]; closed: [] }> {
  readonly received: Sv2Message[] = [];
  readonly channels = new Map<number, ChannelInfo>();
  closed = false;
  private writer!: FrameWriter;
  private reader!: FrameReader;
  /** Every frame sent, encrypted, in order (a replay test sends one again). */
  readonly sentFrames: Buffer[] = [];
  certificate: ReturnType<typeof parseCertificate> | undefined;
  serverKey: Uint8Array | undefined;

  private constructor(readonly socket: Socket) {
    super();
  }

  /**
   * Connects and runs the handshake; with `authorityKey` the certificate is checked as a miner
   * would (NoiseError when it is not the pool's).
   */
  static async connect(port: number, options: { authorityKey?: Uint8Array; ephemeral?: EllswiftKey; host?: string } = {}): Promise<TestSv2Client> {
    const socket = connect({ port, host: options.host ?? '127.0.0.1' });
    socket.setNoDelay(true);
    const c = new TestSv2Client(socket);
    socket.on('close', () => {
      c.closed = true;
      c.emit('closed');
    });
    socket.on('error', () => undefined);
    await within('the TCP connection', new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    }));
    const noise = new NoiseInitiator(options.ephemeral);
    socket.write(noise.start());
    const act2 = await within('handshake act 2 (234 bytes)', c.readExactly(ACT2_SIZE));
    const { session, server } = noise.finish(act2.subarray(0, ACT2_SIZE));
    c.certificate = parseCertificate(server.signatureMessage);
    c.serverKey = server.staticKey;
    if (options.authorityKey) verifyCertificate(c.certificate, server.staticKey, options.authorityKey, Math.floor(Date.now() / 1000));
    c.writer = new FrameWriter(session.send);
    c.reader = new FrameReader(session.recv, 1 << 20);
    const rest = act2.subarray(ACT2_SIZE);
    socket.on('data', (chunk: Buffer) => c.onData(chunk));
    if (rest.length > 0) c.onData(rest);
    return c;
  }

  private readExactly(n: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let buf = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length >= n) {
          this.socket.off('data', onData);
          this.socket.off('close', onClose);
          resolve(buf);
        }
      };
      const onClose = () => reject(new Error(`the pool closed the connection after ${buf.length} of ${n} bytes`));
      this.socket.on('data', onData);
      this.socket.once('close', onClose);
    });
  }

  private onData(chunk: Buffer): void {
    for (const frame of this.reader.push(chunk)) {
      const m = decodeMessage(frame.msgType, frame.payload);
      if (!m) continue;
      this.received.push(m);
      this.track(m);
      this.emit('message', m);
    }
  }

  private track(m: Sv2Message): void {
    switch (m.type) {
      case MessageType.OpenStandardMiningChannelSuccess:
        this.channels.set(m.channelId, { channelId: m.channelId, kind: 'standard', extranoncePrefix: Buffer.from(m.extranoncePrefix), extranonceSize: 0, target: le256(m.target), jobs: new Map(), prev: undefined });
        break;
      case MessageType.OpenExtendedMiningChannelSuccess:
        this.channels.set(m.channelId, { channelId: m.channelId, kind: 'extended', extranoncePrefix: Buffer.from(m.extranoncePrefix), extranonceSize: m.extranonceSize, target: le256(m.target), jobs: new Map(), prev: undefined });
        break;
      case MessageType.SetTarget: {
        const ch = this.channels.get(m.channelId);
        if (ch) ch.target = le256(m.maximumTarget);
        break;
      }
      case MessageType.NewMiningJob:
      case MessageType.NewExtendedMiningJob: {
        const ch = this.channels.get(m.channelId);
        if (!ch) break;
        ch.jobs.set(m.jobId, m);
        if (m.minNtime !== undefined && ch.prev) this.emit('live', this.live(ch, m, m.minNtime, ch.prev.prevHash, ch.prev.nbits));
        break;
      }
      case MessageType.SetNewPrevHash: {
        const ch = this.channels.get(m.channelId);
        if (!ch) break;
        ch.prev = { prevHash: Buffer.from(m.prevHash), minNtime: m.minNtime, nbits: m.nbits, jobId: m.jobId };
        const job = ch.jobs.get(m.jobId);
        if (job) this.emit('live', this.live(ch, job, m.minNtime, ch.prev.prevHash, m.nbits));
        break;
      }
      default:
        break;
    }
  }

  private live(ch: ChannelInfo, job: NewMiningJob | NewExtendedMiningJob, ntime: number, prevHash: Buffer, nbits: number): LiveJob {
    return { channel: ch, jobId: job.jobId, version: job.version, prevHash, ntime, nbits, job, target: ch.target };
  }

  send(m: Sv2Message): void {
    const frame = this.writer.message(m);
    this.sentFrames.push(frame);
    this.socket.write(frame);
  }

  /** A frame of any type and payload, encrypted (an unknown type, a wrong channel bit). */
  sendFrame(extensionType: number, msgType: number, payload: Uint8Array): Buffer {
    const frame = this.writer.frame(extensionType, msgType, payload);
    this.sentFrames.push(frame);
    this.socket.write(frame);
    return frame;
  }

  sendRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next message matching `match` (already received ones first, oldest first). */
  async next<T extends Sv2Message = Sv2Message>(match: (m: Sv2Message) => boolean = () => true, timeoutMs = 15_000, what = 'a message'): Promise<T> {
    const i = this.received.findIndex(match);
    if (i >= 0) return this.received.splice(i, 1)[0] as T;
    return within(what, new Promise<T>((resolve, reject) => {
      const onMessage = (m: Sv2Message) => {
        if (!match(m)) return;
        const at = this.received.indexOf(m);
        if (at >= 0) this.received.splice(at, 1);
        cleanup();
        resolve(m as T);
      };
      const onClosed = () => {
        cleanup();
        reject(new Error(`the pool closed the connection while waiting for ${what}`));
      };
      const cleanup = () => {
        this.off('message', onMessage);
        this.off('closed', onClosed);
      };
      this.on('message', onMessage);
      this.once('closed', onClosed);
    }), timeoutMs);
  }

  nextOfType<K extends Sv2Message['type']>(type: K, timeoutMs?: number): Promise<Extract<Sv2Message, { type: K }>> {
    return this.next((m) => m.type === type, timeoutMs, `message 0x${type.toString(16)}`);
  }

  /** The next job made live on `channelId`. */
  nextLive(channelId?: number, match: (j: LiveJob) => boolean = () => true, timeoutMs = 15_000): Promise<LiveJob> {
    return within('a live job', new Promise<LiveJob>((resolve) => {
      const on = (j: LiveJob) => {
        if ((channelId !== undefined && j.channel.channelId !== channelId) || !match(j)) return;
        this.off('live', on);
        resolve(j);
      };
      this.on('live', on);
    }), timeoutMs);
  }

  async setup(flags = 0, overrides: Partial<Extract<Sv2Message, { type: 0 }>> = {}): Promise<Sv2Message> {
    this.send({ type: MessageType.SetupConnection, protocol: 0, minVersion: 2, maxVersion: 2, flags, endpointHost: '127.0.0.1', endpointPort: 0, vendor: 'test', hardwareVersion: 'sv2-client', firmware: 'v0', deviceId: '', ...overrides });
    return this.next((m) => m.type === MessageType.SetupConnectionSuccess || m.type === MessageType.SetupConnectionError, 15_000, 'SetupConnection.Success or .Error');
  }

  /** Opens a channel; resolves with the Success (its first live job follows) or the Error. */
  async open(kind: 'standard' | 'extended', user: string, options: { requestId?: number; nominalHashRate?: number; maxTarget?: Uint8Array; minExtranonceSize?: number } = {}): Promise<Sv2Message> {
    const requestId = options.requestId ?? 1;
    const base = { requestId, userIdentity: user, nominalHashRate: options.nominalHashRate ?? 0, maxTarget: options.maxTarget ?? Buffer.alloc(32, 0xff) };
    if (kind === 'standard') this.send({ type: MessageType.OpenStandardMiningChannel, ...base });
    else this.send({ type: MessageType.OpenExtendedMiningChannel, ...base, minExtranonceSize: options.minExtranonceSize ?? 4 });
    return this.next(
      (m) =>
        (m.type === MessageType.OpenStandardMiningChannelSuccess || m.type === MessageType.OpenExtendedMiningChannelSuccess || m.type === MessageType.OpenMiningChannelError) && m.requestId === requestId,
      15_000,
      'the channel to open',
    );
  }

  /** The header of `live` with these fields (the miner's own construction). */
  static header(live: LiveJob, nonce: number, version: number, extranonce: Uint8Array, ntime = live.ntime): Buffer {
    let root: Buffer;
    if (live.job.type === MessageType.NewMiningJob) root = Buffer.from(live.job.merkleRoot);
    else {
      root = sha256d(Buffer.concat([live.job.coinbaseTxPrefix, live.channel.extranoncePrefix, extranonce, live.job.coinbaseTxSuffix]));
      for (const h of live.job.merklePath) root = sha256d(Buffer.concat([root, h]));
    }
    const header = Buffer.alloc(80);
    header.writeUInt32LE(version >>> 0, 0);
    live.prevHash.copy(header, 4);
    root.copy(header, 36);
    header.writeUInt32LE(ntime >>> 0, 68);
    header.writeUInt32LE(live.nbits >>> 0, 72);
    header.writeUInt32LE(nonce >>> 0, 76);
    return header;
  }

  /** The first nonce (from `start`) whose hash is at or under `target`. */
  static solve(live: LiveJob, target: bigint, options: { version?: number; extranonce?: Uint8Array; start?: number; above?: bigint } = {}): Solved {
    const version = options.version ?? live.version;
    const extranonce = Buffer.from(options.extranonce ?? Buffer.alloc(live.channel.extranonceSize));
    for (let nonce = options.start ?? 0; nonce < 2 ** 32; nonce++) {
      const header = TestSv2Client.header(live, nonce, version, extranonce);
      const h = le256(sha256d(header));
      if (h <= target && (options.above === undefined || h > options.above)) {
        return { nonce, ntime: live.ntime, version, extranonce, hash: Buffer.from(sha256d(header)).reverse().toString('hex'), header };
      }
    }
    throw new Error('no nonce found');
  }

  submit(live: LiveJob, s: Solved, sequenceNumber: number, channelId = live.channel.channelId): void {
    if (live.channel.kind === 'standard') this.send({ type: MessageType.SubmitSharesStandard, channelId, sequenceNumber, jobId: live.jobId, nonce: s.nonce, ntime: s.ntime, version: s.version });
    else this.send({ type: MessageType.SubmitSharesExtended, channelId, sequenceNumber, jobId: live.jobId, nonce: s.nonce, ntime: s.ntime, version: s.version, extranonce: s.extranonce });
  }

  /** The pool's answer to the share with `sequenceNumber`. */
  verdict(sequenceNumber: number, timeoutMs = 15_000): Promise<Sv2Message> {
    return this.next(
      (m) => (m.type === MessageType.SubmitSharesSuccess && m.lastSequenceNumber === sequenceNumber) || (m.type === MessageType.SubmitSharesError && m.sequenceNumber === sequenceNumber),
      timeoutMs,
      `the verdict on share ${sequenceNumber}`,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const done = new Promise<void>((resolve) => this.once('closed', () => resolve()));
    this.socket.destroy();
    await done;
  }
}

export { encodeMessage };
