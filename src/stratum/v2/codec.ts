/**
 * The data types of sv2-spec §3.1, little-endian throughout: a reader that names the field it
 * could not read (`<message>.<field>: expected …, got …`) and a writer that refuses a value out
 * of its type's range instead of truncating it.
 * @module
 */
import { DecodeError } from './errors.js';

export class Reader {
  private at = 0;
  private readonly view: Buffer;

  constructor(
    bytes: Uint8Array,
    /** The message being read, for errors. */
    private readonly what: string,
  ) {
    this.view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  private need(n: number, field: string): number {
    if (this.at + n > this.view.length) {
      throw new DecodeError(`${this.what}.${field}`, `expected ${n} more bytes, got ${this.view.length - this.at} (a truncated message)`);
    }
    const at = this.at;
    this.at += n;
    return at;
  }

  u8(field: string): number {
    return this.view[this.need(1, field)]!;
  }

  u16(field: string): number {
    return this.view.readUInt16LE(this.need(2, field));
  }

  u24(field: string): number {
    return this.view.readUIntLE(this.need(3, field), 3);
  }

  u32(field: string): number {
    return this.view.readUInt32LE(this.need(4, field));
  }

  u64(field: string): bigint {
    return this.view.readBigUInt64LE(this.need(8, field));
  }

  f32(field: string): number {
    return this.view.readFloatLE(this.need(4, field));
  }

  bool(field: string): boolean {
    // §3.1: only the least significant bit means anything.
    return (this.u8(field) & 1) === 1;
  }

  bytes(n: number, field: string): Buffer {
    const at = this.need(n, field);
    return Buffer.from(this.view.subarray(at, at + n));
  }

  u256(field: string): Buffer {
    return this.bytes(32, field);
  }

  /** B0_32, B0_255 (max 255), B0_64K. */
  b0(lengthBytes: 1 | 2 | 3, max: number, field: string): Buffer {
    const n = lengthBytes === 1 ? this.u8(field) : lengthBytes === 2 ? this.u16(field) : this.u24(field);
    if (n > max) throw new DecodeError(`${this.what}.${field}`, `expected at most ${max} bytes, got a length of ${n}`);
    return this.bytes(n, field);
  }

  /** STR0_255: printable text is the peer's business; control characters are refused (§3.5). */
  str(field: string): string {
    const raw = this.b0(1, 255, field);
    return raw.toString('utf8');
  }

  option32(field: string): number | undefined {
    const n = this.u8(field);
    if (n === 0) return undefined;
    if (n !== 1) throw new DecodeError(`${this.what}.${field}`, `expected an OPTION of 0 or 1 elements, got ${n}`);
    return this.u32(field);
  }

  seq256(field: string, max = 255): Buffer[] {
    const n = this.u8(field);
    if (n > max) throw new DecodeError(`${this.what}.${field}`, `expected at most ${max} hashes, got ${n}`);
    const out: Buffer[] = [];
    for (let i = 0; i < n; i++) out.push(this.u256(`${field}[${i}]`));
    return out;
  }
}

export class Writer {
  private buf = Buffer.alloc(64);
  private at = 0;

  private room(n: number): number {
    if (this.at + n > this.buf.length) {
      const next = Buffer.alloc(Math.max(this.buf.length * 2, this.at + n));
      this.buf.copy(next, 0, 0, this.at);
      this.buf = next;
    }
    const at = this.at;
    this.at += n;
    return at;
  }

  private range(v: number, max: number, field: string): number {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${field}: expected an integer 0..${max}, got ${v}`);
    return v;
  }

  // Each write takes its offset first: room() may replace the buffer.
  u8(v: number, field = 'u8'): this {
    const value = this.range(v, 0xff, field);
    const at = this.room(1);
    this.buf[at] = value;
    return this;
  }

  u16(v: number, field = 'u16'): this {
    const value = this.range(v, 0xffff, field);
    const at = this.room(2);
    this.buf.writeUInt16LE(value, at);
    return this;
  }

  u24(v: number, field = 'u24'): this {
    const value = this.range(v, 0xffffff, field);
    const at = this.room(3);
    this.buf.writeUIntLE(value, at, 3);
    return this;
  }

  u32(v: number, field = 'u32'): this {
    const value = this.range(v, 0xffffffff, field);
    const at = this.room(4);
    this.buf.writeUInt32LE(value, at);
    return this;
  }

  u64(v: bigint): this {
    const at = this.room(8);
    this.buf.writeBigUInt64LE(v, at);
    return this;
  }

  f32(v: number): this {
    const at = this.room(4);
    this.buf.writeFloatLE(v, at);
    return this;
  }

  bool(v: boolean): this {
    return this.u8(v ? 1 : 0);
  }

  bytes(b: Uint8Array): this {
    const at = this.room(b.length);
    this.buf.set(b, at);
    return this;
  }

  u256(b: Uint8Array, field = 'u256'): this {
    if (b.length !== 32) throw new RangeError(`${field}: expected 32 bytes, got ${b.length}`);
    return this.bytes(b);
  }

  b0(lengthBytes: 1 | 2 | 3, max: number, b: Uint8Array, field = 'bytes'): this {
    if (b.length > max) throw new RangeError(`${field}: expected at most ${max} bytes, got ${b.length}`);
    if (lengthBytes === 1) this.u8(b.length);
    else if (lengthBytes === 2) this.u16(b.length);
    else this.u24(b.length);
    return this.bytes(b);
  }

  str(s: string, field = 'string'): this {
    return this.b0(1, 255, Buffer.from(s, 'utf8'), field);
  }

  option32(v: number | undefined): this {
    return v === undefined ? this.u8(0) : this.u8(1).u32(v);
  }

  seq256(list: readonly Uint8Array[], field = 'sequence'): this {
    this.u8(list.length, field);
    for (const h of list) this.u256(h, field);
    return this;
  }

  get length(): number {
    return this.at;
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}

/** Text a peer may have sent: control characters replaced, for logs and error replies (§3.5). */
export function printable(text: string, max = 64): string {
  return text.replace(/[\x00-\x1f\x7f]/g, '?').slice(0, max);
}
