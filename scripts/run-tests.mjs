#!/usr/bin/env node
// npm test's runner: first what the tests need beyond npm packages (scripts/provision.mjs: a
// bitcoind, software Vulkan, a headless browser, each into .cache/ once), then every compiled
// *.test.js under dist/test, one file at a time (the integration tests start real nodes; two at
// once would only fight over two cores).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import { provisionOrExit } from './provision.mjs';
import { withVulkanEnv } from './vulkan-env.mjs';

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.js') ? [path] : [];
  });
}

// SOLOMINER_TEST_EXCLUDE: comma-separated parts of paths not run this time, each named below
// (scripts/run-node-lines.mjs leaves out what does not depend on the Node line).
const excluded = (process.env.SOLOMINER_TEST_EXCLUDE ?? '').split(',').map((s) => s.trim()).filter(Boolean);
// dist/test/container needs Docker: npm run test:container runs it (scripts/test-container.mjs).
const all = testFiles('dist/test')
  .filter((f) => !f.startsWith(join('dist', 'test', 'container')))
  .sort()
  .map((f) => relative('.', f));
const files = all.filter((f) => !excluded.some((part) => f.includes(part)));
for (const f of all.filter((f) => !files.includes(f))) console.log(`run-tests: not run this time (SOLOMINER_TEST_EXCLUDE): ${f}`);
if (files.length === 0) {
  console.error('run-tests: no compiled tests under dist/test (did tsc run?)');
  process.exit(1);
}
const provisioned = provisionOrExit();
// Software Vulkan for the GPU tests on machines without a GPU (scripts/provision-vulkan.sh).
const env = { ...withVulkanEnv(), ...provisioned };
// A temporary folder of this run's own: tests that check they left nothing behind in the
// temporary folder must not see another test run's folders (other checkouts on one machine).
const scratch = mkdtempSync(join(tmpdir(), 'solominer-tests-'));
env.TMPDIR = scratch;
// Every test file sets its own timeout; this one is the backstop for a test that sets none.
const t0 = process.hrtime.bigint();
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=600000', ...process.argv.slice(2), ...files], { stdio: 'inherit', env });
rmSync(scratch, { recursive: true, force: true });
recordWallTime(Number(process.hrtime.bigint() - t0) / 1e9, r.status === 0);
process.exit(r.status ?? 1);

/**
 * The wall time of a whole run per Node version, for npm run bench (scripts/bench-package.mjs):
 * .cache/logs/suite-times.json, the last run of each version. Runs of some files only are not kept.
 */
function recordWallTime(seconds, passed) {
  if (process.argv.length > 2) return;
  const file = join('.cache', 'logs', 'suite-times.json');
  let times = {};
  try {
    times = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // first run
  }
  times[process.version] = { seconds: Math.round(seconds), passed, files: files.length, excluded, at: new Date().toISOString() };
  mkdirSync(join('.cache', 'logs'), { recursive: true });
  writeFileSync(file, `${JSON.stringify(times, null, 2)}\n`);
}
