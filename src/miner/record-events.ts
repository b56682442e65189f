// The orchestrator's events that every mode records the same way (mining from a node or through a
// pool): one recorder call per event, and warnings in the log too.
import type { Logger } from '../telemetry/logger.js';
import type { Recorder } from '../telemetry/recorder.js';
import type { Miner } from './miner.js';

export function recordMinerEvents(miner: Miner, rec: Recorder, log: Logger): void {
  miner.on('hashes', ({ engine, hashes }) => rec.hashes(engine.kind, engine.backend, hashes));
  miner.on('share', (s) => rec.share(s.difficulty, s.engine, s.hash));
  miner.on('discarded', () => rec.discarded());
  miner.on('warning', (w) => {
    log('warn', w);
    rec.error('miner-warning', 'warning', w, 'kept mining');
  });
}
