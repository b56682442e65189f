/**
 * Encrypted frames (sv2-spec §3.2, §4.6): a 6-byte header (extension_type U16 whose top bit is
 * channel_msg, msg_type U8, msg_length U24 = the plaintext payload length) encrypted as one
 * 22-byte block, then the payload in chunks of at most 65,519 bytes, each encrypted with its own
 * 16-byte MAC. A frame with an empty payload is the header block alone.
 * @module
 */
import { DecodeError } from './errors.js';
import { MAC_SIZE, type CipherState } from './noise.js';
import { encodeMessage, isChannelMessage, type Sv2Message } from './messages.js';

export const HEADER_SIZE = 6;
export const ENCRYPTED_HEADER_SIZE = HEADER_SIZE + MAC_SIZE;
export const MAX_CT_LEN = 65535;
export const MAX_PT_LEN = MAX_CT_LEN - MAC_SIZE;
export const CHANNEL_MSG_BIT = 0x8000;
/** The payload limit of ESP-Miner's receive buffer: larger frames drop its connection. */
export const ESP_MINER_MAX_PAYLOAD = 8192;

const EMPTY = new Uint8Array(0);


export interface Frame {
  readonly extensionType: number;
  readonly msgType: number;
  readonly payload: Buffer;
}

export function encodeHeader(extensionType: number, msgType: number, length: number): Buffer {
  if (length > 0xffffff) throw new RangeError(`msg_length: expected at most 2^24-1 bytes, got ${length}`);
  const h = Buffer.alloc(HEADER_SIZE);
  h.writeUInt16LE(extensionType, 0);
  h[2] = msgType;
  h.writeUIntLE(length, 3, 3);
  return h;
}

/** Ciphertext bytes that carry `ptLen` bytes of payload (§4.6). */
export function ciphertextLength(ptLen: number): number {
  const full = Math.floor(ptLen / MAX_PT_LEN);
  const rest = ptLen % MAX_PT_LEN;
  return full * MAX_CT_LEN + (rest > 0 ? rest + MAC_SIZE : 0);
}

interface Queued {
  readonly extensionType: number;
  readonly msgType: number;
  readonly payload: Uint8Array;
  readonly channelId: number | undefined;
}

/** Plaintext of the frames being sealed, and their piece ends: shared, as a flush is synchronous. */
let scratch = Buffer.allocUnsafe(16 * 1024);
let scratchEnds = new Uint32Array(64);

/**
 * Encrypts frames with the sending cipher state. Frames can be queued and sealed together by
 * `flush`: one native call and one buffer (so one socket write) for everything a connection is
 * sent at once — a new tip's future job and SetNewPrevHash, a share's reply and a new target.
 * The bytes are exactly those of the frames sealed one by one, in the order queued.
 */
export class FrameWriter {
  private readonly queued: Queued[] = [];

  constructor(private readonly cipher: CipherState) {}

  /**
   * Queues a frame. With `channelId`, the payload's first 4 bytes (the channel_id every channel
   * message of the Mining Protocol starts with) are replaced by it in the bytes sealed, so one
   * encoded payload serves every channel; the payload itself is not changed.
   */
  queue(extensionType: number, msgType: number, payload: Uint8Array, channelId?: number): void {
    if (payload.length > 0xffffff) throw new RangeError(`msg_length: expected at most 2^24-1 bytes, got ${payload.length}`);
    if (channelId !== undefined && payload.length < 4) throw new RangeError(`channel_id: expected a payload of at least 4 bytes, got ${payload.length}`);
    this.queued.push({ extensionType, msgType, payload, channelId });
  }

  queueMessage(m: Sv2Message): void {
    this.queue(isChannelMessage(m.type) ? CHANNEL_MSG_BIT : 0, m.type, encodeMessage(m));
  }

  /** Frames queued and not yet flushed. */
  get pending(): number {
    return this.queued.length;
  }

  /** Every queued frame sealed, in the order queued, in one buffer; undefined when none was. */
  flush(): Buffer | undefined {
    const frames = this.queued;
    if (frames.length === 0) return undefined;
    let plain = 0;
    let pieces = 0;
    for (const f of frames) {
      plain += HEADER_SIZE + f.payload.length;
      pieces += 1 + Math.ceil(f.payload.length / MAX_PT_LEN);
    }
    if (scratch.length < plain) scratch = Buffer.allocUnsafe(Math.max(plain, 2 * scratch.length));
    if (scratchEnds.length < pieces) scratchEnds = new Uint32Array(Math.max(pieces, 2 * scratchEnds.length));
    let at = 0;
    let piece = 0;
    for (const f of frames) {
      // The 6-byte header (§3.2), then the payload in chunks of at most 65,519 bytes (§4.6).
      scratch.writeUInt16LE(f.extensionType, at);
      scratch[at + 2] = f.msgType;
      scratch.writeUIntLE(f.payload.length, at + 3, 3);
      at += HEADER_SIZE;
      scratchEnds[piece++] = at;
      scratch.set(f.payload, at);
      if (f.channelId !== undefined) scratch.writeUInt32LE(f.channelId, at);
      const end = at + f.payload.length;
      while (at < end) {
        at = Math.min(end, at + MAX_PT_LEN);
        scratchEnds[piece++] = at;
      }
    }
    frames.length = 0;
    const out = Buffer.allocUnsafe(plain + MAC_SIZE * pieces);
    this.cipher.encryptPieces(scratch.subarray(0, plain), scratchEnds.subarray(0, pieces), out);
    return out;
  }

  /** A whole frame: header block, then the payload's chunks (after any frames still queued). */
  frame(extensionType: number, msgType: number, payload: Uint8Array): Buffer {
    this.queue(extensionType, msgType, payload);
    return this.flush()!;
  }

  message(m: Sv2Message): Buffer {
    this.queueMessage(m);
    return this.flush()!;
  }
}

/** A header's plaintext, opened in place: shared, as push is synchronous. */
const headerPlain = Buffer.allocUnsafe(HEADER_SIZE);
const NO_BYTES = Buffer.alloc(0);

/**
 * Decrypts frames from a byte stream with the receiving cipher state. `push` returns the frames
 * completed by a chunk; it throws NoiseError on a MAC that does not verify (a wrong key, a
 * replayed or altered frame: the connection must end) and DecodeError on a length over
 * `maxPayload` (checked from the header, before any of the payload is buffered). Frames are
 * opened where they lie in the chunk; only the bytes of an unfinished frame are kept (copied).
 */
export class FrameReader {
  private buf: Buffer = NO_BYTES;
  private header: { extensionType: number; msgType: number; length: number } | undefined;

  constructor(
    private readonly cipher: CipherState,
    private readonly maxPayload: number,
  ) {}

  /** Bytes received but not yet part of a complete frame. */
  get pending(): number {
    return this.buf.length;
  }

  push(chunk: Uint8Array): Frame[] {
    // Bytes left from earlier chunks: joined with this one into a buffer of the reader's own.
    const own = this.buf.length === 0 ? undefined : Buffer.concat([this.buf, chunk]);
    const buf = own ?? chunk;
    const frames: Frame[] = [];
    let at = 0;
    try {
      for (;;) {
        if (this.header === undefined) {
          if (buf.length - at < ENCRYPTED_HEADER_SIZE) break;
          this.cipher.decryptInto(EMPTY, buf, at, ENCRYPTED_HEADER_SIZE, headerPlain, 0, 'frame header');
          at += ENCRYPTED_HEADER_SIZE;
          const length = headerPlain.readUIntLE(3, 3);
          if (length > this.maxPayload) throw new DecodeError('frame', `expected a payload of at most ${this.maxPayload} bytes, got a length of ${length}`);
          this.header = { extensionType: headerPlain.readUInt16LE(0), msgType: headerPlain[2]!, length };
        }
        const need = ciphertextLength(this.header.length);
        if (buf.length - at < need) break;
        const payload = Buffer.allocUnsafe(this.header.length);
        for (let done = 0, written = 0; done < need; ) {
          const size = Math.min(MAX_CT_LEN, need - done);
          this.cipher.decryptInto(EMPTY, buf, at + done, size, payload, written, 'frame payload');
          done += size;
          written += size - MAC_SIZE;
        }
        at += need;
        frames.push({ extensionType: this.header.extensionType, msgType: this.header.msgType, payload });
        this.header = undefined;
      }
    } finally {
      // What is left waits for the next chunk. The caller's buffer is never kept (copied); a
      // concatenation is this reader's own and is kept as it is, not copied a second time.
      this.buf = at === buf.length ? NO_BYTES : own !== undefined ? own.subarray(at) : Buffer.from(chunk.subarray(at));
    }
    return frames;
  }
}
