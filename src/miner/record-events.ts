// The orchestrator's events that every mode records the same way (mining from a node or through a
// pool): one recorder call per event, and warnings in the log too.
import { BIP320_VERSION_MASK } from '../bitcoin/header.js';
import type { Engine } from '../engines/engine.js';
import type { Logger } from '../telemetry/logger.js';
import type { Recorder } from '../telemetry/recorder.js';
import { ROLLING_OFF_REASON } from '../work/job.js';
import type { Miner, RollingState } from './miner.js';

const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

/** Version rolling in one line: on or off, why, and the versions per scan of each engine. */
export function describeRolling(s: RollingState): string {
  const per = s.engines.map((e) => `${e.kind}/${e.backend} ${e.versions}`).join(', ');
  if (s.mask === 0) return `version rolling off: ${(s.reason ?? 'no bits to roll').replace(/^off \((.*)\)$/, '$1')}; one version per scan`;
  const bits = s.mask === BIP320_VERSION_MASK ? 'BIP320 bits' : `bits ${hex8(s.mask)}`;
  return `version rolling on (${bits}${s.reason === undefined ? '' : `: ${s.reason}`}); versions per scan: ${per}`;
}

/** What the start-up line says of version rolling, before any job: configured on or off. */
export function configuredRolling(engines: readonly Engine[], on: boolean): RollingState {
  return {
    mask: on ? BIP320_VERSION_MASK : 0,
    ...(!on && { reason: ROLLING_OFF_REASON }),
    engines: engines.map((e) => ({ kind: e.kind, backend: e.backend, versions: on ? e.versionsPerScan : 1 })),
  };
}

/**
 * One log line whenever a job turns version rolling on or off or changes why (a template
 * signalling inside BIP320's bits, a pool's mask), starting from what the start-up line said.
 */
export function logRollingChanges(miner: Miner, log: Logger, startedAs: RollingState): void {
  let last = describeRolling(startedAs);
  miner.on('rolling', (s) => {
    const line = describeRolling(s);
    if (line === last) return;
    last = line;
    log('info', line);
  });
}

export function recordMinerEvents(miner: Miner, rec: Recorder, log: Logger): void {
  miner.on('hashes', ({ engine, hashes }) => rec.hashes(engine.kind, engine.backend, hashes));
  miner.on('share', (s) => rec.share(s.difficulty, s.engine, s.hash));
  miner.on('discarded', () => rec.discarded());
  miner.on('warning', (w) => {
    log('warn', w);
    rec.error('miner-warning', 'warning', w, 'kept mining');
  });
}
