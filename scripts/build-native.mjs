#!/usr/bin/env node
// Builds the native addon with cmake-js. Runs from `npm install` (the project's own install
// script: npm does not run dependencies' scripts here) and from `npm run build:native`.
// A missing tool is one line naming what to install, and exit 1.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

function has(command, args = ['--version']) {
  const r = spawnSync(command, args, { stdio: 'ignore' });
  return r.status === 0;
}

function fail(message) {
  console.error(`solominer: ${message}`);
  process.exit(1);
}

if (!has('cmake')) fail('cmake is required to build the native engine: install cmake (3.15 or later), e.g. apt-get install cmake');
const cxx = process.env.CXX || 'c++';
if (!has(cxx) && !has('g++') && !has('clang++')) {
  fail('a C++17 compiler is required to build the native engine: install g++ or clang++, e.g. apt-get install g++');
}
if (!has('make') && !has('ninja')) fail('make or ninja is required to build the native engine: install make, e.g. apt-get install make');

let cmakeJs;
try {
  cmakeJs = require.resolve('cmake-js/bin/cmake-js');
} catch {
  fail('cmake-js is missing: run npm install first');
}

const force = process.argv.includes('--force');
const args = [cmakeJs, force ? 'rebuild' : 'build', '--directory', root, '--out', join(root, 'build')];
const jobs = process.env.CMAKE_BUILD_PARALLEL_LEVEL || '2';
const r = spawnSync(process.execPath, args, {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, CMAKE_BUILD_PARALLEL_LEVEL: jobs },
});
if (r.status !== 0) fail('building the native engine failed (see the compiler output above)');
const addon = join(root, 'build', 'Release', 'solominer_native.node');
if (!existsSync(addon)) fail(`the build finished but ${'build/Release/solominer_native.node'} is missing`);
