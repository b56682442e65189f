#!/usr/bin/env node
// npm test's runner: every compiled *.test.js under dist/test, one file at a time (the
// integration tests start real nodes; two at once would only fight over two cores).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.js') ? [path] : [];
  });
}

const files = testFiles('dist/test').sort().map((f) => relative('.', f));
if (files.length === 0) {
  console.error('run-tests: no compiled tests under dist/test (did tsc run?)');
  process.exit(1);
}
// Software Vulkan (scripts/provision-vulkan.sh) for the GPU tests on machines without a GPU:
// the loader reads VK_ICD_FILENAMES and LD_LIBRARY_PATH only at process start, so they are
// set here, for the test processes, rather than by the engine.
const env = { ...process.env };
const vulkanEnv = '.cache/vulkan/env.sh';
if (existsSync(vulkanEnv) && !env.VK_ICD_FILENAMES) {
  const dump = execFileSync('bash', ['-c', `. ${vulkanEnv} && env -0`], { encoding: 'utf8' });
  for (const entry of dump.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...process.argv.slice(2), ...files], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
