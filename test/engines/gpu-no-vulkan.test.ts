// A machine without Vulkan: the GPU engine says so in one line, and Dawn's own stderr lines
// ("Warning: Couldn't load Vulkan ... at operator() (.../BackendVk.cpp:368)") never reach the
// terminal. Unit tests of the driver check on an injected file system, then fresh processes
// whose environment has no Vulkan driver, or a driver manifest whose library does not exist.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { SCAN_ENGINE_FLAGS } from '../../src/cli/flags.js';
import { BackendUnavailableError } from '../../src/engines/cpu-engine.js';
import { EngineUnavailableError, engineErrorLine } from '../../src/engines/create-engine.js';
import { summariseStderr } from '../../src/engines/gpu/adapter-probe.js';
import { type DriverSearch, findVulkanDriver, noDriverMessage, provisionHint } from '../../src/engines/gpu/vulkan-driver.js';
import { runCli } from '../support/cli.js';
import { moduleUrl, runModuleScript } from '../support/node-child.js';

interface FakeMachine {
  readonly files?: readonly string[];
  readonly env?: Record<string, string>;
  /** ldconfig -p's output; undefined: ldconfig cannot be run. */
  readonly cache?: string;
  readonly platform?: NodeJS.Platform;
}

function machine(m: FakeMachine): DriverSearch {
  const files = new Set(m.files ?? []);
  return {
    platform: m.platform ?? 'linux',
    arch: 'x64',
    env: m.env ?? {},
    home: '/home/miner',
    linkerCache: () => m.cache,
    isFile: (path) => files.has(path),
    list: (dir) => [...files].filter((f) => f.startsWith(`${dir}/`)).map((f) => f.slice(dir.length + 1)),
  };
}

const CACHE_WITH_LOADER = '\t4 libs found in cache\n\tlibvulkan.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libvulkan.so.1\n';
const SYSTEM_ICD = '/usr/share/vulkan/icd.d/nvidia_icd.json';

const missing = (search: DriverSearch): readonly string[] => {
  const verdict = findVulkanDriver(search);
  return verdict.found ? [] : verdict.missing;
};

describe('Vulkan driver check (no GPU needed)', { timeout: 30_000 }, () => {
  it('finds a system loader (linker cache) and a manifest in the standard icd.d folder', () => {
    assert.deepEqual(findVulkanDriver(machine({ cache: CACHE_WITH_LOADER, files: [SYSTEM_ICD] })), { found: true });
  });

  it('finds provisioned software Vulkan: the loader on LD_LIBRARY_PATH, the manifest in VK_ICD_FILENAMES', () => {
    const search = machine({
      cache: '',
      env: { LD_LIBRARY_PATH: '/repo/.cache/vulkan/sysroot/usr/lib/x86_64-linux-gnu', VK_ICD_FILENAMES: '/repo/.cache/vulkan/lvp_icd.json' },
      files: ['/repo/.cache/vulkan/sysroot/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/repo/.cache/vulkan/lvp_icd.json'],
    });
    assert.deepEqual(findVulkanDriver(search), { found: true });
  });

  it('without ldconfig, looks in the standard library folders', () => {
    const files = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', SYSTEM_ICD];
    assert.deepEqual(missing(machine({ files })), []);
    assert.match(missing(machine({ files: [SYSTEM_ICD] })).join(), /no Vulkan loader libvulkan\.so\.1/);
  });

  it('names both parts when neither is there', () => {
    const gone = missing(machine({ cache: '' }));
    assert.equal(gone.length, 2);
    assert.match(gone[0]!, /^no Vulkan loader libvulkan\.so\.1 known to the dynamic linker$/);
    assert.match(gone[1]!, /^no Vulkan driver manifest in the icd\.d folders$/);
  });

  it('VK_ICD_FILENAMES replaces the folder search: a name that does not exist means no driver', () => {
    const gone = missing(machine({ cache: CACHE_WITH_LOADER, files: [SYSTEM_ICD], env: { VK_ICD_FILENAMES: '/nonexistent.json' } }));
    assert.deepEqual(gone, ['VK_ICD_FILENAMES names no driver manifest that exists (/nonexistent.json)']);
  });

  it('VK_DRIVER_FILES wins over VK_ICD_FILENAMES and may name a folder; VK_ADD_DRIVER_FILES adds', () => {
    const base = { cache: CACHE_WITH_LOADER, files: ['/opt/icds/lvp.json'] };
    assert.deepEqual(missing(machine({ ...base, env: { VK_DRIVER_FILES: '/opt/icds', VK_ICD_FILENAMES: '/nonexistent.json' } })), []);
    assert.match(missing(machine({ ...base, env: { VK_DRIVER_FILES: '/nope.json', VK_ICD_FILENAMES: '/opt/icds/lvp.json' } })).join(), /^VK_DRIVER_FILES names/);
    assert.deepEqual(missing(machine({ ...base, env: { VK_ICD_FILENAMES: '/nonexistent.json', VK_ADD_DRIVER_FILES: '/opt/icds/lvp.json' } })), []);
  });

  it('follows the XDG folders: ~/.config by default, XDG_DATA_DIRS replacing /usr/share', () => {
    assert.deepEqual(missing(machine({ cache: CACHE_WITH_LOADER, files: ['/home/miner/.config/vulkan/icd.d/x.json'] })), []);
    assert.deepEqual(missing(machine({ cache: CACHE_WITH_LOADER, files: ['/etc/vulkan/icd.d/x.json'] })), []);
    const elsewhere = machine({ cache: CACHE_WITH_LOADER, files: [SYSTEM_ICD], env: { XDG_DATA_DIRS: '/opt/share' } });
    assert.deepEqual(missing(elsewhere), ['no Vulkan driver manifest in the icd.d folders']);
  });

  it('off Linux there is nothing to check (Dawn uses Metal or D3D12)', () => {
    assert.deepEqual(findVulkanDriver(machine({ platform: 'darwin' })), { found: true });
  });

  it('the message is one line naming what is missing and how to get software Vulkan', () => {
    const message = noDriverMessage({ missing: ['a', 'b'] }, provisionHint(false, true));
    assert.equal(message, 'gpu: no Vulkan driver on this machine (a; b); bash scripts/provision-vulkan.sh installs software Vulkan into .cache/');
    // An installed package has no provisioning script: the GPU's own driver.
    assert.equal(
      noDriverMessage({ missing: ['a'] }, provisionHint(false, false)),
      "gpu: no Vulkan driver on this machine (a); install your GPU's Vulkan driver (the GPU engine reaches the GPU through Vulkan on Linux)",
    );
    // Provisioned but not in this process's environment: say how to use it.
    assert.match(noDriverMessage({ missing: ['a'] }, provisionHint(true)), /; software Vulkan is provisioned in \.cache\/vulkan but not in this process's environment: source \.cache\/vulkan\/env\.sh before starting node$/);
  });

  it('bin/solominer.js uses lavapipe on a machine with the Vulkan loader but no driver of its own', async () => {
    // scripts/vulkan-env.mjs asks the same check, lavapipe's own manifests left out.
    const { systemVulkanDriver } = (await import(moduleUrl('../../../scripts/vulkan-env.mjs'))) as { systemVulkanDriver(search: DriverSearch): string | undefined };
    assert.equal(systemVulkanDriver(machine({ cache: CACHE_WITH_LOADER })), undefined, 'libvulkan1 alone is no driver');
    assert.equal(systemVulkanDriver(machine({ cache: CACHE_WITH_LOADER, files: ['/usr/share/vulkan/icd.d/lvp_icd.x86_64.json'] })), undefined, "Debian's lavapipe does not count");
    assert.equal(systemVulkanDriver(machine({ files: [SYSTEM_ICD] })), undefined, 'a manifest without the loader is no driver');
    assert.ok(systemVulkanDriver(machine({ cache: CACHE_WITH_LOADER, files: [SYSTEM_ICD] })), 'a real GPU driver is left alone');
  });

  it('an engine that cannot be built is one line naming the flag the user gave', () => {
    const noDriver = new EngineUnavailableError('engine', 'gpu', 'no Vulkan driver on this machine (x)');
    assert.equal(noDriver.message, 'gpu: no Vulkan driver on this machine (x)');
    assert.equal(engineErrorLine(noDriver, SCAN_ENGINE_FLAGS), '--engine: gpu: no Vulkan driver on this machine (x)');
    const mine = { engine: '--engines', backend: '--cpu-backend', adapter: '--gpu-adapter' };
    assert.equal(engineErrorLine(noDriver, mine), '--engines: gpu: no Vulkan driver on this machine (x)');
    const adapter = new EngineUnavailableError('adapter', 'gpu', 'no adapter 3; this machine has 0: llvmpipe');
    assert.equal(engineErrorLine(adapter, SCAN_ENGINE_FLAGS), '--backend: no adapter 3; this machine has 0: llvmpipe');
    assert.equal(engineErrorLine(adapter, mine), '--gpu-adapter: no adapter 3; this machine has 0: llvmpipe');
    assert.equal(engineErrorLine(new BackendUnavailableError('backend: avx9 is not available here (no)'), mine), '--cpu-backend: avx9 is not available here (no)');
    assert.equal(engineErrorLine(new BackendUnavailableError('backend: no usable CPU back end (x)'), mine), '--engines: cpu: no usable CPU back end (x)');
    assert.equal(engineErrorLine(new Error('other'), mine), undefined);
  });

  it("summarises Dawn's stderr as its first message, without source locations", () => {
    const dawn =
      "Warning: Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory\n" +
      '    at operator() (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/BackendVk.cpp:368)\n\n';
    assert.equal(summariseStderr(dawn), "Couldn't load Vulkan: libvulkan.so.1: cannot open shared object file: No such file or directory");
    assert.equal(summariseStderr('    at x (y.cpp:1)\n'), 'no message');
    assert.equal(summariseStderr(`Warning: ${'x'.repeat(300)}`).length, 200);
  });
});

/** A child that creates the GPU engine (or lists adapters) and prints the error's message alone, plus whether Dawn got loaded. */
function childScript(action: 'createEngine' | 'gpuAdapters'): string {
  const call =
    action === 'createEngine'
      ? `(await import(${JSON.stringify(moduleUrl('../../src/engines/create-engine.js'))})).createEngine({ kind: 'gpu' })`
      : `(await import(${JSON.stringify(moduleUrl('../../src/engines/gpu-engine.js'))})).gpuAdapters()`;
  return `
    import { readFileSync } from 'node:fs';
    const dawnLoaded = () => readFileSync('/proc/self/maps', 'utf8').includes('dawn.node');
    try {
      const made = await ${call};
      process.stdout.write('unexpectedly got ' + JSON.stringify(made.backend ?? made) + '\\n');
      await made.close?.();
    } catch (err) {
      process.stdout.write(JSON.stringify({ name: err.name, dawnLoaded: dawnLoaded() }) + '\\n');
      process.stderr.write(err.message + '\\n');
      process.exitCode = 1;
    }
  `;
}

/** The environment without any Vulkan driver: no loader path, a manifest name that does not exist. */
function noVulkanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, VK_ICD_FILENAMES: '/nonexistent.json' };
  delete env.LD_LIBRARY_PATH;
  delete env.VK_DRIVER_FILES;
  delete env.VK_ADD_DRIVER_FILES;
  return env;
}

const DAWN_LINE = /Warning:|BackendVk|\.cpp:\d+|vkCreateInstance/;
/** Either hint, as this checkout has software Vulkan provisioned or not. */
const HINT = `(${[provisionHint(false, true), provisionHint(false, false), provisionHint(true)].map((h) => h.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})`;

function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, DAWN_LINE);
}

describe('a process on a machine without Vulkan', { timeout: 60_000 }, () => {
  const scratch: string[] = [];
  after(async () => {
    await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('creating the GPU engine fails with one line, before Dawn is loaded', async () => {
    const r = await runModuleScript(childScript('createEngine'), { env: noVulkanEnv() });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { name: 'EngineUnavailableError', dawnLoaded: false });
    assertOneLine(r.stderr, new RegExp(`^gpu: no Vulkan driver on this machine \\(.+\\); ${HINT}$`));
  });

  it('scan and bench --engine gpu: one line naming --engine, exit 2', async () => {
    for (const args of [['bench', '--engine', 'gpu', '--seconds', '0.1'], ['scan', '--engine', 'gpu', '--header', '00'.repeat(80), '--bits', '1d00ffff', '--count', '1']]) {
      const r = await runCli(args, { env: { ...noVulkanEnv(), SOLOMINER_NO_LAVAPIPE: '1' } });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assertOneLine(r.stderr, new RegExp(`^solominer ${args[0]}: --engine: gpu: no Vulkan driver on this machine \\(.+\\); ${HINT}$`));
    }
  });

  it('listing adapters (check) fails with the same one line', async () => {
    const r = await runModuleScript(childScript('gpuAdapters'), { env: noVulkanEnv() });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { name: 'GpuAdapterError', dawnLoaded: false });
    assertOneLine(r.stderr, /^gpu: no Vulkan driver on this machine \(/);
  });

  it('a driver manifest whose library is missing: Dawn finds no adapter in the probe child, one line here', async () => {
    // Needs a Vulkan loader (the system's, or the provisioned one on LD_LIBRARY_PATH) so that
    // the check passes and Dawn itself has to find out.
    const dir = await mkdtemp(join(tmpdir(), 'solominer-icd-'));
    scratch.push(dir);
    const manifest = join(dir, 'broken_icd.json');
    const icd = { file_format_version: '1.0.0', ICD: { library_path: join(dir, 'libvulkan_missing.so'), api_version: '1.3.0' } };
    await writeFile(manifest, JSON.stringify(icd));
    const env: NodeJS.ProcessEnv = { ...process.env, VK_ICD_FILENAMES: manifest };
    delete env.VK_DRIVER_FILES;
    delete env.VK_ADD_DRIVER_FILES;
    const r = await runModuleScript(childScript('createEngine'), { env });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.doesNotMatch(r.stderr, /no Vulkan loader/, 'no Vulkan loader here: provision software Vulkan (bash scripts/provision-vulkan.sh) and run the tests through node scripts/run-tests.mjs');
    assert.deepEqual(JSON.parse(r.stdout), { name: 'EngineUnavailableError', dawnLoaded: false });
    assertOneLine(r.stderr, new RegExp(`^gpu: no GPU adapter \\(Dawn: .+\\); on a machine without a GPU, ${HINT}$`));
  });
});
