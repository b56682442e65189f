#!/usr/bin/env node
// Strips an installed solominer (its node_modules) down to what this platform loads, for the
// container image (Dockerfile). The `webgpu` and `zeromq` packages ship prebuilt binaries for
// every platform (166 MB together); a Linux image loads one of each:
//   webgpu   dist/<platform>-<arch>/ (its index.js picks the folder by process.platform/arch)
//   zeromq   build/<platform>/<arch>/node/<variant>/addon.node, chosen through
//            build/manifest.json by cmake-ts's loader (the first of the compatible entries, the
//            highest ABI first, that loads). Which one loads is asked of the loader itself, here,
//            and the manifest is rewritten to name only that one (the loader would warn about
//            each missing file it tries first).
// Every other platform's files go. Then it loads both packages to prove the image still can.
//
// Usage: node scripts/prune-runtime.mjs <installed package folder>
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '.');
const modules = join(root, 'node_modules');
const require = createRequire(join(root, 'package.json'));

function size(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((sum, name) => sum + size(join(path, name)), 0);
}

let freed = 0;
function remove(path) {
  freed += size(path);
  rmSync(path, { recursive: true, force: true });
}

// webgpu: one dist folder per platform-arch.
const webgpuDist = join(modules, 'webgpu', 'dist');
const keepWebgpu = `${process.platform}-${process.arch}`;
for (const name of readdirSync(webgpuDist)) {
  const path = join(webgpuDist, name);
  if (statSync(path).isDirectory() && name !== keepWebgpu) remove(path);
}

// zeromq: the addon its loader picks on this machine; everything else under build/.
const zmqBuild = join(modules, 'zeromq', 'build');
const manifestPath = join(zmqBuild, 'manifest.json');
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const before = new Set(Object.keys(require.cache));
require('zeromq');
const loaded = Object.keys(require.cache).find((p) => !before.has(p) && p.startsWith(zmqBuild) && p.endsWith('.node'));
if (loaded === undefined) throw new Error('prune-runtime: could not tell which zeromq addon loads here');
const loadedRel = relative(zmqBuild, loaded).split('\\').join('/');
const entries = Object.entries(manifest).filter(([, file]) => file === loadedRel);
writeFileSync(manifestPath, JSON.stringify(Object.fromEntries(entries)));
function pruneTree(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (path === manifestPath || path === loaded) continue;
    if (statSync(path).isDirectory()) {
      if (!loaded.startsWith(`${path}/`)) remove(path);
      else pruneTree(path);
    } else remove(path);
  }
}
pruneTree(zmqBuild);

// Both still load (in a fresh process: this one holds the old addon already).
const { spawnSync } = await import('node:child_process');
const check = spawnSync(process.execPath, ['--input-type=module', '-e', "await import('zeromq'); await import('webgpu');"], { cwd: root, stdio: 'inherit' });
if (check.status !== 0) throw new Error('prune-runtime: zeromq or webgpu no longer loads after pruning');
console.log(`prune-runtime: kept webgpu dist/${keepWebgpu} and zeromq build/${loadedRel}; freed ${(freed / 1e6).toFixed(1)} MB`);
