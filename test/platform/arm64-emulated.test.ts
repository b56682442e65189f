// linux-arm64 under emulation: the package's arm64 prebuilt (scripts/prebuild.mjs, cross-built
// with Debian's g++-aarch64-linux-gnu), loaded by an arm64 Node from the npm registry running
// under qemu user mode (scripts/provision-arm64.sh), on two cores:
//  - QEMU's `max` core, which has the SHA2 extension: arm_sha2 must be offered and pass;
//  - a Pi 4 class core (cortex-a72 with the crypto HWCAP bits masked by test/platform/
//    hwcap-mask.c, since every QEMU arm64 model has them and a Pi 4's BCM2711 has none): the
//    dispatcher must fall back to scalar and say so in one line.
// On each, the CPU known answers, the agreement with node:crypto, the scan contract, the stop
// test and the native merkle test run in-process (binfmt_misc is not there, so `node --test`
// could not start arm64 children: --test-isolation=none). QEMU executes SHA2 instructions even
// on the masked core, so what proves "no SIGILL on a Pi 4" is the pair: the dispatcher never
// offers arm_sha2 there (checked here), and no crypto instruction exists outside arm_sha2's own
// code (checked by scripts/prebuild.mjs on the same build).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { compareVersions } from '../../src/native/addon-loader.js';
import { runCommand, runNode, type ChildResult } from '../support/node-child.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SHIM_SOURCE = join(ROOT, 'test', 'platform', 'hwcap-mask.c');
const GENESIS =
  '0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c';

/** The test files run under emulation, compiled. */
const FILES = [
  'engines/cpu-known-answers.test.js',
  'engines/cpu-agreement.test.js',
  'engines/cpu-backends.test.js',
  'engines/cpu-stop.test.js',
  'work/merkle-native.test.js',
].map((f) => join(ROOT, 'dist', 'test', f));

const onX64 = process.platform === 'linux' && process.arch === 'x64';

interface Core {
  readonly name: string;
  readonly qemuCpu: string;
  readonly masked: boolean;
}
const CORES: readonly Core[] = [
  { name: 'SHA2 core (qemu max)', qemuCpu: 'max', masked: false },
  { name: 'Pi 4 class core (cortex-a72, crypto HWCAP bits masked)', qemuCpu: 'cortex-a72', masked: true },
];

function explain(r: ChildResult): string {
  return `exit ${r.code ?? r.signal}\n${(r.stdout + r.stderr).slice(-4000)}`;
}

describe('linux-arm64 under qemu: the prebuilt addon on a SHA2 core and a Pi 4 class core', { timeout: 900_000, skip: !onX64 && 'the emulated run is set up for x86-64 Linux machines; elsewhere the CPU tests run natively' }, () => {
  let arm64 = '';
  let scratch = '';
  let shim = '';

  before(async () => {
    arm64 = process.env.SOLOMINER_ARM64 ?? '';
    if (!arm64) {
      const p = await runCommand('bash', [join(ROOT, 'scripts', 'provision-arm64.sh')], { timeoutMs: 600_000 });
      assert.equal(p.code, 0, `provision-arm64.sh: ${explain(p)}`);
      arm64 = p.stdout.trim().split('\n').pop()!.trim();
    }
    // The package's arm64 prebuilt, built (or found up to date) the way npm pack builds it.
    const b = await runNode([join(ROOT, 'scripts', 'prebuild.mjs'), 'linux-arm64'], { cwd: ROOT, timeoutMs: 600_000, env: { ...process.env, SOLOMINER_CACHE: join(arm64, '..') } });
    assert.equal(b.code, 0, `prebuild linux-arm64: ${explain(b)}`);
    scratch = mkdtempSync(join(tmpdir(), 'solominer-arm64-'));
    shim = join(scratch, 'hwcap-mask.so');
    const c = await runCommand(join(arm64, 'bin', 'aarch64-linux-gnu-gcc'), ['-O2', '-shared', '-fPIC', '-Wall', '-Wextra', '-Werror', '-o', shim, SHIM_SOURCE, '-ldl']);
    assert.equal(c.code, 0, `building the HWCAP mask: ${explain(c)}`);
  });

  after(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** The arm64 node under qemu on `core`; a masked core gets the shim through QEMU_SET_ENV (the guest's environment only). */
  const arm64Node = (core: Core, args: string[], timeoutMs: number): Promise<ChildResult> => {
    const env: NodeJS.ProcessEnv = { ...process.env, QEMU_CPU: core.qemuCpu, SOLOMINER_NO_LAVAPIPE: '1' };
    delete env.QEMU_SET_ENV;
    // A test runner of its own, not a child reporting to this one in the runner's binary protocol.
    delete env.NODE_TEST_CONTEXT;
    if (core.masked) env.QEMU_SET_ENV = `LD_PRELOAD=${shim}`;
    return runCommand(join(arm64, 'bin', 'node'), args, { env, cwd: ROOT, timeoutMs });
  };

  it('the arm64 prebuilt needs no newer glibc and libstdc++ than Ubuntu 22.04, Debian 12 and Raspberry Pi OS bookworm have', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'prebuilds', 'manifest.json'), 'utf8')) as {
      targets: Record<string, { needs: Record<string, string>; libraries: string[] }>;
    };
    const entry = manifest.targets['linux-arm64'];
    assert.ok(entry, 'prebuilds/manifest.json lists linux-arm64');
    // Ubuntu 22.04: glibc 2.35 and GCC 12's libstdc++; Debian 12 and Pi OS bookworm: glibc 2.36, GCC 12.
    const floor: Record<string, string> = { GLIBC: '2.35', GLIBCXX: '3.4.30', CXXABI: '1.3.13' };
    assert.ok(entry.needs.GLIBC && entry.needs.GLIBCXX, JSON.stringify(entry.needs));
    for (const [family, version] of Object.entries(entry.needs)) {
      assert.ok(floor[family] !== undefined && compareVersions(version, floor[family]) <= 0, `${family}_${version} is above the floor ${floor[family]}`);
    }
    assert.deepEqual(entry.libraries.sort(), ['libc.so.6', 'libgcc_s.so.1', 'libstdc++.so.6']);
  });

  for (const core of CORES) {
    describe(core.name, () => {
      it(`loads the prebuilt and ${core.masked ? 'falls back to scalar' : 'offers arm_sha2'}`, async () => {
        const script =
          "const m = await import('./dist/src/native/addon.js');" +
          'const a = m.nativeAddon();' +
          'console.log(JSON.stringify({ origin: m.nativeAddonOrigin(), arch: process.arch, features: a.cpuFeatures(), backends: a.backends() }));';
        const r = await arm64Node(core, ['--input-type=module', '-e', script], 120_000);
        assert.equal(r.code, 0, explain(r));
        const out = JSON.parse(r.stdout) as {
          origin: { kind: string; target: string; notes: string[] };
          arch: string;
          features: { armSha2: boolean };
          backends: { name: string; usable: boolean; state: string; reason: string }[];
        };
        assert.equal(out.arch, 'arm64');
        assert.equal(out.origin.kind, 'prebuilt');
        assert.equal(out.origin.target, 'linux-arm64');
        assert.deepEqual(out.origin.notes, []);
        const byName = new Map(out.backends.map((b) => [b.name, b]));
        assert.equal(out.features.armSha2, !core.masked);
        assert.equal(byName.get('scalar')?.usable, true);
        const arm = byName.get('arm_sha2');
        if (core.masked) {
          assert.equal(arm?.state, 'cpu-lacks', JSON.stringify(arm));
          assert.equal(arm?.reason, 'this CPU lacks the ARMv8 SHA2 extension');
        } else {
          assert.equal(arm?.state, 'usable', `arm_sha2 on a SHA2 core: ${JSON.stringify(arm)}`);
        }
        assert.deepEqual(
          out.backends.filter((b) => b.usable).map((b) => b.name),
          core.masked ? ['scalar'] : ['arm_sha2', 'scalar'],
        );
      });

      it('passes the CPU known answers, node:crypto agreement, scan contract, stop and native merkle tests in-process', async () => {
        const r = await arm64Node(core, ['--test', '--test-isolation=none', '--test-reporter=tap', ...FILES], 600_000);
        assert.equal(r.code, 0, explain(r));
        assert.match(r.stdout, /^# fail 0$/m);
        const passed = Number(/^# pass (\d+)$/m.exec(r.stdout)?.[1]);
        assert.ok(passed > 50, `only ${passed} tests passed`);
        // The arm_sha2 cases ran where the core has SHA2, and only there.
        const armCases = r.stdout.split('\n').filter((l) => /^\s*ok \d+ - arm_sha2/.test(l)).length;
        if (core.masked) assert.equal(armCases, 0, 'arm_sha2 cases ran on the masked core');
        else assert.ok(armCases >= 8, `only ${armCases} arm_sha2 cases ran`);
        assert.ok(r.stdout.split('\n').some((l) => /^\s*ok \d+ - scalar x2: genesis/.test(l)), 'the scalar known answer ran');
      });

      it(`solominer scan finds the genesis nonce; --backend arm_sha2 ${core.masked ? 'is one line naming the missing extension' : 'works'}`, async () => {
        const args = ['bin/solominer.js', 'scan', '--header', GENESIS, '--bits', '1d00ffff', '--start', '2083236000', '--count', '3000', '--threads', '1'];
        const best = await arm64Node(core, args, 120_000);
        assert.equal(best.code, 0, explain(best));
        assert.match(best.stdout, /^nonce 2083236893 hash 000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f$/m);
        assert.match(best.stderr, core.masked ? /^cpu\/scalar x1: 3000 hashes/m : /^cpu\/arm_sha2 x1: 3000 hashes/m);

        const named = await arm64Node(core, [...args, '--backend', 'arm_sha2'], 120_000);
        if (core.masked) {
          assert.equal(named.code, 2, explain(named));
          assert.equal(named.stderr, 'solominer scan: --backend: arm_sha2 is not available here (this CPU lacks the ARMv8 SHA2 extension)\n');
        } else {
          assert.equal(named.code, 0, explain(named));
          assert.match(named.stdout, /^nonce 2083236893 /m);
        }
      });
    });
  }
});
