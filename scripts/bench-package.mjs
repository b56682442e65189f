#!/usr/bin/env node
// The package's figures, for npm run bench (never asserted anywhere):
//  - its size: the tarball npm pack makes, unpacked, and each prebuilt addon;
//  - `npm install -g` of that tarball into a private prefix: with the prebuilt, on a PATH without
//    compilers (as on a machine with only Node.js), and from source (SOLOMINER_BUILD_FROM_SOURCE=1,
//    compilers on PATH). npm's cache is warm (--prefer-offline): the figures are the install's
//    own work, not downloads;
//  - the test suite's wall time per Node version (.cache/logs/suite-times.json, written by every
//    full npm test and npm run test:node-lines; the date says when);
//  - cycles per nonce of arm_sha2 and scalar on the emulated arm64 core (qemu user mode): a
//    sanity figure only. QEMU translates every instruction, so this says nothing about the
//    speed of a real arm64 core; it only shows both back ends run and how their instruction
//    streams compare under one translator.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { barePath, bareEnv } = await import('../dist/test/support/bare-path.js');

function run(command, args, options = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-5).join('\n');
    throw new Error(`${command} ${args.join(' ')}: exit ${r.status ?? r.signal}\n${tail}`);
  }
  return { ...r, seconds };
}

function npmCli() {
  if (process.env.npm_execpath?.endsWith('npm-cli.js')) return process.env.npm_execpath;
  const which = spawnSync('sh', ['-c', 'readlink -f "$(command -v npm)"'], { encoding: 'utf8' });
  return which.stdout.trim();
}

const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
const scratch = mkdtempSync(join(tmpdir(), 'solominer-bench-package-'));
try {
  console.log(`\n== the package (${spawnSync('sh', ['-c', "lscpu | sed -n 's/^Model name:[[:space:]]*//p'"], { encoding: 'utf8' }).stdout.trim()}, node ${process.version})`);
  const onX64 = process.platform === 'linux' && process.arch === 'x64';
  run(process.execPath, [join(ROOT, 'scripts', 'prebuild.mjs'), ...(onX64 ? [] : [`${process.platform}-${process.arch}`])], { cwd: ROOT });
  const npm = npmCli();
  const pack = run(process.execPath, [npm, 'pack', '--ignore-scripts', '--json', '--pack-destination', scratch], { cwd: ROOT });
  const [info] = JSON.parse(pack.stdout);
  const manifest = JSON.parse(readFileSync(join(ROOT, 'prebuilds', 'manifest.json'), 'utf8'));
  console.log(`package: ${info.filename}: ${kib(info.size)} packed, ${kib(info.unpackedSize)} unpacked, ${info.entryCount} files`);
  for (const [target, entry] of Object.entries(manifest.targets)) {
    console.log(`  prebuilt ${target}: ${kib(entry.bytes)}, needs ${Object.entries(entry.needs).map(([f, v]) => `${f}_${v}`).join(', ')}`);
  }
  console.log('  dependencies as installed come on top (webgpu and zeromq carry prebuilt binaries for every platform)');

  const tarball = join(scratch, info.filename);
  const bare = barePath(join(scratch, 'bare-bin'));
  const install = (name, env) => {
    const prefix = join(scratch, name);
    mkdirSync(prefix);
    const r = run(process.execPath, [npm, 'install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: scratch, env });
    const du = spawnSync('du', ['-sk', join(prefix, 'lib', 'node_modules', 'solominer')], { encoding: 'utf8' }).stdout.split('\t')[0];
    return { seconds: r.seconds, kib: Number(du) };
  };
  const prebuilt = install('prebuilt', bareEnv(bare));
  const source = install('source', bareEnv(process.env.PATH ?? '', { SOLOMINER_BUILD_FROM_SOURCE: '1' }));
  console.log(`npm install -g from the tarball (npm cache warm): prebuilt, no compiler on PATH ${prebuilt.seconds.toFixed(1)} s; from source ${source.seconds.toFixed(1)} s (${(source.seconds / prebuilt.seconds).toFixed(1)}x); installed ${(prebuilt.kib / 1024).toFixed(0)} MiB with dependencies`);

  let times = {};
  try {
    times = JSON.parse(readFileSync(join(ROOT, '.cache', 'logs', 'suite-times.json'), 'utf8'));
  } catch {
    // none recorded yet
  }
  const versions = Object.keys(times).sort((a, b) => Number(a.slice(1).split('.')[0]) - Number(b.slice(1).split('.')[0]));
  if (versions.length === 0) console.log('suite wall time per Node line: none recorded yet (npm test, npm run test:node-lines record it)');
  for (const v of versions) {
    const t = times[v];
    const excluded = t.excluded?.length ? `, without ${t.excluded.join(', ')}` : '';
    console.log(`suite on node ${v}: ${Math.floor(t.seconds / 60)} min ${t.seconds % 60} s, ${t.files} files${excluded}, ${t.passed ? 'passed' : 'FAILED'} (${t.at})`);
  }

  if (onX64) {
    const p = run('bash', [join(ROOT, 'scripts', 'provision-arm64.sh')], { cwd: ROOT });
    const arm64 = p.stdout.trim().split('\n').pop();
    run(process.execPath, [join(ROOT, 'scripts', 'prebuild.mjs'), 'linux-arm64'], { cwd: ROOT });
    const script =
      "const { nativeAddon } = await import('./dist/src/native/addon.js'); const a = nativeAddon();" +
      "for (const b of ['arm_sha2', 'scalar']) { const p = a.probeBackend(b, 5, 1 << 15); console.log(JSON.stringify({ b, ...p })); }";
    const r = run(join(arm64, 'bin', 'node'), ['--input-type=module', '-e', script], { cwd: ROOT, env: { ...process.env, QEMU_CPU: 'max' } });
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const cycles = Object.fromEntries(rows.map((row) => [row.b, row.nsPerNonce * 1e-9 * row.coreHz]));
    console.log(
      `emulated arm64 (qemu max core; a sanity figure, nothing about real speed): arm_sha2 ${cycles.arm_sha2.toFixed(0)}, scalar ${cycles.scalar.toFixed(0)} emulated cycles per nonce ` +
        `(ns per nonce x the emulated add-chain rate; scalar/arm_sha2 ${(cycles.scalar / cycles.arm_sha2).toFixed(1)}x)`,
    );
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
