// The governance fields of the one field table (issue 14): --cpu-backend, --reserve-cores,
// --cpu-affinity, --cpu-priority, --cpu-limit, --gpu-tuning, --max-temp/--resume-temp and
// --pid-file, through flags, SOLOMINER_* variables and the config file, with one line per bad
// value; and the default thread count that honours --reserve-cores and --cpu-affinity.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { defaultThreads, describeConfig, parseCpuList } from '../../src/config/mine-config.js';
import { defaultThreads as cpuDefaultThreads } from '../../src/engines/cpu-engine.js';
import { parseTuningLabel } from '../../src/engines/gpu/tuning.js';
import { ADDRESS, failure, load, withCwd } from './_support.js';
import { loadMineConfig } from '../../src/config/load-config.js';

const A = ['--address', ADDRESS];

describe('governance configuration', { timeout: 30_000 }, () => {
  it('reads every field from flags, variables and the file, flags first', async () => {
    const fromFlags = await load({
      argv: [...A, '--cpu-backend', 'scalar', '--reserve-cores', '1', '--cpu-affinity', '0,2-3', '--cpu-priority', 'idle', '--cpu-limit', '50', '--gpu-tuning', 'wg128 n8', '--max-temp', '85', '--resume-temp', '78.5', '--pid-file', 'run/miner.pid'],
    });
    assert.equal(fromFlags.cpuBackend, 'scalar');
    assert.equal(fromFlags.reserveCores, 1);
    assert.deepEqual(fromFlags.cpuAffinity, [0, 2, 3]);
    assert.equal(fromFlags.cpuPriority, 'idle');
    assert.equal(fromFlags.cpuLimit, 50);
    assert.equal(fromFlags.gpuTuning, 'wg128 n8');
    assert.equal(fromFlags.maxTemp, 85);
    assert.equal(fromFlags.resumeTemp, 78.5);
    assert.ok(fromFlags.pidFile?.endsWith(join('run', 'miner.pid')));
    assert.match(describeConfig(fromFlags), /cpuBackend=scalar reserveCores=1 cpuAffinity=0,2,3 cpuPriority=idle cpuLimit=50 gpuTuning="wg128 n8" maxTemp=85 resumeTemp=78.5 pidFile=/);

    const fromEnv = await load({ argv: A, env: { SOLOMINER_CPU_LIMIT: '30', SOLOMINER_CPU_AFFINITY: '1', SOLOMINER_MAX_TEMP: '90' }, file: { cpuLimit: 70, cpuPriority: 'low', cpuAffinity: [3, 1, 3] } });
    assert.equal(fromEnv.cpuLimit, 30, 'the variable over the file');
    assert.equal(fromEnv.cpuPriority, 'low', 'the file where nothing else says');
    assert.deepEqual(fromEnv.cpuAffinity, [1]);
    assert.equal(fromEnv.resumeTemp, 85, 'resume defaults to 5 °C below the limit');

    const fromFile = await load({ argv: A, file: { cpuAffinity: '2-3,0', pidFile: 'm.pid' } });
    assert.deepEqual(fromFile.cpuAffinity, [2, 3, 0], 'the order given; thread i runs on the i-th');
    const unset = await load({ argv: A });
    for (const key of ['cpuBackend', 'reserveCores', 'cpuAffinity', 'cpuPriority', 'cpuLimit', 'gpuTuning', 'maxTemp', 'resumeTemp', 'pidFile'] as const) {
      assert.equal(unset[key], undefined, `${key} unset by default (the engines' own default)`);
    }
  });

  it('default threads: the CPUs this process may use, less --reserve-cores, at most one per pinned CPU', async () => {
    const all = cpuDefaultThreads();
    assert.equal((await load({ argv: A })).threads, all);
    assert.equal((await load({ argv: [...A, '--reserve-cores', '1'] })).threads, Math.max(1, all - 1));
    assert.equal((await load({ argv: [...A, '--reserve-cores', '1024'] })).threads, 1, 'never below one');
    assert.equal((await load({ argv: [...A, '--cpu-affinity', '0'] })).threads, 1);
    assert.equal((await load({ argv: [...A, '--threads', '3', '--reserve-cores', '1'] })).threads, 3, '--threads wins');
    assert.equal(defaultThreads({ cpuAffinity: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] }), Math.min(all, 10));
  });

  it('parses CPU lists and GPU tunings', () => {
    assert.deepEqual(parseCpuList('0,2-3'), [0, 2, 3]);
    assert.deepEqual(parseCpuList(' 5 , 1-2,2 '), [5, 1, 2]);
    for (const bad of ['', '0,', 'a', '3-1', '1-', '-1', '0-1024']) assert.equal(parseCpuList(bad), undefined, bad);
    assert.deepEqual(parseTuningLabel('wg256 n32 20ms q3'), { workgroupSize: 256, noncesPerInvocation: 32, dispatchMs: 20, inFlight: 3, versions: 8, subgroups: true });
    assert.deepEqual(parseTuningLabel('n8 v4 nosg'), { workgroupSize: 64, noncesPerInvocation: 8, dispatchMs: 40, inFlight: 2, versions: 4, subgroups: false });
    assert.deepEqual(parseTuningLabel('nosg v16 sg'), { workgroupSize: 64, noncesPerInvocation: 16, dispatchMs: 40, inFlight: 2, versions: 16, subgroups: true });
    for (const bad of ['', 'wg', '64', 'wg64ms', 'x1', 'n0', 'sg2', 'nosg1']) assert.equal(parseTuningLabel(bad), undefined, bad);
  });

  describe('one line per bad value', () => {
    const rows: Array<[Parameters<typeof failure>[0], string]> = [
      [{ argv: [...A, '--cpu-backend', 'AVX 2'] }, '--cpu-backend: expected a CPU back end name such as avx2 (check and bench list them), got "AVX 2"'],
      [{ argv: [...A, '--reserve-cores=-1'] }, '--reserve-cores: expected an integer 0..1024, got "-1"'],
      [{ argv: [...A, '--cpu-affinity', '0,2-'] }, '--cpu-affinity: expected CPU indices such as 0,2-3 (numbers and ranges 0..1023, comma-separated), got "0,2-"'],
      [{ argv: A, file: { cpuAffinity: [] } }, 'config.json cpuAffinity: expected CPU indices such as 0,2-3 (numbers and ranges 0..1023, comma-separated), got an array'],
      [{ argv: A, env: { SOLOMINER_CPU_PRIORITY: 'high' } }, 'SOLOMINER_CPU_PRIORITY: expected idle, low or normal, got "high"'],
      [{ argv: [...A, '--cpu-limit', '0'] }, '--cpu-limit: expected an integer percent 1..100, got "0"'],
      [{ argv: [...A, '--cpu-limit', '50%'] }, '--cpu-limit: expected an integer percent 1..100, got "50%"'],
      [{ argv: [...A, '--gpu-tuning', 'wg4096'] }, '--gpu-tuning: expected a GPU tuning such as "wg64 n16 40ms q2 v8" (workgroup size, nonces per invocation, dispatch ms, dispatches queued, versions per nonce 1..16, and nosg for no subgroup shuffles; bench --sweep lists them), got "wg4096"'],
      [{ argv: [...A, '--max-temp', 'hot'] }, '--max-temp: expected degrees Celsius, a number 20..150, got "hot"'],
      [{ argv: [...A, '--resume-temp', '70'] }, '--resume-temp: needs a limit to resume below (--max-temp, SOLOMINER_MAX_TEMP or config.json maxTemp)'],
      [{ argv: [...A, '--max-temp', '80', '--resume-temp', '80'] }, '--resume-temp: expected a temperature below --max-temp 80, got 80'],
      [{ argv: A, file: { maxTemp: 19 } }, 'config.json maxTemp: expected degrees Celsius, a number 20..150, got 19'],
      [{ argv: [...A, '--max-temp', '80'], env: { SOLOMINER_RESUME_TEMP: '90' } }, 'SOLOMINER_RESUME_TEMP: expected a temperature below --max-temp 80, got 90'],
      [{ argv: [...A, '--pid-file', ''] }, '--pid-file: expected a file path, got ""'],
    ];
    for (const [setup, message] of rows) {
      it(message, async () => {
        assert.equal(await failure(setup), message);
      });
    }
  });

  it('a relative --pid-file in the file is relative to the file', async () => {
    await withCwd(async (cwd) => {
      const { writeFile, mkdir } = await import('node:fs/promises');
      await mkdir(join(cwd, 'etc'));
      await writeFile(join(cwd, 'etc', 'c.json'), JSON.stringify({ pidFile: 'miner.pid' }));
      const c = await loadMineConfig({ argv: [...A, '--config', join(cwd, 'etc', 'c.json')], env: {}, cwd });
      assert.equal(c.pidFile, join(cwd, 'etc', 'miner.pid'));
    });
  });
});
