// Runs `mine --engines none` with a Stratum pool (--stratum-port 0 by default, or the flags given:
// --sv2-port 0 for Stratum V2) in this process against a LocalNode, for the Stratum tests:
// resolves once the pool listens, with its ports and a stop that ends the service.
import type { ServiceOptions } from '../../src/miner/service.js';
import type { PoolCore } from '../../src/stratum/pool-core.js';
import { decodeAuthorityKey } from '../../src/stratum/v2/certificate.js';
import type { Recorder } from '../../src/telemetry/recorder.js';
import type { LocalNode } from '../../src/devnode/local-node.js';
import { within } from './events.js';
import { mineConfig, runMiner, scratchDir } from './mining.js';

export interface RunningPool {
  /** The Stratum V1 port (0 when only Stratum V2 is served). */
  readonly port: number;
  /** The Stratum V2 port and authority key, when served. */
  readonly sv2: { readonly port: number; readonly authorityKey: string; readonly authorityPublicKey: Uint8Array } | undefined;
  readonly pool: PoolCore;
  readonly recorder: Recorder;
  readonly dir: string;
  readonly stop: () => Promise<Awaited<ReturnType<typeof runMiner>>>;
}

export async function startPoolService(node: LocalNode, operator: string | undefined, extra: string[] = [], options: { dir?: string; service?: Partial<ServiceOptions>; ports?: string[] } = {}): Promise<RunningPool> {
  const abort = new AbortController();
  let ready: (p: { pool: PoolCore; recorder: Recorder }) => void = () => {};
  const started = new Promise<{ pool: PoolCore; recorder: Recorder }>((resolve) => (ready = resolve));
  const dir = options.dir ?? (await scratchDir());
  const run = runMiner(await mineConfig(node, operator, dir, ['--engines', 'none', ...(options.ports ?? ['--stratum-port', '0']), ...extra]), {
    ...options.service,
    signal: abort.signal,
    onStarted: ({ pool, recorder }) => ready({ pool: pool!, recorder }),
  });
  run.catch(() => undefined);
  const ended = run.then((s) => Promise.reject(new Error(`the service ended before the pool started:\n${s.lines.join('\n')}`)));
  const { pool, recorder } = await within('the pool to start', Promise.race([started, ended]));
  let stopping: ReturnType<RunningPool['stop']> | undefined;
  const sv2 = pool.sv2;
  return {
    port: pool.url === '' ? 0 : Number(new URL(pool.url.replace('stratum+tcp', 'http')).port),
    sv2: sv2 && { port: sv2.port, authorityKey: sv2.authorityKey, authorityPublicKey: decodeAuthorityKey(sv2.authorityKey) },
    pool,
    recorder,
    dir,
    stop: () => (stopping ??= (abort.abort(), run)),
  };
}

/** A pool serving Stratum V2 only (--sv2-port 0), or beside V1 with `withV1`. */
export function startSv2PoolService(node: LocalNode, operator: string, extra: string[] = [], options: { dir?: string; service?: Partial<ServiceOptions>; withV1?: boolean } = {}): Promise<RunningPool> {
  return startPoolService(node, operator, extra, { ...options, ports: ['--sv2-port', '0', ...(options.withV1 ? ['--stratum-port', '0'] : [])] });
}
