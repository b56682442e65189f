// contrib/grafana/solominer.json and contrib/prometheus/alerts.yml name only what a live /metrics
// serves: every solominer_* series they query exists, with the labels they select and group by.
// Also: the Grafana model hangs together (ids, data source, grid) and both cover what the issue
// asks for (hash rate, work switches and latency, templates, blocks by outcome, best share, node
// reachability; alerts for an unreachable node, an old template, no hashing, a block found, a block
// orphaned).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

import { Recorder } from '../../src/telemetry/recorder.js';
import { REPO_ROOT } from '../support/browser.js';
import { tempDir } from '../support/files.js';

const GRAFANA = join(REPO_ROOT, 'contrib/grafana/solominer.json');
const ALERTS = join(REPO_ROOT, 'contrib/prometheus/alerts.yml');
/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = new Set(['instance', 'job']);

/** Every string under an "expr" key, and the templating queries, anywhere in the model. */
function grafanaQueries(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) grafanaQueries(item, out);
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'expr' || key === 'definition') && typeof value === 'string') out.push(value);
      else grafanaQueries(value, out);
    }
  }
  return out;
}

function alertExprs(text: string): string[] {
  return [...text.matchAll(/^\s*expr:\s*(.+)$/gm)].map((m) => m[1]!.trim());
}

/** Series name → the label names its samples carry, from the exposition text. */
function seriesLabels(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const m of text.matchAll(/^(solominer_\w+)(?:\{([^}]*)\})? \S+$/gm)) {
    const labels = out.get(m[1]!) ?? new Set<string>();
    for (const l of (m[2] ?? '').matchAll(/(\w+)="/g)) labels.add(l[1]!);
    out.set(m[1]!, labels);
  }
  return out;
}

describe('contrib: Grafana dashboard and Prometheus alerts', { timeout: 60_000 }, () => {
  let metrics: Map<string, Set<string>>;
  const grafana = JSON.parse(readFileSync(GRAFANA, 'utf8')) as {
    uid: string;
    panels: Array<{ id: number; type: string; title: string; gridPos: { x: number; w: number }; datasource?: { uid: string }; targets?: Array<{ expr: string; datasource: { uid: string } }> }>;
  };
  const alerts = readFileSync(ALERTS, 'utf8');
  const queries = [...grafanaQueries(grafana).map((q) => ['grafana', q] as const), ...alertExprs(alerts).map((q) => ['alerts', q] as const)];

  before(async () => {
    const { dir, cleanup } = await tempDir();
    const rec = await Recorder.start({
      config: { network: 'regtest', reportDir: join(dir, 'reports'), metricsPort: 0, metricsHost: '127.0.0.1', logFormat: 'json' },
      log: () => undefined,
    });
    try {
      // One of every event, so that every series a fresh miner can have is there.
      rec.template('zmq');
      rec.workSwitch({ job: { height: 5, bits: 0x207fffff, previousBlockHash: '11'.repeat(32), txCount: 1, coinbaseValue: 5_000_000_000 }, reason: 'zmq', newTip: true, latencyMs: 4, overheadMs: 1 });
      rec.hashes('cpu', 'avx2', 1000);
      rec.share(3, 'cpu');
      rec.error('node-warning', 'warning', 'w', 'kept mining');
      // A Stratum pool with a worker, the pool mined through, and the rewards of found blocks.
      const worker = { name: 'bc1q.rig', worker: 'rig', address: 'bc1q', userAgent: null, connections: 1, connectedSince: null, hashesPerSecond: 5e11, difficulty: 1024, sharesAccepted: 1, sharesRejected: {}, bestShare: { run: 2e6, allTime: 2e6 }, lastShareAt: null, blocksFound: 0 };
      rec.attachPool({ url: 'stratum+tcp://127.0.0.1:3333', connections: 1, workers: () => [worker] });
      rec.poolShare({ name: 'bc1q.rig', address: 'bc1q' }, true, 1024, 2e6);
      rec.poolFanout(2, 1, true);
      rec.upstreamState(true, 'stratum+tcp://pool:3333');
      rec.upstreamDifficulty(0.5);
      rec.upstreamShare(false, 'stale', 'stale');
      rec.upstreamState(false, 'stratum+tcp://pool:3333', 'reset');
      rec.upstreamState(true, 'stratum+tcp://pool:3333');
      rec.watchRewards(() => ({ lastBlock: null, immature: { blocks: 1, sats: 312_500_000 } }));
      // Nodes (mine --node) and a node's answer.
      rec.watchNodes(() => [{ name: 'http://127.0.0.1:8332', index: 1, state: 'ok', reason: null, since: Date.now(), height: 5, tip: '11'.repeat(32), zmq: 'connected', templateSource: true }]);
      rec.nodeAnswer('http://127.0.0.1:8332', 'accepted');
      metrics = seriesLabels(await (await fetch(`${rec.metricsUrl}/metrics`)).text());
    } finally {
      await rec.close();
      await cleanup();
    }
  });

  it('every solominer_* name they query is a series of a live /metrics', () => {
    assert.ok(queries.length >= 25, `found ${queries.length} queries`);
    const missing: string[] = [];
    for (const [file, q] of queries) {
      for (const m of q.matchAll(/\bsolominer_\w+/g)) if (!metrics.has(m[0])) missing.push(`${file}: ${m[0]} in ${q}`);
    }
    assert.deepEqual(missing, []);
    // Not vacuous: the names a histogram exposes are told apart from one it does not.
    assert.ok(metrics.has('solominer_work_switch_latency_seconds_bucket'));
    assert.ok(!metrics.has('solominer_work_switch_latency_seconds'));
  });

  it('the labels they select and group by are labels of those series', () => {
    const wrong: string[] = [];
    for (const [file, q] of queries) {
      for (const m of q.matchAll(/(solominer_\w+)\{([^}]*)\}/g)) {
        for (const l of m[2]!.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) {
          if (!TARGET_LABELS.has(l[1]!) && !metrics.get(m[1]!)?.has(l[1]!)) wrong.push(`${file}: ${m[1]} has no label ${l[1]}`);
        }
      }
      // `sum by (a, b) (rate(solominer_x...))`: a and b must be labels of solominer_x.
      for (const m of q.matchAll(/\bby \(([^)]*)\) \((?:\w+\()?(solominer_\w+)/g)) {
        for (const l of m[1]!.split(',').map((s) => s.trim())) {
          if (!TARGET_LABELS.has(l) && !metrics.get(m[2]!)?.has(l)) wrong.push(`${file}: ${m[2]} has no label ${l} to group by`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('the Grafana model hangs together: unique ids, the datasource variable, 24 columns', () => {
    assert.equal(grafana.uid, 'solominer');
    const ids = grafana.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const p of grafana.panels) {
      assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the grid`);
      if (p.type === 'row') continue;
      assert.equal(p.datasource?.uid, '${datasource}', p.title);
      assert.ok((p.targets ?? []).length > 0, `${p.title} has a query`);
      for (const t of p.targets ?? []) {
        assert.equal(t.datasource.uid, '${datasource}', p.title);
        assert.match(t.expr, /instance=~"\$instance"/, `${p.title} follows the miner picked`);
      }
    }
  });

  it('covers what operators asked for', () => {
    const panelText = grafana.panels.map((p) => `${p.title} ${(p.targets ?? []).map((t) => t.expr).join(' ')}`);
    for (const [what, pattern] of [
      ['hash rate', /solominer_hash_rate/],
      ['work switches', /solominer_work_switches_total/],
      ['work switch latency', /solominer_work_switch_latency_seconds_bucket/],
      ['templates', /solominer_templates_total/],
      ['blocks by outcome', /by \(outcome\) \(increase\(solominer_blocks_total/],
      ['best share', /solominer_best_share_difficulty/],
      ['node reachability', /solominer_node_reachable/],
      ['workers', /solominer_stratum_worker_hash_rate/],
      ['immature rewards', /solominer_immature_value_btc/],
      ['the pool mined through', /solominer_upstream_connected/],
    ] as const) {
      assert.ok(panelText.some((t) => pattern.test(t)), `a panel for ${what}`);
    }
    const rules = [...alerts.matchAll(/^\s*- alert: (\w+)\n\s*(?:#.*\n\s*)*expr: (.+)\n([\s\S]*?)(?=^\s*- alert:|(?![\s\S]))/gm)];
    const names = rules.map((r) => r[1]);
    assert.deepEqual(names, ['SolominerNodeUnreachable', 'SolominerNodeDown', 'SolominerBlockIsolated', 'SolominerTemplateStale', 'SolominerHashRateZero', 'SolominerThrottled', 'SolominerBlockFound', 'SolominerBlockRejected', 'SolominerBlockOrphaned', 'SolominerReportsFailing', 'SolominerPoolLost', 'SolominerStratumWorkerSilent']);
    for (const r of rules) {
      assert.match(r[3]!, /^\s+severity: (critical|warning|info)$/m, `${r[1]} has a severity`);
      assert.match(r[3]!, /^\s+summary: ".+"$/m, `${r[1]} has a summary`);
    }
    assert.match(alerts, /expr: solominer_last_template_age_seconds > \d+/);
    assert.match(alerts, /solominer_blocks_total\{outcome="orphaned"\}/);
    assert.match(alerts, /solominer_blocks_total\{outcome="isolated"\}/);
    assert.match(alerts, /expr: solominer_node_up == 0/);
    assert.match(alerts, /unless on \(instance\) solominer_throttled == 1/, 'a pause for heat is not an outage');
  });
});
