// Runs `mine --engines none --stratum-port 0` in this process against a LocalNode, for the
// Stratum tests: resolves once the pool listens, with its port and a stop that ends the service.
import type { ServiceOptions } from '../../src/miner/service.js';
import type { StratumServer } from '../../src/stratum/server.js';
import type { Recorder } from '../../src/telemetry/recorder.js';
import type { LocalNode } from '../../src/devnode/local-node.js';
import { within } from './events.js';
import { mineConfig, runMiner, scratchDir } from './mining.js';

export interface RunningPool {
  readonly port: number;
  readonly pool: StratumServer;
  readonly recorder: Recorder;
  readonly dir: string;
  readonly stop: () => Promise<Awaited<ReturnType<typeof runMiner>>>;
}

export async function startPoolService(node: LocalNode, operator: string, extra: string[] = [], options: { dir?: string; service?: Partial<ServiceOptions> } = {}): Promise<RunningPool> {
  const abort = new AbortController();
  let ready: (p: { pool: StratumServer; recorder: Recorder }) => void = () => {};
  const started = new Promise<{ pool: StratumServer; recorder: Recorder }>((resolve) => (ready = resolve));
  const dir = options.dir ?? (await scratchDir());
  const run = runMiner(await mineConfig(node, operator, dir, ['--engines', 'none', '--stratum-port', '0', ...extra]), {
    ...options.service,
    signal: abort.signal,
    onStarted: ({ pool, recorder }) => ready({ pool: pool!, recorder }),
  });
  run.catch(() => undefined);
  const ended = run.then((s) => Promise.reject(new Error(`the service ended before the pool started:\n${s.lines.join('\n')}`)));
  const { pool, recorder } = await within('the pool to start', Promise.race([started, ended]));
  let stopping: ReturnType<RunningPool['stop']> | undefined;
  return {
    port: Number(new URL(pool.url.replace('stratum+tcp', 'http')).port),
    pool,
    recorder,
    dir,
    stop: () => (stopping ??= (abort.abort(), run)),
  };
}
