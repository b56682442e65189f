// Temperature governance wired to a miner (docs/deploy.md, "Governance"): the engines' sensors
// opened once, and a governor that holds hashing above --max-temp and lets it go below
// --resume-temp, heard by the recorder. Mining from a node and through a pool use it alike.
import type { EngineKind } from '../engines/create-engine.js';
import { formatCelsius, ThermalGovernor, ThermalSensors, type PollTimer, type TemperatureReading, type ThermalSources } from '../engines/thermal.js';
import type { MineConfig } from '../config/mine-config.js';
import type { Logger } from '../telemetry/logger.js';
import type { Recorder } from '../telemetry/recorder.js';
import { ServiceError } from './service-error.js';

export interface ThermalOptions {
  readonly sources?: ThermalSources;
  readonly pollMs?: number;
  readonly timer?: PollTimer;
}

export type OpenSensors = { sensors: ThermalSensors; first: TemperatureReading[] };

/**
 * The temperature sensors of the engines in use, read once; undefined when there is none.
 * With --max-temp and no sensor the service refuses to start: the limit could never act.
 */
export async function openSensors(config: MineConfig, kinds: readonly EngineKind[], sources: ThermalSources | undefined): Promise<{ sensors: ThermalSensors; first: TemperatureReading[] } | undefined> {
  if (kinds.length === 0) {
    if (config.maxTemp !== undefined) throw new ServiceError('--max-temp: no engine hashes here (--engines none): there is nothing to pause', 2);
    return undefined;
  }
  const sensors = new ThermalSensors(kinds, sources);
  const first = await sensors.read();
  if (first.length > 0) return { sensors, first };
  if (config.maxTemp !== undefined) {
    throw new ServiceError(`--max-temp: no temperature sensor for the ${kinds.join(' and ')} engine here (looked for ${sensors.describeSearch()}); solominer check lists what it finds`, 2);
  }
  return undefined;
}

/** Starts the governor over `opened`; `hold(true)` while too hot. */
export function startThermal(
  opened: OpenSensors,
  w: { config: MineConfig; rec: Recorder; log: Logger; hold: (on: boolean) => void; options?: ThermalOptions },
): ThermalGovernor {
  const { config, rec, log } = w;
  const governor = new ThermalGovernor({
    sensors: opened.sensors,
    maxCelsius: config.maxTemp,
    resumeCelsius: config.resumeTemp,
    ...(w.options?.pollMs !== undefined && { pollMs: w.options.pollMs }),
    ...(w.options?.timer !== undefined && { timer: w.options.timer }),
  });
  governor.on('readings', (readings) => rec.temperatures(readings));
  governor.on('pause', (e) => {
    log('warn', `too hot: ${e.reading.sensor} at ${formatCelsius(e.reading.celsius)} is above --max-temp ${formatCelsius(e.maxCelsius)}; hashing paused until every sensor is below ${formatCelsius(e.resumeCelsius)}`);
    rec.thermalPaused(e);
    w.hold(true);
  });
  governor.on('resume', (e) => {
    log('info', `cooled: the hottest sensor, ${e.reading.sensor}, is at ${formatCelsius(e.reading.celsius)}, below ${formatCelsius(e.resumeCelsius)}; hashing resumed after ${((e.pausedMs ?? 0) / 1000).toFixed(1)} s paused`);
    rec.thermalResumed();
    w.hold(false);
  });
  // Already hot at start-up: held before the first job reaches the engines.
  governor.start(opened.first);
  const hottest = [...opened.first].sort((a, b) => b.celsius - a.celsius)[0]!;
  log('info', `temperature: ${opened.first.length} sensor(s), hottest ${hottest.sensor} at ${formatCelsius(hottest.celsius)}`, {
    limit: config.maxTemp === undefined ? 'none (--max-temp)' : `pause above ${formatCelsius(config.maxTemp)}, resume below ${formatCelsius(config.resumeTemp ?? config.maxTemp - 5)}`,
  });
  return governor;
}
