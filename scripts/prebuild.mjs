#!/usr/bin/env node
// Builds the prebuilt addons the package ships (prebuilds/<target>/solominer_native.node) with
// cmake-js against Node-API (package.json binary.napi_versions), so that installing the package
// needs no compiler. Run by `npm pack` (prepack) and by the tests that load the prebuilts.
//
//   node scripts/prebuild.mjs [target ...]     targets: linux-x64, linux-arm64
//   default: $SOLOMINER_PREBUILD_TARGETS (comma-separated), else every target
//
// Each target is built in build/prebuild/<target> (incremental: a second run compiles nothing),
// then checked and copied, stripped, into prebuilds/<target>/; prebuilds/manifest.json records
// every file's size, SHA-256 and the glibc and libstdc++ versions it needs. The checks, each a
// one-line failure:
//  - the ELF machine is the target's;
//  - no symbol version newer than the oldest supported system has: Ubuntu 22.04 (glibc 2.35,
//    libstdc++ of GCC 12: GLIBCXX_3.4.30, CXXABI_1.3.13), Debian 12 and Raspberry Pi OS bookworm
//    (glibc 2.36, GCC 12). A GCC 12 build on bookworm needs GLIBC_2.34 and GLIBCXX_3.4.30.
//    (Linking libstdc++ statically would not lower this: its archive pulls in arc4random,
//    GLIBC_2.36, and the unwinder _dl_find_object, GLIBC_2.35.)
//  - instructions of an optional instruction set (SHA-NI, AVX2, AVX-512, the ARMv8 crypto
//    extension) appear only in the back end compiled for it, so code a CPU may lack cannot run
//    before the dispatcher has checked the CPU.
// linux-x64 is built with this machine's compiler (an x86-64 glibc machine); linux-arm64 with
// Debian's cross compiler, provisioned into .cache/arm64 by scripts/provision-arm64.sh.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(join(ROOT, 'package.json'));

/** The newest symbol versions a prebuilt may need: those of Ubuntu 22.04 (glibc 2.35, GCC 12's libstdc++). */
export const FLOOR = { GLIBC: '2.35', GLIBCXX: '3.4.30', CXXABI: '1.3.13' };
export const ADDON_FILE = 'solominer_native.node';
export const TARGETS = ['linux-x64', 'linux-arm64'];

const ELF_MACHINE = { x64: 62, arm64: 183 };

/**
 * Instructions only one back end may contain, by target: a pattern for the mnemonic (or an
 * operand that only that instruction set has) and the piece of the symbol name of the code
 * allowed to hold it.
 */
const ISA_RULES = {
  'linux-x64': [
    { isa: 'AVX-512', insn: /%zmm|%k[1-7]\b|\{%k/, owners: ['avx512'] },
    { isa: 'AVX2 (256-bit integer)', insn: /%ymm/, owners: ['avx512', 'avx2'] },
    { isa: 'SHA-NI', insn: /^sha256(rnds2|msg1|msg2)\b/, owners: ['x86_shani'] },
  ],
  'linux-arm64': [{ isa: 'the ARMv8 crypto extension', insn: /^(sha256h2?|sha256su[01]|sha1[a-z0-9]+|sha512[a-z0-9]+|aes[a-z]+|pmull2?)\b/, owners: ['arm_sha2'] }],
};

export class PrebuildError extends Error {
  name = 'PrebuildError';
}

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options });
  if (r.error) throw new PrebuildError(`${command}: ${r.error.message}`);
  return r;
}

/** The host this script runs on, as a target name. */
export function hostTarget() {
  return `${process.platform}-${process.arch}`;
}

/** The folder of the provisioned arm64 toolchain (scripts/provision-arm64.sh). */
export function provisionArm64() {
  const r = run('bash', [join(ROOT, 'scripts', 'provision-arm64.sh')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const dir = r.stdout.trim().split('\n').pop()?.trim();
  if (r.status !== 0 || !dir) {
    const why = r.stderr.split('\n').filter((l) => /error:/.test(l)).pop()?.trim() ?? `exit ${r.status}`;
    throw new PrebuildError(`linux-arm64: no cross toolchain: scripts/provision-arm64.sh failed: ${why}`);
  }
  return dir;
}

/** Tools for reading a target's machine code: readelf reads any ELF, objdump is per architecture. */
function toolsFor(target, arm64Dir) {
  if (target === 'linux-arm64' && hostTarget() !== 'linux-arm64') {
    const dir = arm64Dir ?? provisionArm64();
    return { objdump: join(dir, 'bin', 'aarch64-linux-gnu-objdump'), strip: join(dir, 'bin', 'aarch64-linux-gnu-strip'), readelf: 'readelf', arm64Dir: dir };
  }
  return { objdump: 'objdump', strip: 'strip', readelf: 'readelf', arm64Dir };
}

/**
 * What a built addon needs from the system: its ELF machine number, the shared libraries it
 * names and the newest version of each symbol family it references ({GLIBC: '2.34', ...}).
 */
export function elfNeeds(file, readelf = 'readelf') {
  const bytes = readFileSync(file);
  if (bytes.length < 20 || bytes.readUInt32BE(0) !== 0x7f454c46) throw new PrebuildError(`${file}: not an ELF file`);
  const machine = bytes.readUInt16LE(18);
  const dyn = run(readelf, ['-d', '-W', file]);
  const ver = run(readelf, ['-V', '-W', file]);
  if (dyn.status !== 0 || ver.status !== 0) throw new PrebuildError(`readelf ${file} failed: ${(dyn.stderr || ver.stderr).trim()}`);
  const libraries = [...dyn.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const newest = {};
  for (const [, family, version] of ver.stdout.matchAll(/Name: (GLIBC|GLIBCXX|CXXABI)_([0-9.]+)/g)) {
    if (newest[family] === undefined || compareVersions(version, newest[family]) > 0) newest[family] = version;
  }
  return { machine, libraries, newest };
}

/** The symbol versions of `newest` above FLOOR, e.g. ['GLIBC_2.36']. */
export function floorViolations(newest) {
  return Object.entries(newest)
    .filter(([family, version]) => FLOOR[family] === undefined || compareVersions(version, FLOOR[family]) > 0)
    .map(([family, version]) => `${family}_${version}`);
}

/** Dotted versions compared number by number ("2.34" < "2.35", "3.4.9" < "3.4.30"). */
export const compareVersions = (a, b) => a.localeCompare(b, 'en', { numeric: true });

/**
 * Functions holding instructions of an optional instruction set outside the back end built
 * for it: [{ isa, symbol }]. Reads the unstripped build (the symbols name the functions).
 */
export function isaLeaks(file, target, objdump = 'objdump') {
  const rules = ISA_RULES[target] ?? [];
  const r = run(objdump, ['-d', '--no-show-raw-insn', '-C', file]);
  if (r.status !== 0) throw new PrebuildError(`objdump ${file} failed: ${r.stderr.trim()}`);
  const leaks = new Map();
  let symbol = '?';
  for (const line of r.stdout.split('\n')) {
    const head = /^[0-9a-f]+ <(.*)>:$/.exec(line);
    if (head) {
      symbol = head[1];
      continue;
    }
    const insn = /^\s+[0-9a-f]+:\s+(.*)$/.exec(line)?.[1];
    if (!insn) continue;
    for (const rule of rules) {
      if (!rule.insn.test(insn)) continue;
      if (rule.owners.some((o) => symbol.includes(`solominer::${o}::`) || symbol.includes(`<solominer::${o}::`))) continue;
      leaks.set(`${rule.isa} in ${symbol}`, { isa: rule.isa, symbol, example: insn.trim() });
    }
  }
  return [...leaks.values()];
}

function cmakeJsArgs(target, outDir, arm64Dir) {
  const args = [require.resolve('cmake-js/bin/cmake-js'), 'build', '--directory', ROOT, '--out', outDir];
  const [, arch] = target.split('-');
  args.push('--arch', arch);
  if (target === 'linux-arm64' && hostTarget() !== 'linux-arm64') args.push(`--CDCMAKE_TOOLCHAIN_FILE=${join(arm64Dir, 'toolchain.cmake')}`);
  return args;
}

/** Builds, checks and copies one target; returns its manifest entry. */
export function prebuild(target, { log = (line) => console.error(line), arm64Dir } = {}) {
  if (!TARGETS.includes(target)) throw new PrebuildError(`unknown target ${JSON.stringify(target)}: expected one of ${TARGETS.join(', ')}`);
  const host = hostTarget();
  if (host !== 'linux-x64' && target !== host) {
    throw new PrebuildError(`${target}: only an x86-64 Linux machine builds every target (this is ${host})`);
  }
  const tools = toolsFor(target, arm64Dir);
  const outDir = join(ROOT, 'build', 'prebuild', target);
  const t0 = process.hrtime.bigint();
  const r = run(process.execPath, cmakeJsArgs(target, outDir, tools.arm64Dir), {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CMAKE_BUILD_PARALLEL_LEVEL: process.env.CMAKE_BUILD_PARALLEL_LEVEL || '2' },
  });
  if (r.status !== 0) {
    const tail = `${r.stdout}${r.stderr}`.trim().split('\n').slice(-15).join('\n');
    throw new PrebuildError(`${target}: cmake-js build failed:\n${tail}`);
  }
  const built = join(outDir, 'Release', ADDON_FILE);
  if (!existsSync(built)) throw new PrebuildError(`${target}: the build finished but ${relative(ROOT, built)} is missing`);

  const [, arch] = target.split('-');
  const needs = elfNeeds(built, tools.readelf);
  if (needs.machine !== ELF_MACHINE[arch]) throw new PrebuildError(`${target}: ${relative(ROOT, built)} is for ELF machine ${needs.machine}, expected ${ELF_MACHINE[arch]}`);
  const tooNew = floorViolations(needs.newest);
  if (tooNew.length > 0) {
    throw new PrebuildError(`${target}: the prebuilt needs ${tooNew.join(', ')}, newer than Ubuntu 22.04 has; build it on Debian 12 (bookworm) with GCC 12`);
  }
  const leaks = isaLeaks(built, target, tools.objdump);
  if (leaks.length > 0) {
    throw new PrebuildError(`${target}: instructions outside their back end: ${leaks.map((l) => `${l.isa} in ${l.symbol} (${l.example})`).join('; ')}`);
  }

  const destDir = join(ROOT, 'prebuilds', target);
  mkdirSync(destDir, { recursive: true });
  const dest = join(destDir, ADDON_FILE);
  const tmp = `${dest}.tmp`;
  copyFileSync(built, tmp);
  const s = run(tools.strip, ['--strip-unneeded', tmp]);
  if (s.status !== 0) throw new PrebuildError(`${target}: ${tools.strip} failed: ${s.stderr.trim()}`);
  renameSync(tmp, dest);
  const bytes = readFileSync(dest);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const needText = Object.entries(needs.newest).map(([f, v]) => `${f}_${v}`).join(', ');
  log(`prebuild: ${target}: ${relative(ROOT, dest)} (${Math.round(bytes.length / 1024)} KiB, needs ${needText}) in ${seconds.toFixed(1)} s`);
  return {
    file: `${target}/${ADDON_FILE}`,
    bytes: bytes.length,
    sha256: sha256(bytes),
    needs: needs.newest,
    libraries: needs.libraries,
  };
}

/** The targets asked for: arguments, else $SOLOMINER_PREBUILD_TARGETS, else all. */
export function requestedTargets(argv = process.argv.slice(2), env = process.env) {
  const named = argv.length > 0 ? argv : (env.SOLOMINER_PREBUILD_TARGETS ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  const targets = named.length > 0 ? named : TARGETS;
  for (const t of targets) {
    if (!TARGETS.includes(t)) throw new PrebuildError(`unknown target ${JSON.stringify(t)}: expected one of ${TARGETS.join(', ')}`);
  }
  return targets;
}

/**
 * Builds the targets and writes prebuilds/manifest.json. With `only`, the package gets just
 * these (npm pack: the folders of other targets go, so no file built from older sources ships);
 * otherwise entries of targets not built now stay while their file is still the one they
 * describe (same SHA-256).
 */
export function prebuildAll(targets, options = {}) {
  const napi = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).binary?.napi_versions ?? [];
  const manifestPath = join(ROOT, 'prebuilds', 'manifest.json');
  const entries = {};
  for (const [target, entry] of Object.entries(readManifest()?.targets ?? {})) {
    const file = join(ROOT, 'prebuilds', entry.file);
    if (TARGETS.includes(target) && existsSync(file) && sha256(readFileSync(file)) === entry.sha256) entries[target] = entry;
  }
  if (options.only) {
    for (const target of TARGETS.filter((t) => !targets.includes(t))) {
      delete entries[target];
      rmSync(join(ROOT, 'prebuilds', target), { recursive: true, force: true });
    }
  }
  for (const target of targets) entries[target] = prebuild(target, options);
  const manifest = { napiVersions: napi, targets: entries };
  writeFileSync(`${manifestPath}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${manifestPath}.tmp`, manifestPath);
  return manifest;
}

function readManifest() {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'prebuilds', 'manifest.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    prebuildAll(requestedTargets());
  } catch (err) {
    if (!(err instanceof PrebuildError)) throw err;
    console.error(`prebuild: ${err.message}`);
    process.exit(1);
  }
}
