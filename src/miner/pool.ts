// The Stratum pool wired to the orchestrator (docs/stratum.md): every job the local engines get
// goes to the pool's connections too; a share at the block target is claimed through the
// orchestrator (the same rules and the same journal-first submitter as an engine's block); a
// block found anywhere makes the pool's jobs of that tip stale; the recorder hears every event.
import { dirname, join } from 'node:path';

import { addressToScript } from '../bitcoin/address.js';
import { BitcoinError } from '../bitcoin/errors.js';
import { payoutAddressOf, type MineConfig } from '../config/mine-config.js';
import { StratumListenError, StratumServer } from '../stratum/server.js';
import type { Logger } from '../telemetry/logger.js';
import type { Recorder } from '../telemetry/recorder.js';
import type { Miner } from './miner.js';
import { ServiceError } from './service-error.js';

/** Next to the found-blocks journal: each worker's best share, kept across restarts. */
export const BEST_SHARES_FILE = 'stratum-best-shares.jsonl';
/** An unsubscribed or unauthorized connection is closed after this long. */
const IDLE_TIMEOUT_MS = 30_000;
/** public-pool's floor: low enough for a CPU miner. */
const MIN_DIFFICULTY = 0.00001;

export async function startPool(config: MineConfig, miner: Miner, rec: Recorder, log: Logger): Promise<StratumServer> {
  for (const a of config.stratumAddresses ?? []) {
    try {
      addressToScript(a, config.network);
    } catch (err) {
      if (err instanceof BitcoinError) throw new ServiceError(`--stratum-addresses: ${err.what}`, 2);
      throw err;
    }
  }
  let pool: StratumServer;
  try {
    pool = await StratumServer.listen(
      {
        host: config.stratumHost,
        port: config.stratumPort!,
        network: config.network,
        operatorAddress: payoutAddressOf(config),
        allowedAddresses: config.stratumAddresses,
        password: config.stratumPassword,
        startDifficulty: config.stratumDifficulty,
        minDifficulty: MIN_DIFFICULTY,
        shareSeconds: config.stratumShareSeconds,
        maxConnections: config.stratumMaxConnections,
        maxConnectionsPerAddress: config.stratumMaxPerAddress,
        idleTimeoutMs: IDLE_TIMEOUT_MS,
        reservedExtranonce1: miner.localExtranonce1,
        bestSharesPath: join(dirname(config.journal), BEST_SHARES_FILE),
      },
      (c) => {
        const verdict = miner.claimBlock({
          job: c.job,
          extranonce: c.share.extranonce,
          time: c.share.ntime,
          version: c.share.version,
          nonce: c.share.nonce,
          hash: Buffer.from(c.share.hash).reverse().toString('hex'),
          engine: 'stratum',
          backend: c.worker.name,
          worker: c.worker.name,
          address: c.worker.address,
          foundAt: c.foundAt,
        });
        if (verdict === 'submitted') {
          rec.poolBlock(c.worker);
          log('info', `block found by Stratum worker ${c.worker.name}`, { height: c.job.height, pays: c.worker.address });
        } else {
          log('info', `Stratum worker ${c.worker.name} met the block target on a tip already ${verdict === 'solved' ? 'solved' : 'replaced'}; not submitted`);
        }
        return verdict === 'submitted';
      },
      (m) => {
        log('warn', m);
        rec.error('pool-warning', 'warning', m, 'kept serving');
      },
    );
  } catch (err) {
    if (err instanceof StratumListenError) throw new ServiceError(err.message, 2);
    throw err;
  }
  pool.on('connect', (e) => {
    log('debug', `stratum: ${e.remote} connected`, { connections: e.total });
    rec.poolConnections(e.total);
  });
  pool.on('disconnect', (e) => {
    log('debug', `stratum: ${e.remote} disconnected (${e.reason})`, { worker: e.worker, connections: e.total });
    rec.poolConnections(e.total);
  });
  pool.on('authorized', (e) => log('debug', `stratum: ${e.remote} authorized as ${e.worker.name}`, { pays: e.worker.address, agent: e.userAgent }));
  pool.on('share', (e) => {
    // What the header was: enough to show that no two workers ever hash the same one.
    log('debug', `stratum: share of ${e.worker.name} accepted`, { job: e.jobId, extranonce: e.extranonce, ntime: e.ntime, nonce: e.nonce, version: e.version.toString(16), difficulty: e.difficulty });
    rec.poolShare(e.worker, true, e.owed, e.difficulty, e.hash);
  });
  pool.on('reject', (e) => {
    log('debug', `stratum: share of ${e.worker?.name ?? e.remote} rejected: ${e.message}`);
    rec.poolShare(e.worker, false, 0, 0, undefined, e.reason);
  });
  pool.on('fanout', (e) => rec.poolFanout(e.ms, e.connections, e.newTip));
  miner.on('job', (s) => pool.setJob(s.job, s.newTip, s.requestedAt));
  miner.on('block', (f) => pool.retireTip(f.job.previousBlockHash));
  rec.attachPool(pool);
  log('info', `Stratum pool on ${pool.url}`, { host: config.stratumHost === '127.0.0.1' ? 'loopback only (--stratum-host 0.0.0.0 for the LAN)' : config.stratumHost });
  return pool;
}
