// The node's RPC credentials: a user and password, or Bitcoin Core's cookie file. The cookie is
// rewritten at every node restart, so it is read when first needed and read again when the
// node refuses it (RpcClient calls `refresh()` on HTTP 401 and retries once). The password is
// held here and nowhere else; messages name the user or the cookie's path, never the secret.
import { readFile } from 'node:fs/promises';

import { NodeAuthError, NodeCookieError, NodeUnreachableError } from './errors.js';

export type Credentials =
  | { readonly kind: 'password'; readonly user: string; readonly password: string }
  | { readonly kind: 'cookie'; readonly path: string };

/** The connection settings of a configuration (MineConfig has these fields). */
export interface NodeSettings {
  readonly rpcUrl: string;
  readonly rpcUser?: string | undefined;
  readonly rpcPassword?: string | undefined;
  readonly rpcCookie?: string | undefined;
  /** PEM file of a certificate authority trusted for an https:// rpcUrl. */
  readonly rpcCa?: string | undefined;
}

/** Password login when both user and password are set, else the cookie file. */
export function credentialsOf(settings: NodeSettings): Credentials {
  if (settings.rpcUser !== undefined && settings.rpcPassword !== undefined) {
    return { kind: 'password', user: settings.rpcUser, password: settings.rpcPassword };
  }
  if (settings.rpcCookie === undefined) throw new TypeError('credentialsOf: expected rpcUser and rpcPassword, or rpcCookie');
  return { kind: 'cookie', path: settings.rpcCookie };
}

export interface Login {
  readonly username: string;
  readonly password: string;
}

export class CredentialStore {
  private login: Login | undefined;
  /** The cookie was read at least once (so a 401 may mean it changed since). */
  private cookieRead = false;

  constructor(
    readonly credentials: Credentials,
    private readonly url: string,
  ) {}

  /** The login to use now; reads the cookie file the first time. */
  async current(): Promise<Login> {
    if (this.login) return this.login;
    if (this.credentials.kind === 'password') {
      this.login = { username: this.credentials.user, password: this.credentials.password };
      return this.login;
    }
    let text: string;
    try {
      text = await readFile(this.credentials.path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      if (code === 'EACCES' || code === 'EPERM' || code === 'EISDIR') throw new NodeCookieError(this.url, this.credentials.path, code);
      // Missing while the node starts up is a transport-like condition: callers retry it.
      throw new NodeUnreachableError(this.url, `cannot read the RPC cookie ${this.credentials.path}: ${code}`);
    }
    const colon = text.indexOf(':');
    if (colon < 0) throw new NodeAuthError(this.url, `the cookie file ${this.credentials.path} is malformed`);
    this.cookieRead = true;
    this.login = { username: text.slice(0, colon), password: text.slice(colon + 1).trim() };
    return this.login;
  }

  /**
   * The node refused the login: true when a fresh read of the cookie is worth a retry (a
   * restarted node wrote a new one); a refused password cannot get better by itself.
   */
  refresh(): boolean {
    if (this.credentials.kind !== 'cookie' || !this.cookieRead) return false;
    this.login = undefined;
    return true;
  }

  /** What was refused, for NodeAuthError: the cookie's path or the user, never the secret. */
  describe(): string {
    return this.credentials.kind === 'cookie'
      ? `cookie ${this.credentials.path} was not accepted`
      : `user ${JSON.stringify(this.credentials.user)} with the given password`;
  }
}
