#!/usr/bin/env node
// package.json "prepare": compiles the TypeScript (tsconfig.json into dist/, the dashboard's
// tsconfig.dashboard.json into dist/web/). npm runs it after `npm install` in a checkout, before
// `npm pack`, and when `npx solominer` in a checkout links the folder into npx's cache.
//
// That last one can come before `npm install`, when there is no TypeScript yet. A failure then
// would leave npx's cache entry for the folder half-made, and every later `npx solominer` there
// failing (ENOENT on its package.json) until the entry is removed. So in that one case this
// succeeds doing nothing (scripts/install.mjs, which npx runs next, says what to do in one line;
// bin/solominer.js says it again), and after `npm install` the same entry runs the checkout.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

let tsc;
try {
  tsc = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  if (process.env.npm_command === 'exec') process.exit(0);
  console.error('solominer: TypeScript is missing: run npm install first');
  process.exit(1);
}
for (const project of ['tsconfig.json', 'tsconfig.dashboard.json']) {
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, project)], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
