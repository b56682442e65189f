// Temperature of what hashes, and the governor that pauses hashing when it runs hot
// (--max-temp / --resume-temp). No sensor raises an event when a limit is crossed, so the
// governor polls: every few seconds on an injected timer, reading
//  - CPU: /sys/class/hwmon chips whose `name` is coretemp (Intel), k10temp or zenpower (AMD) or
//    cpu_thermal (ARM boards), their temp*_input in millidegrees with temp*_label naming each;
//    else the CPU-like zones of /sys/class/thermal (thermal_zone*/type and temp);
//  - GPU: `nvidia-smi --query-gpu=index,temperature.gpu --format=csv,noheader,nounits`, and the
//    hwmon chip of an AMD GPU (`amdgpu`).
// The sysfs root and the nvidia-smi runner are injectable: a folder of files shaped like
// /sys is the only way a test can make a sensor hot on demand.
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export type SensorKind = 'cpu' | 'gpu';

export interface TemperatureReading {
  /** Stable name for logs and metric labels: "coretemp/Package id 0", "nvidia/0", "thermal/x86_pkg_temp". */
  readonly sensor: string;
  readonly kind: SensorKind;
  readonly celsius: number;
}

/** Runs nvidia-smi's temperature query and returns its stdout; rejects with code ENOENT when it is not installed. */
export type NvidiaSmi = () => Promise<string>;

export interface ThermalSources {
  /** Where sysfs is mounted (default /sys); tests point it at a temporary tree. */
  readonly sysfsRoot?: string;
  /** nvidia-smi's query; null: never ask it. */
  readonly nvidiaSmi?: NvidiaSmi | null;
}

/** hwmon drivers that measure the CPU package or its cores. */
export const CPU_HWMON_DRIVERS = ['coretemp', 'k10temp', 'zenpower', 'cpu_thermal'] as const;
/** The sensor of an AMD GPU's hwmon chip that nvidia-smi's temperature.gpu corresponds to. */
const AMDGPU_LABEL = 'edge';
/** thermal_zone types that are the CPU (package, SoC), not the board or a battery. */
const CPU_ZONE_TYPE = /cpu|x86_pkg|soc|package/i;

/**
 * Which inputs of a CPU chip to use: the package where the driver reports one (coretemp's
 * "Package id N"; k10temp's Tdie, the die's own reading, else Tctl, the control value that
 * some Ryzen parts offset by 10-27 °C), else every input. Per-core inputs of a 64-core part
 * would otherwise make 64 series of one number.
 */
function preferredInputs(driver: string, inputs: readonly HwmonInput[]): HwmonInput[] {
  const byLabel = (test: (label: string) => boolean) => inputs.filter((i) => test(i.label));
  if (driver === 'coretemp') {
    const packages = byLabel((l) => /^Package id \d+$/.test(l));
    if (packages.length > 0) return packages;
  }
  if (driver === 'k10temp' || driver === 'zenpower') {
    for (const name of ['Tdie', 'Tctl']) {
      const hit = byLabel((l) => l === name);
      if (hit.length > 0) return hit;
    }
  }
  return [...inputs];
}

interface HwmonInput {
  readonly label: string;
  readonly millidegrees: number;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function list(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  } catch {
    return [];
  }
}

/** A plausible temperature in millidegrees (a missing or faulted sensor reads 0, -273000 or garbage). */
function celsiusOf(text: string | undefined): number | undefined {
  if (text === undefined || !/^-?\d+$/.test(text)) return undefined;
  const c = Number(text) / 1000;
  return c > -40 && c < 200 ? c : undefined;
}

interface HwmonChip {
  readonly driver: string;
  /** hwmon0, hwmon1, ...: tells two chips of one driver apart (two sockets). */
  readonly dir: string;
  readonly inputs: HwmonInput[];
}

async function hwmonChips(root: string): Promise<HwmonChip[]> {
  const base = join(root, 'class', 'hwmon');
  const chips: HwmonChip[] = [];
  for (const dir of await list(base)) {
    const driver = await readText(join(base, dir, 'name'));
    if (driver === undefined) continue;
    const inputs: HwmonInput[] = [];
    for (const file of await list(join(base, dir))) {
      const m = /^temp(\d+)_input$/.exec(file);
      if (!m) continue;
      const c = celsiusOf(await readText(join(base, dir, file)));
      if (c === undefined) continue;
      const label = (await readText(join(base, dir, `temp${m[1]}_label`))) || `temp${m[1]}`;
      inputs.push({ label, millidegrees: c * 1000 });
    }
    if (inputs.length > 0) chips.push({ driver, dir, inputs });
  }
  return chips;
}

/** "coretemp/Package id 0"; with two chips of one driver, "coretemp.hwmon3/Package id 1". */
function hwmonReadings(chips: readonly HwmonChip[], kind: SensorKind, pick: (c: HwmonChip) => HwmonInput[]): TemperatureReading[] {
  const out: TemperatureReading[] = [];
  for (const chip of chips) {
    const twins = chips.filter((c) => c.driver === chip.driver).length > 1;
    for (const input of pick(chip)) {
      out.push({ sensor: `${chip.driver}${twins ? `.${chip.dir}` : ''}/${input.label}`, kind, celsius: input.millidegrees / 1000 });
    }
  }
  return out;
}

async function thermalZones(root: string): Promise<TemperatureReading[]> {
  const base = join(root, 'class', 'thermal');
  const out: TemperatureReading[] = [];
  for (const zone of await list(base)) {
    if (!zone.startsWith('thermal_zone')) continue;
    const type = await readText(join(base, zone, 'type'));
    if (type === undefined || !CPU_ZONE_TYPE.test(type)) continue;
    const c = celsiusOf(await readText(join(base, zone, 'temp')));
    if (c !== undefined) out.push({ sensor: `thermal/${type}${out.some((r) => r.sensor === `thermal/${type}`) ? `.${zone}` : ''}`, kind: 'cpu', celsius: c });
  }
  return out;
}

/** `0, 45` per line → nvidia/0 at 45 °C; "[N/A]" (a GPU without a sensor) is left out. */
export function parseNvidiaSmi(text: string): TemperatureReading[] {
  const out: TemperatureReading[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(line);
    if (m) out.push({ sensor: `nvidia/${m[1]}`, kind: 'gpu', celsius: Number(m[2]) });
  }
  return out;
}

export const runNvidiaSmi: NvidiaSmi = () =>
  new Promise((resolve, reject) => {
    execFile('nvidia-smi', ['--query-gpu=index,temperature.gpu', '--format=csv,noheader,nounits'], { timeout: 5000 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout);
    });
  });

/** The temperature sensors of the engines in use; read() finds them anew each time (cheap: a few small files). */
export class ThermalSensors {
  private readonly root: string;
  private nvidiaSmi: NvidiaSmi | null;

  constructor(
    readonly kinds: readonly SensorKind[],
    sources: ThermalSources = {},
  ) {
    this.root = sources.sysfsRoot ?? '/sys';
    this.nvidiaSmi = kinds.includes('gpu') ? (sources.nvidiaSmi === undefined ? runNvidiaSmi : sources.nvidiaSmi) : null;
  }

  async read(): Promise<TemperatureReading[]> {
    const out: TemperatureReading[] = [];
    const chips = await hwmonChips(this.root);
    if (this.kinds.includes('cpu')) {
      const cpu = hwmonReadings(chips.filter((c) => (CPU_HWMON_DRIVERS as readonly string[]).includes(c.driver)), 'cpu', (c) => preferredInputs(c.driver, c.inputs));
      // The thermal zones only where hwmon has no CPU chip: they are often the same sensor again.
      out.push(...(cpu.length > 0 ? cpu : await thermalZones(this.root)));
    }
    if (this.kinds.includes('gpu')) {
      const amd = chips.filter((c) => c.driver === 'amdgpu');
      out.push(...hwmonReadings(amd, 'gpu', (c) => {
        const edge = c.inputs.filter((i) => i.label === AMDGPU_LABEL);
        return edge.length > 0 ? edge : c.inputs.slice(0, 1);
      }));
      out.push(...(await this.readNvidia()));
    }
    return out;
  }

  private async readNvidia(): Promise<TemperatureReading[]> {
    if (this.nvidiaSmi === null) return [];
    try {
      return parseNvidiaSmi(await this.nvidiaSmi());
    } catch (err) {
      // Not installed: not asked again. Any other failure (a driver hiccup) is retried next time.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.nvidiaSmi = null;
      return [];
    }
  }

  /** Where read() looks, for the line that says no sensor was found. */
  describeSearch(): string {
    const places: string[] = [];
    const sys = this.root.replace(/\/$/, '');
    if (this.kinds.includes('cpu')) places.push(`${CPU_HWMON_DRIVERS.join(', ')} in ${sys}/class/hwmon`, `a CPU zone in ${sys}/class/thermal`);
    if (this.kinds.includes('gpu')) places.push(`amdgpu in ${sys}/class/hwmon`, 'nvidia-smi');
    return places.join('; ');
  }
}

/** The hottest reading, or undefined for none. */
export function hottest(readings: readonly TemperatureReading[]): TemperatureReading | undefined {
  let top: TemperatureReading | undefined;
  for (const r of readings) if (top === undefined || r.celsius > top.celsius) top = r;
  return top;
}

/** One °C figure for logs: 86 or 86.5. */
export function formatCelsius(c: number): string {
  return `${Number.isInteger(c) ? c : c.toFixed(1)} °C`;
}

/** A pause or a resume: the reading that decided it. */
export interface ThermalChange {
  readonly reading: TemperatureReading;
  readonly maxCelsius: number;
  readonly resumeCelsius: number;
  /** Milliseconds since the epoch. */
  readonly at: number;
  /** On resume: how long hashing was paused. */
  readonly pausedMs?: number;
}

export interface ThermalEvents {
  /** Every poll's readings (empty when every sensor failed this time). */
  readings: [readonly TemperatureReading[]];
  pause: [ThermalChange];
  resume: [ThermalChange];
}

/** Schedules the next poll; the service passes Node's timers, tests a hand-driven one. */
export interface PollTimer {
  schedule(fn: () => void, ms: number): void;
  cancel(): void;
}

export function nodePollTimer(): PollTimer {
  let timer: NodeJS.Timeout | undefined;
  return {
    schedule(fn, ms) {
      timer = setTimeout(fn, ms);
      timer.unref();
    },
    cancel() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

export const DEFAULT_POLL_MS = 5000;

export interface ThermalGovernorOptions {
  readonly sensors: { read(): Promise<TemperatureReading[]> };
  /** Pause above this (°C); without it the governor only reports readings. */
  readonly maxCelsius?: number | undefined;
  /** Resume below this (°C); below maxCelsius. */
  readonly resumeCelsius?: number | undefined;
  readonly pollMs?: number;
  readonly timer?: PollTimer;
  readonly now?: () => number;
}

/**
 * Polls the sensors and decides, with hysteresis: above maxCelsius (the hottest sensor) it
 * pauses, and only below resumeCelsius does it resume, so a reading that hovers at the limit
 * does not start and stop the engines every poll. A poll where every sensor failed changes
 * nothing (the last decision stands).
 */
export class ThermalGovernor extends EventEmitter<ThermalEvents> {
  private readonly options: ThermalGovernorOptions;
  private readonly timer: PollTimer;
  private readonly now: () => number;
  private pausedAt: number | undefined;
  private running = false;
  private last: readonly TemperatureReading[] = [];

  constructor(options: ThermalGovernorOptions) {
    super();
    const { maxCelsius, resumeCelsius } = options;
    if (maxCelsius !== undefined && resumeCelsius !== undefined && !(resumeCelsius < maxCelsius)) {
      throw new RangeError(`resumeCelsius: expected below maxCelsius ${maxCelsius}, got ${resumeCelsius}`);
    }
    this.options = options;
    this.timer = options.timer ?? nodePollTimer();
    this.now = options.now ?? Date.now;
  }

  get throttled(): boolean {
    return this.pausedAt !== undefined;
  }

  get readings(): readonly TemperatureReading[] {
    return this.last;
  }

  /** Takes `first` as the first poll's readings (the service has read them to check a sensor exists), then polls. */
  start(first?: readonly TemperatureReading[]): void {
    if (this.running) return;
    this.running = true;
    if (first !== undefined) {
      this.decide(first);
      this.next();
    } else {
      void this.poll();
    }
  }

  stop(): void {
    this.running = false;
    this.timer.cancel();
  }

  /** One poll now (the timer calls it; tests may too). */
  async poll(): Promise<void> {
    let readings: TemperatureReading[];
    try {
      readings = await this.options.sensors.read();
    } catch {
      readings = [];
    }
    if (!this.running) return;
    this.decide(readings);
    this.next();
  }

  private next(): void {
    this.timer.schedule(() => void this.poll(), this.options.pollMs ?? DEFAULT_POLL_MS);
  }

  private decide(readings: readonly TemperatureReading[]): void {
    this.last = readings;
    this.emit('readings', readings);
    const top = hottest(readings);
    const { maxCelsius } = this.options;
    if (top === undefined || maxCelsius === undefined) return;
    const resumeCelsius = this.options.resumeCelsius ?? maxCelsius - 5;
    const at = this.now();
    if (this.pausedAt === undefined && top.celsius > maxCelsius) {
      this.pausedAt = at;
      this.emit('pause', { reading: top, maxCelsius, resumeCelsius, at });
    } else if (this.pausedAt !== undefined && top.celsius < resumeCelsius) {
      const pausedMs = at - this.pausedAt;
      this.pausedAt = undefined;
      this.emit('resume', { reading: top, maxCelsius, resumeCelsius, at, pausedMs });
    }
  }
}
