// `bench --sweep` and the choice `tune` makes from it (src/cli/sweep.ts): the thread counts
// compared, the rule that picks a configuration and says why, the CLI's table and JSON rows, and
// a GPU sweep on whatever adapter WebGPU offers (lavapipe without a GPU). Correctness only: no
// speed is asserted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { chooseBest, runSweep, sweepThreadCounts, type SweepRow } from '../../src/cli/sweep.js';
import { cpuBackends, defaultThreads } from '../../src/engines/cpu-engine.js';
import { DEFAULT_TUNING, tuningLabel } from '../../src/engines/gpu/tuning.js';
import { runCli } from '../support/cli.js';

function row(backend: string, threads: number, mhs: number, tuning?: string): SweepRow {
  return { engine: tuning === undefined ? 'cpu' : 'gpu', backend, threads, versions: 1, seconds: 1, hashes: mhs * 1e6, hashesPerSecond: mhs * 1e6, ...(tuning !== undefined && { tuning }) };
}

describe('bench --sweep and the choice of tune', { timeout: 180_000 }, () => {
  it('compares every thread count up to 8, then powers of two and the whole machine', () => {
    assert.deepEqual(sweepThreadCounts(1), [1]);
    assert.deepEqual(sweepThreadCounts(2), [1, 2]);
    assert.deepEqual(sweepThreadCounts(8), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(sweepThreadCounts(24), [1, 2, 3, 4, 5, 6, 7, 8, 16, 24]);
  });

  it('picks the fewest threads within 3% of the fastest, on the fastest back end there, and says why', () => {
    const rows = [row('avx512', 1, 30), row('avx512', 2, 59.1), row('avx512', 3, 60), row('avx2', 1, 12), row('avx2', 2, 23), row('avx2', 3, 24)];
    const choice = chooseBest(rows);
    assert.deepEqual(choice.keys, { threads: 2, cpuBackend: 'avx512' });
    assert.deepEqual(choice.reasons, [
      'threads 2: 59.10 MH/s, 1.97× one thread; 3 threads reach 1.02× of it, within 3%: fewer threads leave cores free',
      'cpuBackend avx512: fastest back end at 2 threads, 2.57× avx2',
    ]);
    // Where more threads pay, all of them.
    assert.deepEqual(chooseBest([row('scalar', 1, 1), row('scalar', 2, 1.9)]).keys, { threads: 2, cpuBackend: 'scalar' });
    assert.deepEqual(chooseBest([row('scalar', 1, 1)]).reasons, ['threads 1: 1.00 MH/s', 'cpuBackend scalar: the only back end measured']);
  });

  it('picks the fastest GPU tuning, against the default', () => {
    const label = tuningLabel(DEFAULT_TUNING);
    const choice = chooseBest([row('llvmpipe', 1, 2, label), row('llvmpipe', 1, 3, 'wg128 n32 40ms q2')]);
    assert.deepEqual(choice.keys, { gpuTuning: 'wg128 n32 40ms q2' });
    assert.deepEqual(choice.reasons, [`gpuTuning "wg128 n32 40ms q2": 3.00 MH/s, 1.50× the default (${label})`]);
    assert.deepEqual(chooseBest([row('x', 1, 5, label), row('x', 1, 4, 'wg32 n1 40ms q2')]).reasons, [`gpuTuning "${label}": the fastest of 2 measured`]);
    // Within 3% of the fastest, the default stays: a short row on a busy machine is noisy.
    const close = chooseBest([row('x', 1, 10, label), row('x', 1, 10.2, 'wg32 n16 40ms q2')]);
    assert.deepEqual(close.keys, { gpuTuning: label });
    assert.deepEqual(close.reasons, [`gpuTuning "${label}": the default; the fastest, "wg32 n16 40ms q2", is within 3% of it (1.02×)`]);
    assert.deepEqual(chooseBest([]).keys, {});
  });

  it('bench --sweep --json: one row per back end and thread count; the text table names the best', async () => {
    const usable = cpuBackends().filter((b) => b.usable).map((b) => b.name);
    const most = Math.min(2, defaultThreads());
    const r = await runCli(['bench', '--sweep', '--seconds', '0.1', '--threads', String(most), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as SweepRow);
    assert.deepEqual(
      rows.map((x) => `${x.backend}x${x.threads}`),
      usable.flatMap((b) => sweepThreadCounts(most).map((t) => `${b}x${t}`)),
    );
    for (const x of rows) {
      assert.deepEqual(Object.keys(x).sort(), ['backend', 'engine', 'hashes', 'hashesPerSecond', 'seconds', 'threads', 'versions']);
      assert.ok(x.hashes > 0);
    }
    const text = await runCli(['bench', '--sweep', '--seconds', '0.1', '--threads', '1', '--backend', 'scalar']);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trim().split('\n');
    assert.match(lines[0]!, /^engine +backend +configuration +MH\/s +×first$/);
    assert.match(lines[1]!, /^cpu +scalar +1 thread +[\d.]+ +1\.00$/);
    assert.equal(lines.length, 4, text.stdout);
    assert.match(lines[2]!, /^best: threads 1: [\d.]+ MH\/s$/);
    assert.equal(lines[3], 'best: cpuBackend scalar: the only back end measured');
    const bad = await runCli(['bench', '--sweep', '--engine', 'fpga']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'solominer bench: --engine: expected cpu or gpu or all, got "fpga"\n');
  });

  it('a GPU sweep on the adapter WebGPU offers: one row per tuning, labelled', async () => {
    const tunings = [DEFAULT_TUNING, { ...DEFAULT_TUNING, workgroupSize: 32, noncesPerInvocation: 4 }];
    const seen: SweepRow[] = [];
    const rows = await runSweep({ engines: ['gpu'], seconds: 0.2, gpuTunings: tunings, required: true, onRow: (x) => seen.push(x) });
    assert.deepEqual(rows.map((x) => x.tuning), tunings.map(tuningLabel));
    assert.deepEqual(seen, rows);
    for (const x of rows) assert.ok(x.engine === 'gpu' && x.hashes > 0, JSON.stringify(x));
    assert.ok(chooseBest(rows).keys.gpuTuning !== undefined);
  });
});
