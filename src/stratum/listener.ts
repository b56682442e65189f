/**
 * What the pool's wires (v1/server.ts, v2/server.ts) share of TCP: listening on host:port with
 * one line naming the flag when the port cannot be had, admitting a connection against the
 * pool's one budget, and closing with every socket.
 * @module
 */
import type { Server, Socket } from 'node:net';

import { StratumListenError, type PoolCore, type WireProtocol } from './pool-core.js';

/** Listens; StratumListenError naming `flag` when the port cannot be had. Returns the bound host and port. */
export async function listenOn(server: Server, host: string, port: number, flag: string, core: PoolCore, label: string): Promise<{ host: string; port: number; family: string }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new StratumListenError(`${flag}: cannot listen on ${host}:${port}: ${err.code ?? err.message}`)));
    server.listen(port, host, () => resolve());
  });
  server.on('error', (err) => core.emit('warning', `${label}: ${err.message}`));
  const addr = server.address();
  return addr && typeof addr === 'object' ? { host: addr.address, port: addr.port, family: addr.family } : { host, port, family: 'IPv4' };
}

/** A new socket counted against the pool's budget: its address and remote, or undefined (closed). */
export function admit(core: PoolCore, socket: Socket, protocol: WireProtocol): { address: string; remote: string } | undefined {
  const address = socket.remoteAddress ?? 'unknown';
  const remote = `${address}:${socket.remotePort ?? 0}`;
  if (core.admit(address, remote, protocol) !== undefined) {
    socket.destroy();
    return undefined;
  }
  return { address, remote };
}

/** Stops listening and closes every connection. */
export function closeAll(server: Server, sockets: Iterable<Socket>): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    for (const s of sockets) s.destroy();
  });
}
