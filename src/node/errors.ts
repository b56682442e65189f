// Errors of the node layer. Each message is one line a user can act on and never contains a
// password or cookie.

/** The node answered a call with a JSON-RPC error (the call reached it). */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
  ) {
    super(`${method}: node error ${code}: ${message}`);
  }
}

/** The call did not reach the node or got no answer: refused, reset, timed out, HTTP 5xx. */
export class NodeUnreachableError extends Error {
  override readonly name = 'NodeUnreachableError';
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`node at ${url} is unreachable (${reason})`);
  }
}

/**
 * The cookie file exists but this process may not read it (EACCES, EPERM) or it is a folder: a
 * problem of configuration (its permissions, the user the miner runs as), which waiting does not
 * fix, unlike a cookie not written yet. A NodeUnreachableError still for callers after start-up.
 */
export class NodeCookieError extends NodeUnreachableError {
  constructor(
    url: string,
    readonly path: string,
    readonly code: string,
  ) {
    super(url, `cannot read the RPC cookie ${path}: ${code}`);
  }
}

/** The node refused the credentials (HTTP 401), also after re-reading the cookie. */
export class NodeAuthError extends Error {
  override readonly name = 'NodeAuthError';
  constructor(readonly url: string, detail: string) {
    super(`node at ${url} refused the RPC credentials (${detail})`);
  }
}

/** The node is reachable but not fit to mine on: another chain, in IBD, no ZMQ, ... */
export class NodeStateError extends Error {
  override readonly name = 'NodeStateError';
}

/**
 * The node's TLS endpoint cannot be trusted or spoken to (an https:// --rpc-url): a problem of
 * configuration, not of the network. `field` is the flag to fix, without its dashes.
 */
export class NodeTlsError extends Error {
  override readonly name = 'NodeTlsError';
  constructor(
    readonly url: string,
    detail: string,
    readonly field: 'rpc-ca' | 'rpc-url',
  ) {
    super(`node at ${url}: ${detail}`);
  }
}
