#!/usr/bin/env node
// Builds the native addon from source with cmake-js into build/Release. Run by scripts/install.mjs
// (npm install: always in a checkout; in an installed package only where no prebuilt fits) and by
// `npm run build:native`. What the build needs and this machine lacks is one line naming all of
// it and how to install it, and exit 1.
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

/** The build tools this machine lacks, as the names a package manager knows. */
export function missingTools() {
  const missing = [];
  const cxx = process.env.CXX;
  if (!(cxx ? has(cxx) : has('c++') || has('g++') || has('clang++'))) missing.push(cxx ? `${cxx} (named by $CXX)` : 'g++');
  if (!has('make') && !has('ninja')) missing.push('make');
  if (!has('cmake')) missing.push('cmake');
  return missing;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const missing = missingTools();
  if (missing.length > 0) {
    const why = process.env.SOLOMINER_BUILD_REASON ? ` (${process.env.SOLOMINER_BUILD_REASON})` : '';
    fail(
      `building the native engine from source${why} needs a C++17 compiler, make and cmake 3.15+; missing: ${missing.join(', ')}: ` +
        `install them (Debian, Ubuntu, Raspberry Pi OS: sudo apt-get install g++ make cmake) and run the install again`,
    );
  }

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
  if (!existsSync(addon)) fail('the build finished but build/Release/solominer_native.node is missing');
}
