// Temperature sensors and the --max-temp governor (src/engines/thermal.ts). The sensors are a
// sysfs tree in a temporary folder: no real sensor can be made hot on demand, and this machine
// may have none at all. The governor's poll is driven by hand through its injected timer.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { hottest, parseNvidiaSmi, ThermalGovernor, ThermalSensors, type PollTimer, type TemperatureReading, type ThermalChange } from '../../src/engines/thermal.js';

/** Writes `files` (path → content) under a fresh folder shaped like /sys. */
async function fakeSysfs(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'solominer-sysfs-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), `${text}\n`);
  }
  return root;
}

/** A timer the test fires itself: each poll schedules the next one here. */
function handTimer(): PollTimer & { fire(): void; pending: boolean } {
  let next: (() => void) | undefined;
  return {
    schedule(fn) {
      next = fn;
    },
    cancel() {
      next = undefined;
    },
    fire() {
      const fn = next;
      next = undefined;
      fn?.();
    },
    get pending() {
      return next !== undefined;
    },
  };
}

describe('temperature sensors', { timeout: 30_000 }, () => {
  const roots: string[] = [];
  after(async () => {
    for (const root of roots) await rm(root, { recursive: true, force: true });
  });
  const tree = async (files: Record<string, string>) => {
    const root = await fakeSysfs(files);
    roots.push(root);
    return root;
  };

  it('coretemp: the package sensors, not every core; two sockets told apart', async () => {
    const root = await tree({
      'class/hwmon/hwmon1/name': 'coretemp',
      'class/hwmon/hwmon1/temp1_label': 'Package id 0',
      'class/hwmon/hwmon1/temp1_input': '54000',
      'class/hwmon/hwmon1/temp2_label': 'Core 0',
      'class/hwmon/hwmon1/temp2_input': '61000',
      'class/hwmon/hwmon2/name': 'coretemp',
      'class/hwmon/hwmon2/temp1_label': 'Package id 1',
      'class/hwmon/hwmon2/temp1_input': '57500',
      // Not a CPU: left out.
      'class/hwmon/hwmon0/name': 'acpitz',
      'class/hwmon/hwmon0/temp1_input': '27800',
      'class/thermal/thermal_zone0/type': 'x86_pkg_temp',
      'class/thermal/thermal_zone0/temp': '99000',
    });
    const readings = await new ThermalSensors(['cpu'], { sysfsRoot: root }).read();
    assert.deepEqual(readings, [
      { sensor: 'coretemp.hwmon1/Package id 0', kind: 'cpu', celsius: 54 },
      { sensor: 'coretemp.hwmon2/Package id 1', kind: 'cpu', celsius: 57.5 },
    ]);
  });

  it('k10temp: Tdie over Tctl; zenpower and cpu_thermal; a faulted input left out', async () => {
    const root = await tree({
      'class/hwmon/hwmon3/name': 'k10temp',
      'class/hwmon/hwmon3/temp1_label': 'Tctl',
      'class/hwmon/hwmon3/temp1_input': '75000',
      'class/hwmon/hwmon3/temp2_label': 'Tdie',
      'class/hwmon/hwmon3/temp2_input': '48000',
      'class/hwmon/hwmon4/name': 'cpu_thermal',
      'class/hwmon/hwmon4/temp1_input': '-273000',
      'class/hwmon/hwmon5/name': 'zenpower',
      'class/hwmon/hwmon5/temp1_label': 'Tctl',
      'class/hwmon/hwmon5/temp1_input': '51250',
    });
    const readings = await new ThermalSensors(['cpu'], { sysfsRoot: root }).read();
    assert.deepEqual(readings, [
      { sensor: 'k10temp/Tdie', kind: 'cpu', celsius: 48 },
      { sensor: 'zenpower/Tctl', kind: 'cpu', celsius: 51.25 },
    ]);
  });

  it('without a CPU hwmon chip: the CPU zones of /sys/class/thermal', async () => {
    const root = await tree({
      'class/thermal/thermal_zone0/type': 'acpitz',
      'class/thermal/thermal_zone0/temp': '30000',
      'class/thermal/thermal_zone1/type': 'x86_pkg_temp',
      'class/thermal/thermal_zone1/temp': '66000',
      'class/thermal/cooling_device0/type': 'Processor',
    });
    assert.deepEqual(await new ThermalSensors(['cpu'], { sysfsRoot: root }).read(), [{ sensor: 'thermal/x86_pkg_temp', kind: 'cpu', celsius: 66 }]);
  });

  it('GPU: an AMD GPU edge sensor and nvidia-smi, only for the gpu engine', async () => {
    const root = await tree({
      'class/hwmon/hwmon6/name': 'amdgpu',
      'class/hwmon/hwmon6/temp1_label': 'edge',
      'class/hwmon/hwmon6/temp1_input': '71000',
      'class/hwmon/hwmon6/temp2_label': 'junction',
      'class/hwmon/hwmon6/temp2_input': '88000',
    });
    let asked = 0;
    const nvidiaSmi = async () => {
      asked++;
      return '0, 45\n1, [N/A]\n2, 83\n';
    };
    assert.deepEqual(await new ThermalSensors(['gpu'], { sysfsRoot: root, nvidiaSmi }).read(), [
      { sensor: 'amdgpu/edge', kind: 'gpu', celsius: 71 },
      { sensor: 'nvidia/0', kind: 'gpu', celsius: 45 },
      { sensor: 'nvidia/2', kind: 'gpu', celsius: 83 },
    ]);
    assert.deepEqual(await new ThermalSensors(['cpu'], { sysfsRoot: root, nvidiaSmi }).read(), []);
    assert.equal(asked, 1, 'the cpu engine alone never runs nvidia-smi');
    assert.deepEqual(parseNvidiaSmi('garbage\n'), []);
  });

  it('nvidia-smi not installed: asked once, then not again', async () => {
    let asked = 0;
    const missing = async (): Promise<string> => {
      asked++;
      throw Object.assign(new Error('spawn nvidia-smi ENOENT'), { code: 'ENOENT' });
    };
    const sensors = new ThermalSensors(['gpu'], { sysfsRoot: await tree({}), nvidiaSmi: missing });
    assert.deepEqual(await sensors.read(), []);
    assert.deepEqual(await sensors.read(), []);
    assert.equal(asked, 1);
    assert.match(sensors.describeSearch(), /amdgpu in .*\/class\/hwmon; nvidia-smi/);
  });

  it('no sensor at all: nothing read, and where it looked', async () => {
    const sensors = new ThermalSensors(['cpu'], { sysfsRoot: await tree({}) });
    assert.deepEqual(await sensors.read(), []);
    assert.match(sensors.describeSearch(), /^coretemp, k10temp, zenpower, cpu_thermal in .*\/class\/hwmon; a CPU zone in .*\/class\/thermal$/);
  });
});

describe('the --max-temp governor', { timeout: 30_000 }, () => {
  let root: string;
  const input = () => join(root, 'class/hwmon/hwmon0/temp1_input');
  const setCelsius = (c: number) => writeFile(input(), `${Math.round(c * 1000)}\n`);
  before(async () => {
    root = await fakeSysfs({ 'class/hwmon/hwmon0/name': 'coretemp', 'class/hwmon/hwmon0/temp1_label': 'Package id 0', 'class/hwmon/hwmon0/temp1_input': '50000' });
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('pauses above the limit, stays paused between resume and limit (hysteresis), resumes below', async () => {
    const timer = handTimer();
    let clock = 1_000_000;
    const governor = new ThermalGovernor({ sensors: new ThermalSensors(['cpu'], { sysfsRoot: root }), maxCelsius: 80, resumeCelsius: 70, timer, now: () => clock });
    const events: string[] = [];
    const changes: ThermalChange[] = [];
    governor.on('pause', (e) => {
      events.push(`pause ${e.reading.celsius}`);
      changes.push(e);
    });
    governor.on('resume', (e) => {
      events.push(`resume ${e.reading.celsius}`);
      changes.push(e);
    });
    const polled = () => new Promise<readonly TemperatureReading[]>((resolve) => governor.once('readings', resolve));
    const step = async (celsius: number) => {
      await setCelsius(celsius);
      clock += 5000;
      const done = polled();
      timer.fire();
      return done;
    };

    governor.start();
    assert.deepEqual(await polled(), [{ sensor: 'coretemp/Package id 0', kind: 'cpu', celsius: 50 }]);
    assert.equal(governor.throttled, false);
    await step(80); // at the limit is not above it
    assert.equal(governor.throttled, false);
    await step(80.5);
    assert.equal(governor.throttled, true);
    await step(75); // cooler, but not below the resume point
    await step(70);
    assert.equal(governor.throttled, true, 'still paused at the resume point itself');
    await step(69.9);
    assert.equal(governor.throttled, false);
    await step(79);
    assert.equal(governor.throttled, false, 'running again up to the limit');
    await step(95);
    assert.deepEqual(events, ['pause 80.5', 'resume 69.9', 'pause 95'], 'one event per change, none per poll');
    assert.equal(changes[1]!.pausedMs, 15_000, 'paused from the poll that saw 80.5 to the one that saw 69.9');
    assert.equal(changes[0]!.resumeCelsius, 70);
    governor.stop();
    assert.equal(timer.pending, false, 'stop() cancels the next poll');
  });

  it('the resume point defaults to 5 °C below the limit; a poll without readings changes nothing', async () => {
    const timer = handTimer();
    let readings: TemperatureReading[] = [{ sensor: 'nvidia/0', kind: 'gpu', celsius: 90 }];
    const governor = new ThermalGovernor({ sensors: { read: async () => readings }, maxCelsius: 85, timer });
    const polled = () => new Promise<void>((resolve) => governor.once('readings', () => resolve()));
    const first = polled();
    governor.start();
    await first;
    assert.equal(governor.throttled, true, 'hot at start: paused before anything hashes');
    for (const next of [[], [{ sensor: 'nvidia/0', kind: 'gpu', celsius: 80 }]] as TemperatureReading[][]) {
      readings = next;
      const done = polled();
      timer.fire();
      await done;
      assert.equal(governor.throttled, true, `${JSON.stringify(next)}: not below 80`);
    }
    readings = [{ sensor: 'nvidia/0', kind: 'gpu', celsius: 79.9 }];
    const done = polled();
    timer.fire();
    await done;
    assert.equal(governor.throttled, false);
    governor.stop();
  });

  it('without a limit it only reports readings; the hottest sensor decides', async () => {
    const timer = handTimer();
    const governor = new ThermalGovernor({ sensors: { read: async () => [{ sensor: 'a', kind: 'cpu', celsius: 140 }] }, timer });
    let paused = false;
    governor.on('pause', () => (paused = true));
    const first = new Promise((resolve) => governor.once('readings', resolve));
    governor.start();
    await first;
    assert.equal(paused, false);
    governor.stop();
    assert.deepEqual(hottest([{ sensor: 'a', kind: 'cpu', celsius: 50 }, { sensor: 'b', kind: 'gpu', celsius: 70 }]), { sensor: 'b', kind: 'gpu', celsius: 70 });
    assert.equal(hottest([]), undefined);
    assert.throws(() => new ThermalGovernor({ sensors: { read: async () => [] }, maxCelsius: 80, resumeCelsius: 80 }), /resumeCelsius: expected below maxCelsius 80, got 80$/);
  });
});
