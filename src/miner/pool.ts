// The Stratum pool wired to the orchestrator (docs/stratum.md): every job the local engines get
// goes to the pool's miners too, over Stratum V1 (--stratum-port), Stratum V2 (--sv2-port) or
// both — one pool core behind both wires; a share at the block target is claimed through the
// orchestrator (the same rules and the same journal-first submitter as an engine's block); a
// block found anywhere makes the pool's jobs of that tip stale; the recorder hears every event.
import { dirname, join } from 'node:path';

import { addressToScript } from '../bitcoin/address.js';
import { BitcoinError } from '../bitcoin/errors.js';
import type { MineConfig } from '../config/mine-config.js';
import { PoolCore, StratumListenError } from '../stratum/pool-core.js';
import { V1Server } from '../stratum/v1/server.js';
import { AUTHORITY_KEY_FILE, loadOrCreateAuthority, ServerIdentity, type IdentityOptions } from '../stratum/v2/authority.js';
import { AuthorityKeyError } from '../stratum/v2/errors.js';
import { Sv2Server } from '../stratum/v2/server.js';
import type { Logger } from '../telemetry/logger.js';
import type { Recorder } from '../telemetry/recorder.js';
import type { Miner } from './miner.js';
import { ServiceError } from './service-error.js';

/** Next to the found-blocks journal: each worker's best share, kept across restarts. */
export const BEST_SHARES_FILE = 'stratum-best-shares.jsonl';
/** An unsubscribed or unauthorized connection (V2: without a channel) is closed after this long. */
const IDLE_TIMEOUT_MS = 30_000;
/** public-pool's floor: low enough for a CPU miner. */
const MIN_DIFFICULTY = 0.00001;

/** The authority key file of a configuration: beside the found-blocks journal. */
export function authorityKeyPath(config: MineConfig): string {
  return join(dirname(config.journal), AUTHORITY_KEY_FILE);
}

export async function startPool(config: MineConfig, miner: Miner, rec: Recorder, log: Logger, sv2Keys?: IdentityOptions): Promise<PoolCore> {
  for (const a of config.stratumAddresses ?? []) {
    try {
      addressToScript(a, config.network);
    } catch (err) {
      if (err instanceof BitcoinError) throw new ServiceError(`--stratum-addresses: ${err.what}`, 2);
      throw err;
    }
  }
  // The authority key first: a file that is not a key stops the start before anything listens.
  let identity: ServerIdentity | undefined;
  if (config.sv2Port !== undefined && sv2Keys !== undefined) {
    identity = new ServerIdentity(sv2Keys);
  } else if (config.sv2Port !== undefined) {
    try {
      const { secret, created } = await loadOrCreateAuthority(authorityKeyPath(config));
      identity = new ServerIdentity({ authoritySecret: secret });
      if (created) log('info', `Stratum V2: a new authority key was generated and kept in ${authorityKeyPath(config)} (its public key below is what miners configure)`);
    } catch (err) {
      if (err instanceof AuthorityKeyError) throw new ServiceError(`--sv2-port: ${err.message}`, 2);
      throw err;
    }
  }
  const core = await PoolCore.open(
    {
      network: config.network,
      // None in a pool for others' miners only (payoutAddressOptional): logins must be addresses.
      operatorAddress: config.address,
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
      const over = c.protocol === 'v2' ? ' (Stratum V2)' : '';
      if (verdict === 'submitted') {
        rec.poolBlock(c.worker);
        log('info', `block found by Stratum worker ${c.worker.name}${over}`, { height: c.job.height, pays: c.worker.address });
      } else {
        log('info', `Stratum worker ${c.worker.name}${over} met the block target on a tip already ${verdict === 'solved' ? 'solved' : 'replaced'}; not submitted`);
      }
      return verdict === 'submitted';
    },
    (m) => {
      log('warn', m);
      rec.error('pool-warning', 'warning', m, 'kept serving');
    },
  );
  try {
    if (config.stratumPort !== undefined) await V1Server.listen(core, { host: config.stratumHost, port: config.stratumPort });
    if (identity !== undefined) await Sv2Server.listen(core, { host: config.sv2Host, port: config.sv2Port!, identity });
  } catch (err) {
    await core.close();
    if (err instanceof StratumListenError) throw new ServiceError(err.message, 2);
    throw err;
  }
  const wire = (p: 'v1' | 'v2') => (p === 'v2' ? 'stratum v2' : 'stratum');
  core.on('connect', (e) => {
    log('debug', `${wire(e.protocol)}: ${e.remote} connected`, { connections: e.total });
    rec.poolConnections(e.total);
  });
  core.on('disconnect', (e) => {
    log('debug', `${wire(e.protocol)}: ${e.remote} disconnected (${e.reason})`, { worker: e.worker, connections: e.total });
    rec.poolConnections(e.total);
  });
  core.on('authorized', (e) => log('debug', `${wire(e.protocol)}: ${e.remote} authorized as ${e.worker.name}`, { pays: e.worker.address, agent: e.userAgent }));
  core.on('share', (e) => {
    // What the header was: enough to show that no two workers ever hash the same one.
    log('debug', `${wire(e.protocol)}: share of ${e.worker.name} accepted`, { job: e.jobId, extranonce: e.extranonce, ntime: e.ntime, nonce: e.nonce, version: e.version.toString(16), difficulty: e.difficulty });
    rec.poolShare(e.worker, true, e.owed, e.difficulty, e.hash, undefined, e.protocol);
  });
  core.on('reject', (e) => {
    log('debug', `${wire(e.protocol)}: share of ${e.worker?.name ?? e.remote} rejected: ${e.message}`);
    rec.poolShare(e.worker, false, 0, 0, undefined, e.reason, e.protocol);
  });
  core.on('fanout', (e) => rec.poolFanout(e.ms, e.connections, e.newTip, e.protocol));
  miner.on('job', (s) => core.setJob(s.job, s.newTip, s.requestedAt));
  miner.on('block', (f) => core.retireTip(f.job.previousBlockHash));
  rec.attachPool(core);
  const lan = (host: string, flag: string) => (host === '127.0.0.1' ? `loopback only (${flag} 0.0.0.0 for the LAN)` : host);
  // Without an operator address a login that is not an address is refused: the line says so.
  const login = core.login === 'address' ? { login: '<address>[.<worker>] only (no operator address)' } : {};
  if (core.url !== '') log('info', `Stratum pool on ${core.url}`, { host: lan(config.stratumHost, '--stratum-host'), ...login });
  const sv2 = core.sv2;
  if (sv2 !== undefined) {
    // What a miner needs: ESP-Miner takes host, port and key as three settings; SRI-style miners the URL.
    log('info', `Stratum V2 pool on ${sv2.url}`, { host: lan(config.sv2Host, '--sv2-host'), port: sv2.port, authorityKey: sv2.authorityKey, ...login });
  }
  return core;
}
