/**
 * The messages of the Common and Mining protocols (sv2-spec §3.6, §5.3, the type table of §8)
 * as typed values, with their exact layouts. A message is encoded to its payload and decoded
 * from one; the frame header (frames.ts) carries the type and the channel bit.
 *
 * Byte-order traps (docs/stratum.md): every integer is little-endian; U256 values are the raw
 * 32 bytes — a target is the little-endian number (the reverse of how a hash is displayed), a
 * prev_hash and a merkle_root are the header's own bytes (internal order, no word swapping as in
 * Stratum V1); version, ntime, nbits and nonce are U32 as in the header.
 * @module
 */
import { DecodeError } from './errors.js';
import { Reader, Writer } from './codec.js';

export const MessageType = {
  SetupConnection: 0x00,
  SetupConnectionSuccess: 0x01,
  SetupConnectionError: 0x02,
  ChannelEndpointChanged: 0x03,
  Reconnect: 0x04,
  OpenStandardMiningChannel: 0x10,
  OpenStandardMiningChannelSuccess: 0x11,
  OpenMiningChannelError: 0x12,
  OpenExtendedMiningChannel: 0x13,
  OpenExtendedMiningChannelSuccess: 0x14,
  NewMiningJob: 0x15,
  UpdateChannel: 0x16,
  UpdateChannelError: 0x17,
  CloseChannel: 0x18,
  SetExtranoncePrefix: 0x19,
  SubmitSharesStandard: 0x1a,
  SubmitSharesExtended: 0x1b,
  SubmitSharesSuccess: 0x1c,
  SubmitSharesError: 0x1d,
  NewExtendedMiningJob: 0x1f,
  SetNewPrevHash: 0x20,
  SetTarget: 0x21,
  SetGroupChannel: 0x25,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Messages whose frames carry the channel_msg bit (§8). */
const CHANNEL_MESSAGES: ReadonlySet<number> = new Set([0x03, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1f, 0x20, 0x21]);

export function isChannelMessage(type: number): boolean {
  return CHANNEL_MESSAGES.has(type);
}

/** SetupConnection.flags of the Mining Protocol (§5.3.1). */
export const SetupFlags = {
  REQUIRES_STANDARD_JOBS: 1 << 0,
  REQUIRES_WORK_SELECTION: 1 << 1,
  REQUIRES_VERSION_ROLLING: 1 << 2,
} as const;

/** The Mining Protocol (SetupConnection.protocol). */
export const MINING_PROTOCOL = 0;
export const PROTOCOL_VERSION = 2;

export interface SetupConnection {
  readonly type: typeof MessageType.SetupConnection;
  readonly protocol: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly flags: number;
  readonly endpointHost: string;
  readonly endpointPort: number;
  readonly vendor: string;
  readonly hardwareVersion: string;
  readonly firmware: string;
  readonly deviceId: string;
}
export interface SetupConnectionSuccess {
  readonly type: typeof MessageType.SetupConnectionSuccess;
  readonly usedVersion: number;
  readonly flags: number;
}
export interface SetupConnectionError {
  readonly type: typeof MessageType.SetupConnectionError;
  readonly flags: number;
  readonly errorCode: string;
}
export interface Reconnect {
  readonly type: typeof MessageType.Reconnect;
  readonly newHost: string;
  readonly newPort: number;
}
export interface OpenStandardMiningChannel {
  readonly type: typeof MessageType.OpenStandardMiningChannel;
  readonly requestId: number;
  readonly userIdentity: string;
  readonly nominalHashRate: number;
  /** U256, little-endian. */
  readonly maxTarget: Uint8Array;
}
export interface OpenExtendedMiningChannel extends Omit<OpenStandardMiningChannel, 'type'> {
  readonly type: typeof MessageType.OpenExtendedMiningChannel;
  readonly minExtranonceSize: number;
}
export interface OpenStandardMiningChannelSuccess {
  readonly type: typeof MessageType.OpenStandardMiningChannelSuccess;
  readonly requestId: number;
  readonly channelId: number;
  readonly target: Uint8Array;
  readonly extranoncePrefix: Uint8Array;
  readonly groupChannelId: number;
}
export interface OpenExtendedMiningChannelSuccess {
  readonly type: typeof MessageType.OpenExtendedMiningChannelSuccess;
  readonly requestId: number;
  readonly channelId: number;
  readonly target: Uint8Array;
  readonly extranonceSize: number;
  readonly extranoncePrefix: Uint8Array;
  readonly groupChannelId: number;
}
export interface OpenMiningChannelError {
  readonly type: typeof MessageType.OpenMiningChannelError;
  readonly requestId: number;
  readonly errorCode: string;
}
export interface NewMiningJob {
  readonly type: typeof MessageType.NewMiningJob;
  readonly channelId: number;
  readonly jobId: number;
  /** Absent: a future job, activated by SetNewPrevHash. */
  readonly minNtime: number | undefined;
  readonly version: number;
  /** The header's merkle root, internal byte order. */
  readonly merkleRoot: Uint8Array;
}
export interface UpdateChannel {
  readonly type: typeof MessageType.UpdateChannel;
  readonly channelId: number;
  readonly nominalHashRate: number;
  readonly maximumTarget: Uint8Array;
}
export interface UpdateChannelError {
  readonly type: typeof MessageType.UpdateChannelError;
  readonly channelId: number;
  readonly errorCode: string;
}
export interface CloseChannel {
  readonly type: typeof MessageType.CloseChannel;
  readonly channelId: number;
  readonly reasonCode: string;
}
export interface SetExtranoncePrefix {
  readonly type: typeof MessageType.SetExtranoncePrefix;
  readonly channelId: number;
  readonly extranoncePrefix: Uint8Array;
}
export interface SubmitSharesStandard {
  readonly type: typeof MessageType.SubmitSharesStandard;
  readonly channelId: number;
  readonly sequenceNumber: number;
  readonly jobId: number;
  readonly nonce: number;
  readonly ntime: number;
  /** The full header version. */
  readonly version: number;
}
export interface SubmitSharesExtended extends Omit<SubmitSharesStandard, 'type'> {
  readonly type: typeof MessageType.SubmitSharesExtended;
  readonly extranonce: Uint8Array;
}
export interface SubmitSharesSuccess {
  readonly type: typeof MessageType.SubmitSharesSuccess;
  readonly channelId: number;
  readonly lastSequenceNumber: number;
  readonly newSubmitsAcceptedCount: number;
  readonly newSharesSum: bigint;
}
export interface SubmitSharesError {
  readonly type: typeof MessageType.SubmitSharesError;
  readonly channelId: number;
  readonly sequenceNumber: number;
  readonly errorCode: string;
}
export interface NewExtendedMiningJob {
  readonly type: typeof MessageType.NewExtendedMiningJob;
  readonly channelId: number;
  readonly jobId: number;
  readonly minNtime: number | undefined;
  readonly version: number;
  readonly versionRollingAllowed: boolean;
  /** Internal byte order, deepest first. */
  readonly merklePath: readonly Uint8Array[];
  /** The coinbase without BIP141 fields, before extranonce_prefix ‖ extranonce. */
  readonly coinbaseTxPrefix: Uint8Array;
  readonly coinbaseTxSuffix: Uint8Array;
}
export interface SetNewPrevHash {
  readonly type: typeof MessageType.SetNewPrevHash;
  readonly channelId: number;
  readonly jobId: number;
  /** The header's previous-block hash, internal byte order. */
  readonly prevHash: Uint8Array;
  readonly minNtime: number;
  readonly nbits: number;
}
export interface SetTarget {
  readonly type: typeof MessageType.SetTarget;
  readonly channelId: number;
  readonly maximumTarget: Uint8Array;
}

export type Sv2Message =
  | SetupConnection
  | SetupConnectionSuccess
  | SetupConnectionError
  | Reconnect
  | OpenStandardMiningChannel
  | OpenStandardMiningChannelSuccess
  | OpenExtendedMiningChannel
  | OpenExtendedMiningChannelSuccess
  | OpenMiningChannelError
  | NewMiningJob
  | UpdateChannel
  | UpdateChannelError
  | CloseChannel
  | SetExtranoncePrefix
  | SubmitSharesStandard
  | SubmitSharesExtended
  | SubmitSharesSuccess
  | SubmitSharesError
  | NewExtendedMiningJob
  | SetNewPrevHash
  | SetTarget;

/** The payload of `m` (the frame header is frames.ts's business). */
export function encodeMessage(m: Sv2Message): Buffer {
  const w = new Writer();
  switch (m.type) {
    case MessageType.SetupConnection:
      w.u8(m.protocol).u16(m.minVersion).u16(m.maxVersion).u32(m.flags).str(m.endpointHost, 'endpoint_host').u16(m.endpointPort);
      w.str(m.vendor, 'vendor').str(m.hardwareVersion, 'hardware_version').str(m.firmware, 'firmware').str(m.deviceId, 'device_id');
      break;
    case MessageType.SetupConnectionSuccess:
      w.u16(m.usedVersion).u32(m.flags);
      break;
    case MessageType.SetupConnectionError:
      w.u32(m.flags).str(m.errorCode, 'error_code');
      break;
    case MessageType.Reconnect:
      w.str(m.newHost, 'new_host').u16(m.newPort);
      break;
    case MessageType.OpenStandardMiningChannel:
      w.u32(m.requestId).str(m.userIdentity, 'user_identity').f32(m.nominalHashRate).u256(m.maxTarget, 'max_target');
      break;
    case MessageType.OpenExtendedMiningChannel:
      w.u32(m.requestId).str(m.userIdentity, 'user_identity').f32(m.nominalHashRate).u256(m.maxTarget, 'max_target').u16(m.minExtranonceSize);
      break;
    case MessageType.OpenStandardMiningChannelSuccess:
      w.u32(m.requestId).u32(m.channelId).u256(m.target, 'target').b0(1, 32, m.extranoncePrefix, 'extranonce_prefix').u32(m.groupChannelId);
      break;
    case MessageType.OpenExtendedMiningChannelSuccess:
      w.u32(m.requestId).u32(m.channelId).u256(m.target, 'target').u16(m.extranonceSize).b0(1, 32, m.extranoncePrefix, 'extranonce_prefix').u32(m.groupChannelId);
      break;
    case MessageType.OpenMiningChannelError:
      w.u32(m.requestId).str(m.errorCode, 'error_code');
      break;
    case MessageType.NewMiningJob:
      w.u32(m.channelId).u32(m.jobId).option32(m.minNtime).u32(m.version).u256(m.merkleRoot, 'merkle_root');
      break;
    case MessageType.UpdateChannel:
      w.u32(m.channelId).f32(m.nominalHashRate).u256(m.maximumTarget, 'maximum_target');
      break;
    case MessageType.UpdateChannelError:
      w.u32(m.channelId).str(m.errorCode, 'error_code');
      break;
    case MessageType.CloseChannel:
      w.u32(m.channelId).str(m.reasonCode, 'reason_code');
      break;
    case MessageType.SetExtranoncePrefix:
      w.u32(m.channelId).b0(1, 32, m.extranoncePrefix, 'extranonce_prefix');
      break;
    case MessageType.SubmitSharesStandard:
      w.u32(m.channelId).u32(m.sequenceNumber).u32(m.jobId).u32(m.nonce).u32(m.ntime).u32(m.version);
      break;
    case MessageType.SubmitSharesExtended:
      w.u32(m.channelId).u32(m.sequenceNumber).u32(m.jobId).u32(m.nonce).u32(m.ntime).u32(m.version).b0(1, 32, m.extranonce, 'extranonce');
      break;
    case MessageType.SubmitSharesSuccess:
      w.u32(m.channelId).u32(m.lastSequenceNumber).u32(m.newSubmitsAcceptedCount).u64(m.newSharesSum);
      break;
    case MessageType.SubmitSharesError:
      w.u32(m.channelId).u32(m.sequenceNumber).str(m.errorCode, 'error_code');
      break;
    case MessageType.NewExtendedMiningJob:
      w.u32(m.channelId).u32(m.jobId).option32(m.minNtime).u32(m.version).bool(m.versionRollingAllowed).seq256(m.merklePath, 'merkle_path');
      w.b0(2, 0xffff, m.coinbaseTxPrefix, 'coinbase_tx_prefix').b0(2, 0xffff, m.coinbaseTxSuffix, 'coinbase_tx_suffix');
      break;
    case MessageType.SetNewPrevHash:
      w.u32(m.channelId).u32(m.jobId).u256(m.prevHash, 'prev_hash').u32(m.minNtime).u32(m.nbits);
      break;
    case MessageType.SetTarget:
      w.u32(m.channelId).u256(m.maximumTarget, 'maximum_target');
      break;
  }
  return Buffer.from(w.finish());
}

/** Names for logs and errors. */
export const MESSAGE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(MessageType).map(([name, code]) => [code, name.replace(/(Success|Error)$/, '.$1')]),
);

export function messageName(type: number): string {
  return MESSAGE_NAMES[type] ?? `message 0x${type.toString(16).padStart(2, '0')}`;
}

/** The message of type `type` in `payload`, or DecodeError naming the field; undefined for a type not listed in §8 here. */
export function decodeMessage(type: number, payload: Uint8Array): Sv2Message | undefined {
  const r = new Reader(payload, messageName(type));
  let m: Sv2Message;
  switch (type) {
    case MessageType.SetupConnection:
      m = {
        type,
        protocol: r.u8('protocol'),
        minVersion: r.u16('min_version'),
        maxVersion: r.u16('max_version'),
        flags: r.u32('flags'),
        endpointHost: r.str('endpoint_host'),
        endpointPort: r.u16('endpoint_port'),
        vendor: r.str('vendor'),
        hardwareVersion: r.str('hardware_version'),
        firmware: r.str('firmware'),
        deviceId: r.str('device_id'),
      };
      break;
    case MessageType.SetupConnectionSuccess:
      m = { type, usedVersion: r.u16('used_version'), flags: r.u32('flags') };
      break;
    case MessageType.SetupConnectionError:
      m = { type, flags: r.u32('flags'), errorCode: r.str('error_code') };
      break;
    case MessageType.Reconnect:
      m = { type, newHost: r.str('new_host'), newPort: r.u16('new_port') };
      break;
    case MessageType.OpenStandardMiningChannel:
      m = { type, requestId: r.u32('request_id'), userIdentity: r.str('user_identity'), nominalHashRate: r.f32('nominal_hash_rate'), maxTarget: r.u256('max_target') };
      break;
    case MessageType.OpenExtendedMiningChannel:
      m = {
        type,
        requestId: r.u32('request_id'),
        userIdentity: r.str('user_identity'),
        nominalHashRate: r.f32('nominal_hash_rate'),
        maxTarget: r.u256('max_target'),
        minExtranonceSize: r.u16('min_extranonce_size'),
      };
      break;
    case MessageType.OpenStandardMiningChannelSuccess:
      m = { type, requestId: r.u32('request_id'), channelId: r.u32('channel_id'), target: r.u256('target'), extranoncePrefix: r.b0(1, 32, 'extranonce_prefix'), groupChannelId: r.u32('group_channel_id') };
      break;
    case MessageType.OpenExtendedMiningChannelSuccess:
      m = {
        type,
        requestId: r.u32('request_id'),
        channelId: r.u32('channel_id'),
        target: r.u256('target'),
        extranonceSize: r.u16('extranonce_size'),
        extranoncePrefix: r.b0(1, 32, 'extranonce_prefix'),
        groupChannelId: r.u32('group_channel_id'),
      };
      break;
    case MessageType.OpenMiningChannelError:
      m = { type, requestId: r.u32('request_id'), errorCode: r.str('error_code') };
      break;
    case MessageType.NewMiningJob:
      m = { type, channelId: r.u32('channel_id'), jobId: r.u32('job_id'), minNtime: r.option32('min_ntime'), version: r.u32('version'), merkleRoot: r.u256('merkle_root') };
      break;
    case MessageType.UpdateChannel:
      m = { type, channelId: r.u32('channel_id'), nominalHashRate: r.f32('nominal_hash_rate'), maximumTarget: r.u256('maximum_target') };
      break;
    case MessageType.UpdateChannelError:
      m = { type, channelId: r.u32('channel_id'), errorCode: r.str('error_code') };
      break;
    case MessageType.CloseChannel:
      m = { type, channelId: r.u32('channel_id'), reasonCode: r.str('reason_code') };
      break;
    case MessageType.SetExtranoncePrefix:
      m = { type, channelId: r.u32('channel_id'), extranoncePrefix: r.b0(1, 32, 'extranonce_prefix') };
      break;
    case MessageType.SubmitSharesStandard:
      m = { type, channelId: r.u32('channel_id'), sequenceNumber: r.u32('sequence_number'), jobId: r.u32('job_id'), nonce: r.u32('nonce'), ntime: r.u32('ntime'), version: r.u32('version') };
      break;
    case MessageType.SubmitSharesExtended:
      m = {
        type,
        channelId: r.u32('channel_id'),
        sequenceNumber: r.u32('sequence_number'),
        jobId: r.u32('job_id'),
        nonce: r.u32('nonce'),
        ntime: r.u32('ntime'),
        version: r.u32('version'),
        extranonce: r.b0(1, 32, 'extranonce'),
      };
      break;
    case MessageType.SubmitSharesSuccess:
      m = { type, channelId: r.u32('channel_id'), lastSequenceNumber: r.u32('last_sequence_number'), newSubmitsAcceptedCount: r.u32('new_submits_accepted_count'), newSharesSum: r.u64('new_shares_sum') };
      break;
    case MessageType.SubmitSharesError:
      m = { type, channelId: r.u32('channel_id'), sequenceNumber: r.u32('sequence_number'), errorCode: r.str('error_code') };
      break;
    case MessageType.NewExtendedMiningJob:
      m = {
        type,
        channelId: r.u32('channel_id'),
        jobId: r.u32('job_id'),
        minNtime: r.option32('min_ntime'),
        version: r.u32('version'),
        versionRollingAllowed: r.bool('version_rolling_allowed'),
        merklePath: r.seq256('merkle_path'),
        coinbaseTxPrefix: r.b0(2, 0xffff, 'coinbase_tx_prefix'),
        coinbaseTxSuffix: r.b0(2, 0xffff, 'coinbase_tx_suffix'),
      };
      break;
    case MessageType.SetNewPrevHash:
      m = { type, channelId: r.u32('channel_id'), jobId: r.u32('job_id'), prevHash: r.u256('prev_hash'), minNtime: r.u32('min_ntime'), nbits: r.u32('nbits') };
      break;
    case MessageType.SetTarget:
      m = { type, channelId: r.u32('channel_id'), maximumTarget: r.u256('maximum_target') };
      break;
    default:
      return undefined;
  }
  // Bytes after the last field are TLV fields of extensions (§3.4.3): none is negotiated on this
  // pool, and a recipient ignores what it does not know, so they are not an error.
  return m;
}

/** A decode that must succeed (the caller checked the type). */
export function decodeKnown(type: number, payload: Uint8Array): Sv2Message {
  const m = decodeMessage(type, payload);
  if (!m) throw new DecodeError(messageName(type), 'not a message of the Common or Mining protocol');
  return m;
}
