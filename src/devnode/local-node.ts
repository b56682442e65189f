// A private bitcoind that `solominer demo` and the integration tests start and stop: regtest or
// a private signet (challenge OP_TRUE), in its own data directory, on free local ports, with
// cookie authentication and (by default) a ZMQ hashblock publisher. Tests also start mainnet
// nodes cut off from the network (no seeds, no outbound connections): at height 0, without
// peers or in initial block download, as a real node is before it has synced.
//
// Not part of the mining path: a supervisor of throwaway nodes. Every started node is tracked:
// `stopAll()` stops them all; a process 'exit' hook SIGKILLs what is left and removes the
// temporary data directories; `stopNodesOnSignals()` (opt-in, for programs without signal
// handlers of their own) stops them on SIGINT/SIGTERM/SIGHUP.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { constants as fsConstants, existsSync, rmSync } from 'node:fs';
import { access, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { NodeUnreachableError, RpcError } from '../node/errors.js';
import { RpcClient } from '../node/rpc-client.js';

export type LocalNetwork = 'regtest' | 'signet' | 'main';

export interface LocalNodeOptions {
  /** 'regtest', or 'signet' for a private signet with challenge 51 (OP_TRUE) and no peers. */
  readonly network: LocalNetwork;
  /** The bitcoind to run; else $BITCOIND, else `bitcoind` on PATH, else scripts/provision-node.sh. */
  readonly bitcoind?: string;
  /** Data directory to use (kept on stop); else a fresh temporary one, removed on stop. */
  readonly datadir?: string;
  /** Publish hashblock over ZMQ on a free local port (default true). */
  readonly zmq?: boolean;
  /** More bitcoind arguments, appended last. */
  readonly extraArgs?: readonly string[];
  /** Accept P2P connections on a free local port (`p2pPort`), so other local nodes can peer with it. */
  readonly listen?: boolean;
  /** How long to wait for RPC to answer (default 60 s). */
  readonly startTimeoutMs?: number;
  /** Progress lines and the node's own stdout/stderr. */
  readonly log?: (line: string) => void;
}

/** A node that could not be started (or stopped): one line, with the end of its debug.log. */
export class LocalNodeError extends Error {
  override readonly name = 'LocalNodeError';
}

const DEFAULT_START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const RPC_WARMING_UP = -28;

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  exit: Exit | undefined;
  stderr: string[];
}

const live = new Set<LocalNode>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A process that ends with nodes still running kills them (synchronously: 'exit' allows
  // nothing else) and removes their temporary data directories.
  process.on('exit', () => {
    for (const node of live) node.killSync();
  });
}

let signalCleanupInstalled = false;

/**
 * Opt-in for programs that do not handle SIGINT/SIGTERM/SIGHUP themselves (test files): on such a
 * signal, stop every node (removing their temporary data directories), then let the signal take
 * its usual effect. `demo` has handlers of its own and does not call this.
 */
export function stopNodesOnSignals(): void {
  if (signalCleanupInstalled) return;
  signalCleanupInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      process.removeListener(signal, handler);
      void stopAll().finally(() => process.kill(process.pid, signal));
    };
    process.on(signal, handler);
  }
}

/** Stop every node started by this process (for a SIGINT handler). Never throws. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((n) => n.stop().catch(() => undefined)));
}

export class LocalNode {
  readonly network: LocalNetwork;
  readonly bitcoind: string;
  readonly datadir: string;
  readonly rpcPort: number;
  readonly rpcUrl: string;
  /** Where the node writes its cookie (<datadir>/<regtest|signet>/.cookie). */
  readonly cookiePath: string;
  /** tcp://127.0.0.1:<port> of the hashblock publisher; undefined with zmq: false. */
  readonly zmqEndpoint: string | undefined;
  /** The P2P port on 127.0.0.1 with listen: true. */
  readonly p2pPort: number | undefined;
  /** A client for this node; it survives restart() (it re-reads the cookie on HTTP 401). */
  readonly rpc: RpcClient;

  private readonly ownsDatadir: boolean;
  private readonly args: readonly string[];
  private readonly startTimeoutMs: number;
  private readonly logFn: ((line: string) => void) | undefined;
  private running: Running | undefined;
  private stopping: Promise<void> | undefined;
  private removed = false;

  private constructor(init: {
    network: LocalNetwork;
    bitcoind: string;
    datadir: string;
    ownsDatadir: boolean;
    rpcPort: number;
    zmqPort: number | undefined;
    p2pPort: number | undefined;
    extraArgs: readonly string[];
    startTimeoutMs: number;
    log: ((line: string) => void) | undefined;
  }) {
    this.network = init.network;
    this.bitcoind = init.bitcoind;
    this.datadir = init.datadir;
    this.ownsDatadir = init.ownsDatadir;
    this.rpcPort = init.rpcPort;
    this.rpcUrl = `http://127.0.0.1:${init.rpcPort}`;
    this.cookiePath = init.network === 'main' ? join(init.datadir, '.cookie') : join(init.datadir, init.network, '.cookie');
    this.zmqEndpoint = init.zmqPort === undefined ? undefined : `tcp://127.0.0.1:${init.zmqPort}`;
    this.p2pPort = init.p2pPort;
    this.startTimeoutMs = init.startTimeoutMs;
    this.logFn = init.log;
    this.rpc = new RpcClient({ url: this.rpcUrl, credentials: { kind: 'cookie', path: this.cookiePath } });
    this.args = [
      // Mainnet with no seeds and no outbound connections: a node that never syncs.
      ...(init.network === 'regtest' ? ['-regtest'] : init.network === 'signet' ? ['-signet', '-signetchallenge=51'] : ['-dnsseed=0', '-fixedseeds=0']),
      `-datadir=${init.datadir}`,
      '-server',
      ...(init.p2pPort === undefined ? ['-listen=0'] : ['-listen=1', `-bind=127.0.0.1:${init.p2pPort}`, '-listenonion=0', '-discover=0']),
      '-connect=0',
      `-rpcport=${init.rpcPort}`,
      '-rpcbind=127.0.0.1',
      '-rpcallowip=127.0.0.1',
      '-fallbackfee=0.0001',
      '-txindex=0',
      '-printtoconsole=0',
      ...(this.zmqEndpoint ? [`-zmqpubhashblock=${this.zmqEndpoint}`] : []),
      ...init.extraArgs,
    ];
  }

  static async start(options: LocalNodeOptions): Promise<LocalNode> {
    if (options.network !== 'regtest' && options.network !== 'signet' && options.network !== 'main') {
      throw new LocalNodeError(`LocalNode runs 'regtest', a private 'signet' or an isolated 'main', not ${JSON.stringify(options.network)}`);
    }
    const bitcoind = await resolveBitcoind(options.bitcoind);
    const ownsDatadir = options.datadir === undefined;
    // Ports are found free and then handed to bitcoind: another process may take one in
    // between. A bind failure at start is retried on fresh ports.
    installExitHook();
    for (let attempt = 1; ; attempt++) {
      const ports = await freePorts((options.zmq === false ? 1 : 2) + (options.listen === true ? 1 : 0));
      const rpcPort = ports[0];
      const zmqPort = options.zmq === false ? undefined : ports[1];
      const p2pPort = options.listen === true ? ports.at(-1) : undefined;
      const datadir = options.datadir ?? (await mkdtemp(join(tmpdir(), `solominer-${options.network}-`)));
      // Tracked from here on, so that an exit or signal removes the new datadir.
      const node = new LocalNode({
        network: options.network,
        bitcoind,
        datadir,
        ownsDatadir,
        rpcPort: rpcPort!,
        zmqPort,
        p2pPort,
        extraArgs: options.extraArgs ?? [],
        startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
        log: options.log,
      });
      live.add(node);
      try {
        await node.launch();
        return node;
      } catch (err) {
        await node.stop().catch(() => undefined);
        if (attempt < 3 && err instanceof LocalNodeError && /bind|address already in use/i.test(err.message) && !/-bind/.test(err.message)) {
          node.log(`retrying on other ports: ${err.message}`);
          continue;
        }
        throw err;
      }
    }
  }

  /** The running bitcoind's process id (undefined when it is not running). */
  get pid(): number | undefined {
    return this.running && !this.running.exit ? this.running.child.pid : undefined;
  }

  /** Whether the bitcoind process is alive. */
  get isRunning(): boolean {
    return this.running !== undefined && this.running.exit === undefined;
  }

  /**
   * Stop the node: RPC `stop`, wait for the process to exit, SIGKILL after a time limit; then
   * remove the data directory if start() created it. Idempotent.
   */
  async stop(): Promise<void> {
    await this.halt();
    live.delete(this);
    if (this.ownsDatadir && !this.removed) {
      this.removed = true;
      await rm(this.datadir, { recursive: true, force: true, maxRetries: 3 });
    }
  }

  /**
   * Stop and start again with the same data directory and ports (a new cookie is written);
   * `extraArgs` for this start only (`-reindex`).
   */
  async restart(extraArgs: readonly string[] = []): Promise<void> {
    if (this.removed) throw new LocalNodeError(`the node in ${this.datadir} was stopped and its data directory removed`);
    await this.halt();
    await this.launch(extraArgs);
  }

  /** Connects to `other` (which listens) as a peer; resolves once both count the connection. */
  async connect(other: LocalNode): Promise<void> {
    if (other.p2pPort === undefined) throw new LocalNodeError('connect: the other node does not listen (start it with listen: true)');
    await this.rpc.call('addnode', `127.0.0.1:${other.p2pPort}`, 'onetry');
    const deadline = Date.now() + 10_000;
    while ((await other.rpc.call<number>('getconnectioncount')) === 0) {
      if (Date.now() > deadline) throw new LocalNodeError(`connect: no connection to 127.0.0.1:${other.p2pPort} within 10 s`);
      await sleep(50);
    }
  }

  /** SIGKILL the node (a crash); resolves once it has exited. restart() brings it back. */
  async kill(): Promise<void> {
    const r = this.running;
    if (!r || r.exit) return;
    r.child.ref(); // the child is unref'd (see launch): hold the event loop while waiting
    r.child.kill('SIGKILL');
    await r.exited;
  }

  /** @internal synchronous last resort for the process 'exit' hook. */
  killSync(): void {
    const r = this.running;
    if (r && !r.exit && r.child.pid !== undefined) {
      try {
        process.kill(r.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (this.ownsDatadir && !this.removed) {
      this.removed = true;
      try {
        rmSync(this.datadir, { recursive: true, force: true });
      } catch {
        // best effort
      }
    }
  }

  private log(line: string): void {
    this.logFn?.(line);
  }

  private async launch(extraArgs: readonly string[] = []): Promise<void> {
    installExitHook();
    live.add(this);
    const args = [...this.args, ...extraArgs];
    this.log(`starting ${this.bitcoind} ${args.join(' ')}`);
    const child = spawn(this.bitcoind, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let resolveExit!: (e: Exit) => void;
    const running: Running = {
      child,
      exit: undefined,
      stderr: [],
      exited: new Promise<Exit>((resolve) => (resolveExit = resolve)),
    };
    this.running = running;
    let spawnError: Error | undefined;
    child.on('error', (err) => {
      spawnError = err;
      if (!running.exit) {
        running.exit = { code: null, signal: null };
        resolveExit(running.exit);
      }
    });
    child.on('exit', (code, signal) => {
      if (!running.exit) {
        running.exit = { code, signal };
        resolveExit(running.exit);
      }
    });
    const onLines = (stream: NodeJS.ReadableStream | null, keep: boolean) => {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const raw of lines) {
          const line = raw.trimEnd();
          if (!line) continue;
          if (keep) {
            running.stderr.push(line);
            if (running.stderr.length > 20) running.stderr.shift();
          }
          this.log(`bitcoind: ${line}`);
        }
      });
    };
    onLines(child.stdout, false);
    onLines(child.stderr, true);
    // A node must not keep the parent alive on its own: a parent that exits without stop()
    // takes it down through the 'exit' hook.
    child.unref();
    for (const s of [child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();

    // A fresh client per launch: waiting must not depend on (or warm) the user's `rpc`.
    const probe = new RpcClient({
      url: this.rpcUrl,
      credentials: { kind: 'cookie', path: this.cookiePath },
      timeoutMs: 5_000,
    });
    const deadline = Date.now() + this.startTimeoutMs;
    let last = 'no answer yet';
    for (;;) {
      if (running.exit) {
        const how = spawnError
          ? `could not be run (${(spawnError as NodeJS.ErrnoException).code ?? spawnError.message})`
          : `exited during start-up (${running.exit.signal ?? `code ${running.exit.code}`})`;
        throw await this.startError(how, running);
      }
      try {
        await probe.call('getblockchaininfo');
        this.log(`${this.network} node up: pid ${child.pid}, RPC ${this.rpcUrl}${this.zmqEndpoint ? `, ZMQ ${this.zmqEndpoint}` : ''}`);
        return;
      } catch (err) {
        if (err instanceof NodeUnreachableError || (err instanceof RpcError && err.code === RPC_WARMING_UP)) {
          last = err.message;
        } else {
          throw await this.startError(`answered RPC with an error (${(err as Error).message})`, running);
        }
      }
      if (Date.now() > deadline) {
        throw await this.startError(`did not answer RPC within ${this.startTimeoutMs} ms (last: ${last})`, running);
      }
      await Promise.race([sleep(100), running.exited]);
    }
  }

  private async startError(how: string, running: Running): Promise<LocalNodeError> {
    const tail = await this.debugLogTail(8);
    const detail = tail.length ? `debug.log: ${tail.join(' | ')}` : running.stderr.length ? `stderr: ${running.stderr.slice(-5).join(' | ')}` : 'no debug.log was written';
    const err = new LocalNodeError(`bitcoind ${this.bitcoind} (${this.network}, datadir ${this.datadir}) ${how}; ${detail}`);
    err.stack = `${err.name}: ${err.message}`;
    return err;
  }

  /** The last `n` lines of this node's debug.log (empty when there is none). */
  async debugLogTail(n: number): Promise<string[]> {
    for (const path of [join(this.datadir, this.network === 'main' ? '' : this.network, 'debug.log'), join(this.datadir, 'debug.log')]) {
      try {
        const text = await readFile(path, 'utf8');
        return text
          .split('\n')
          .map((l) => l.trimEnd())
          .filter((l) => l.length > 0)
          .slice(-n);
      } catch {
        // try the next place
      }
    }
    return [];
  }

  /** Stop the process, keeping the data directory. Shared by stop() and restart(). */
  private halt(): Promise<void> {
    this.stopping ??= this.haltOnce().finally(() => (this.stopping = undefined));
    return this.stopping;
  }

  private async haltOnce(): Promise<void> {
    const r = this.running;
    if (!r || r.exit) return;
    r.child.ref(); // the child is unref'd (see launch): hold the event loop while waiting
    try {
      await this.rpc.withTimeout(5_000).call('stop');
    } catch (err) {
      this.log(`RPC stop failed (${(err as Error).message}); sending SIGTERM`);
      r.child.kill('SIGTERM');
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS)));
    const outcome = await Promise.race([r.exited, timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.log(`bitcoind pid ${r.child.pid} did not exit within ${STOP_TIMEOUT_MS} ms; SIGKILL`);
      r.child.kill('SIGKILL');
      await r.exited;
    }
    this.log(`${this.network} node stopped`);
  }
}

// ------------------------------------------------------------------------------------------------

let resolved: Promise<string> | undefined;

/**
 * The bitcoind to run: `explicit`, else $BITCOIND, else `bitcoind` on PATH, else the last stdout
 * line of scripts/provision-node.sh (which provisions a private copy into .cache/node once).
 */
export function resolveBitcoind(explicit?: string): Promise<string> {
  if (explicit) return Promise.resolve(explicit);
  const env = process.env.BITCOIND;
  if (env) return Promise.resolve(env);
  resolved ??= (async () => {
    const onPath = await findOnPath('bitcoind');
    if (onPath) return onPath;
    return provision();
  })();
  resolved.catch(() => (resolved = undefined));
  return resolved;
}

async function findOnPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, fsConstants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The repository root: the nearest ancestor of this module holding scripts/provision-node.sh. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'scripts', 'provision-node.sh'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new LocalNodeError(`scripts/provision-node.sh not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

function provision(): Promise<string> {
  const script = join(repoRoot(), 'scripts', 'provision-node.sh');
  return new Promise((resolve, reject) => {
    execFile('bash', [script], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const lines = String(stderr).trim().split('\n').slice(-3).join(' | ');
        reject(new LocalNodeError(`no bitcoind: ${script} failed (${lines || err.message}); set BITCOIND to a bitcoind`));
        return;
      }
      const last = String(stdout).trim().split('\n').pop()?.trim();
      if (!last) reject(new LocalNodeError(`no bitcoind: ${script} printed no path`));
      else resolve(last);
    });
  });
}

/** `count` distinct TCP ports that are free on 127.0.0.1 right now. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    if (a === null || typeof a === 'string') throw new Error('unexpected server address');
    return a.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
