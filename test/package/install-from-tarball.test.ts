// The package as a user gets it: `npm pack` from this checkout, then `npm install -g` of the
// tarball into a private prefix on a PATH with no compiler, make or cmake (test/support/
// bare-path.ts), and `solominer demo` from that PATH mining on a real regtest node. Also: the
// install with npm running no install scripts at all (what npm does to packages an allowScripts
// policy does not name), and a package whose prebuilt does not fit on a machine without a
// compiler (one line naming what to install).
//
// npm pack runs with --ignore-scripts here: its scripts are prepack (scripts/prebuild.mjs, run
// just before) and prepare (tsc, which npm test has run); the real `npm pack` also empties
// dist/src first, which would pull the compiled tests' own imports from under them.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { bareEnv, barePath } from '../support/bare-path.js';
import { runCommand, runNode, type ChildResult } from '../support/node-child.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const TARGET = `${process.platform}-${process.arch}`;
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const GENESIS =
  '0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c';

/** npm's own CLI script: the one running `npm test`, else the `npm` on PATH. */
function npmCli(): string {
  const fromNpm = process.env.npm_execpath;
  if (fromNpm && /npm-cli\.js$/.test(fromNpm)) return fromNpm;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = join(dir, 'npm');
    if (existsSync(candidate)) return realpathSync(candidate);
  }
  throw new Error('npm not found: run the tests through npm test');
}

function explain(r: ChildResult): string {
  return `exit ${r.code ?? r.signal}\n${(r.stdout + r.stderr).slice(-4000)}`;
}

/** Every file under `dir` (links not followed), relative paths. */
function walk(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? walk(path, base) : [path.slice(base.length + 1)];
  });
}

describe('the package: npm pack, npm install -g on a machine without a compiler, solominer demo from PATH', { timeout: 600_000, skip: process.platform !== 'linux' && 'prebuilts exist for Linux only' }, () => {
  let scratch = '';
  let tarball = '';
  let bare = '';
  let installedPrefix = '';
  const npm = npmCli();

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'solominer-package-'));
    bare = barePath(join(scratch, 'bare-bin'));
    const b = await runNode([join(ROOT, 'scripts', 'prebuild.mjs')], { cwd: ROOT, timeoutMs: 500_000 });
    assert.equal(b.code, 0, `prebuild: ${explain(b)}`);
  });

  after(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** npm with the bare PATH, in the scratch folder (no project around it). */
  const runNpm = (args: string[], timeoutMs = 300_000): Promise<ChildResult> =>
    runCommand(process.execPath, [npm, ...args], { cwd: scratch, env: bareEnv(bare), timeoutMs });

  it('npm pack: the runtime, both prebuilts, the sources a build from source needs; no tests, caches or maps', async () => {
    const r = await runCommand(process.execPath, [npm, 'pack', '--ignore-scripts', '--json', '--pack-destination', scratch], { cwd: ROOT, env: bareEnv(process.env.PATH ?? ''), timeoutMs: 120_000 });
    assert.equal(r.code, 0, explain(r));
    const [info] = JSON.parse(r.stdout) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[];
    assert.ok(info);
    tarball = join(scratch, info.filename);
    assert.ok(existsSync(tarball));
    const files = info.files.map((f) => f.path);
    for (const need of [
      'package.json',
      'README.md',
      'LICENSE',
      'bin/solominer.js',
      'dist/src/cli/main.js',
      'dist/src/native/addon-loader.js',
      'dist/web/dashboard/app.js',
      'kernels/sha256d-scan.wgsl',
      'kernels/sha256d-versions-load.wgsl',
      'kernels/sha256d-versions-subgroup.wgsl',
      'prebuilds/manifest.json',
      'prebuilds/linux-x64/solominer_native.node',
      'prebuilds/linux-arm64/solominer_native.node',
      'CMakeLists.txt',
      'native/sha256/scalar.cpp',
      'scripts/install.mjs',
      'scripts/build-native.mjs',
      'scripts/provision-node.sh',
      'scripts/lib/debian-packages.sh',
    ]) {
      assert.ok(files.includes(need), `the package lacks ${need}`);
    }
    const unwanted = files.filter((f) => /^(test|src|dist\/test|\.cache|node_modules|build|docs|contrib|\.ci)\/|\.map$|\.ts$|\.tgz$/.test(f));
    assert.deepEqual(unwanted, []);
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    for (const field of ['license', 'repository', 'engines', 'bin', 'files']) assert.ok(manifest[field], `package.json has no ${field}`);
    assert.equal(manifest.private, undefined, 'a private package cannot be published');
    // For the log (npm run bench reports it): the size a user downloads.
    console.log(`# package: ${info.filename}, ${(info.size / 1024).toFixed(0)} KiB packed, ${(info.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${files.length} files`);
  });

  it('npm install -g from the tarball with no compiler on PATH: the prebuilt, checked at install', async () => {
    assert.ok(tarball, 'npm pack ran');
    const prefix = join(scratch, 'global');
    installedPrefix = prefix;
    const r = await runNpm(['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball]);
    assert.equal(r.code, 0, explain(r));
    assert.match(r.stdout + r.stderr, new RegExp(`^solominer: native engine: the prebuilt for ${TARGET} loads here; back ends .*scalar\\(1way\\)$`, 'm'));
    // package.json's engines names this node's line (npm test and test:node-lines run this file on each).
    assert.equal(/EBADENGINE/.test(r.stdout + r.stderr), false, `engines does not cover node ${process.version}`);
    const installed = join(prefix, 'lib', 'node_modules', PKG.name);
    assert.equal(existsSync(join(installed, 'build')), false, 'nothing was built from source');
    // dtrace-provider (bitcoin-core → bunyan) is optional: its script fails here without a
    // compiler and the install goes on; bunyan runs without it.
    assert.equal(existsSync(join(installed, 'node_modules', 'dtrace-provider', 'build', 'Release', 'DTraceProviderBindings.node')), false);
    // The installed package stands on its own: no link out of it, no path of this checkout in it.
    const ownFiles = walk(installed).filter((f) => !f.startsWith('node_modules/'));
    for (const f of ownFiles) {
      const path = join(installed, f);
      if (lstatSync(path).isSymbolicLink()) {
        const target = readlinkSync(path);
        assert.ok(!isAbsolute(target) && resolve(installed, f, '..', target).startsWith(installed), `${f} links out to ${target}`);
      } else if (/\.(js|mjs|json|sh)$/.test(f)) {
        assert.equal(readFileSync(path, 'utf8').includes(ROOT), false, `${f} names the checkout`);
      }
    }

    const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
      runCommand('solominer', args, { cwd: scratch, env: bareEnv(`${join(prefix, 'bin')}:${bare}`, extra), timeoutMs: 180_000 });
    const version = await cli(['--version']);
    assert.equal(version.code, 0, explain(version));
    assert.equal(version.stdout.trim(), PKG.version);

    // A real regtest node: the one npm test provisioned (a solo miner's machine has its own).
    const bitcoind = process.env.BITCOIND;
    assert.ok(bitcoind, 'BITCOIND is set by scripts/run-tests.mjs');
    const demo = await cli(['demo', '--engines', 'cpu'], { BITCOIND: bitcoind });
    assert.equal(demo.code, 0, explain(demo));
    assert.match(demo.stdout, /chain height 3; the node has all 3 block\(s\) above in its active chain/);
    assert.match(demo.stdout, /chain height 1; the node has all 1 block\(s\) above in its active chain/);
  });

  it('a build from source in the package that does not load: every command says so in one line and mines on the prebuilt', async () => {
    assert.ok(installedPrefix, 'the package was installed');
    const installed = join(installedPrefix, 'lib', 'node_modules', PKG.name);
    // A real ELF file of this machine that is no addon, where a build from source would be.
    mkdirSync(join(installed, 'build', 'Release'), { recursive: true });
    writeFileSync(join(installed, 'build', 'Release', 'solominer_native.node'), readFileSync(process.execPath));
    try {
      const scan = await runCommand(
        'solominer',
        ['scan', '--header', GENESIS, '--bits', '1d00ffff', '--start', '2083236000', '--count', '2000', '--threads', '1'],
        { cwd: scratch, env: bareEnv(`${join(installedPrefix, 'bin')}:${bare}`), timeoutMs: 60_000 },
      );
      assert.equal(scan.code, 0, explain(scan));
      assert.match(scan.stdout, /^nonce 2083236893 /m);
      const notes = scan.stderr.split('\n').filter((l) => l.startsWith('solominer: native engine:'));
      assert.equal(notes.length, 1, scan.stderr);
      assert.match(notes[0]!, new RegExp(`^solominer: native engine: the build from source \\(build/Release/solominer_native\\.node\\) did not load \\(.+\\); using the prebuilt for ${TARGET}$`));
    } finally {
      rmSync(join(installed, 'build'), { recursive: true, force: true });
    }
  });

  it('installed with no install script run at all (npm --ignore-scripts, or an allowScripts policy without solominer): it still mines', async () => {
    assert.ok(tarball, 'npm pack ran');
    const prefix = join(scratch, 'no-scripts');
    const r = await runNpm(['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball]);
    assert.equal(r.code, 0, explain(r));
    const scan = await runCommand(
      'solominer',
      ['scan', '--header', GENESIS, '--bits', '1d00ffff', '--start', '2083236000', '--count', '2000', '--threads', '1'],
      { cwd: scratch, env: bareEnv(`${join(prefix, 'bin')}:${bare}`), timeoutMs: 60_000 },
    );
    assert.equal(scan.code, 0, explain(scan));
    assert.match(scan.stdout, /^nonce 2083236893 hash 000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f$/m);
    assert.equal(scan.stderr.includes('native engine'), false, `no fallback note: ${scan.stderr}`);
  });

  it('no prebuilt fits and no compiler: the install says why in one line and what to install in another, exit 1', async () => {
    assert.ok(tarball, 'npm pack ran');
    const dir = join(scratch, 'unpacked');
    mkdirSync(dir);
    const x = await runCommand('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1'], { timeoutMs: 60_000 });
    assert.equal(x.code, 0, explain(x));
    // The prebuilt for this machine corrupted in the package (a download gone wrong).
    const file = join(dir, 'prebuilds', TARGET, 'solominer_native.node');
    const bytes = readFileSync(file);
    bytes.writeUInt8(bytes.readUInt8(4096) ^ 0xff, 4096);
    writeFileSync(file, bytes);
    const r = await runCommand(process.execPath, [join(dir, 'scripts', 'install.mjs')], { cwd: dir, env: bareEnv(bare), timeoutMs: 60_000 });
    assert.equal(r.code, 1, explain(r));
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0]!, new RegExp(`^solominer: native engine: no prebuilt fits this system \\(the prebuilt for ${TARGET} \\(prebuilds/${TARGET}/solominer_native\\.node\\) is corrupted \\(its SHA-256 differs from prebuilds/manifest\\.json\\)\\); building it from source$`));
    assert.equal(
      lines[1],
      'solominer: building the native engine from source (no prebuilt fits this system) needs a C++17 compiler, make and cmake 3.15+; missing: g++, make, cmake: install them (Debian, Ubuntu, Raspberry Pi OS: sudo apt-get install g++ make cmake) and run the install again',
    );
  });
});
