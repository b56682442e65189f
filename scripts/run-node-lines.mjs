#!/usr/bin/env node
// npm run test:node-lines: the whole suite once per supported Node.js LTS line (22, 24, 26 by
// default, or the majors given as arguments), each from the npm registry's node-linux-<arch>
// package (scripts/provision-node-lines.sh, into .cache/node-lines/). `npm test` covers the
// machine's own node and the emulated arm64 run; this covers the lines, one after the other.
// Each line runs scripts/run-tests.mjs with its own node first on PATH, so every process the
// tests start (the CLI, npm's install scripts) runs on that line too. The addon is Node-API
// (ABI-stable across lines), so one build serves every line, as it does for users. Left out per
// line: the emulated arm64 run, whose node is the arm64 one whatever the host's line.
// run-tests.mjs records the wall time per line (.cache/logs/suite-times.json; npm run bench prints it).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const majors = process.argv.slice(2).filter((a) => /^\d+$/.test(a));
const lines = majors.length > 0 ? majors : ['22', '24', '26'];

const p = spawnSync('bash', [join(ROOT, 'scripts', 'provision-node-lines.sh'), ...lines], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const nodes = (p.stdout ?? '').trim().split('\n').pop()?.split(':').filter(Boolean) ?? [];
if (p.status !== 0 || nodes.length !== lines.length) {
  const why = (p.stderr ?? '').split('\n').filter((l) => /error:/.test(l)).pop()?.trim() ?? `exit ${p.status}`;
  console.error(`test:node-lines: no Node lines: scripts/provision-node-lines.sh failed: ${why}`);
  process.exit(1);
}

const EXCLUDE = 'platform/arm64-emulated';
const results = [];
for (const node of nodes) {
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`\ntest:node-lines: the suite on node ${version} (${node})`);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(node, [join(ROOT, 'scripts', 'run-tests.mjs')], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, PATH: `${dirname(node)}:${process.env.PATH ?? ''}`, SOLOMINER_TEST_EXCLUDE: EXCLUDE },
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  results.push({ version, seconds: Math.round(seconds), passed: r.status === 0 });
}

console.log('\ntest:node-lines:');
for (const r of results) console.log(`  node ${r.version}: ${r.passed ? 'passed' : 'FAILED'} in ${Math.floor(r.seconds / 60)} min ${r.seconds % 60} s`);
process.exit(results.every((r) => r.passed) ? 0 : 1);
