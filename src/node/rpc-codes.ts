// Bitcoin Core's JSON-RPC error codes the miner acts on (rpc/protocol.h), named once: a module
// of its own, so that what needs a code does not load the node link (and ZMQ) with it.
import { RpcError } from './errors.js';

/** Codes that mean "not ready yet" rather than "refused": warming up, not connected, in IBD. */
export const RPC_IN_WARMUP = -28;
export const RPC_CLIENT_NOT_CONNECTED = -9;
export const RPC_CLIENT_IN_INITIAL_DOWNLOAD = -10;

/**
 * RPC_MISC_ERROR: among others what a failed internal check answers (CHECK_NONFATAL: "Internal
 * bug detected"), a fault of the node rather than a refusal of the request. Knots 29.4.3's
 * getblocktemplate answers it at times in the first second of a node.
 */
export const RPC_MISC_ERROR = -1;

/** An RPC error that says the node is not ready yet. */
export function isNotReadyError(err: unknown): err is RpcError {
  return err instanceof RpcError && (err.code === RPC_IN_WARMUP || err.code === RPC_CLIENT_NOT_CONNECTED || err.code === RPC_CLIENT_IN_INITIAL_DOWNLOAD);
}
