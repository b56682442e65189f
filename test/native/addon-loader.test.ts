// Which addon file loads (src/native/addon-loader.ts), on package-shaped folders built from the
// real files: this machine's build from source and the package's prebuilt for it. Broken files
// are real (a corrupted copy, an executable that is no addon, a build for another architecture);
// only the C library is injected (glibc too old, or musl), which no machine here can change on
// demand. Every outcome is one line.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { ADDON_FILE, loadAddon, NativeAddonError, SOURCE_BUILD, type LoaderSystem } from '../../src/native/addon-loader.js';
import { runNode } from '../support/node-child.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const TARGET = `${process.platform}-${process.arch}`;
const requireNode = createRequire(import.meta.url);

interface Backends {
  backends(): { name: string; usable: boolean }[];
}

describe('native addon loader: build from source, else the prebuilt, one line per fallback', { timeout: 300_000, skip: process.platform !== 'linux' && 'prebuilts exist for Linux only' }, () => {
  let scratch = '';
  let prebuilt = '';
  let manifestEntry: { file: string; sha256: string; needs: Record<string, string> } | undefined;
  let n = 0;

  before(async () => {
    // This machine's prebuilt, built (or found up to date) as npm pack builds it.
    const b = await runNode([join(ROOT, 'scripts', 'prebuild.mjs'), TARGET], { cwd: ROOT, timeoutMs: 280_000 });
    assert.equal(b.code, 0, `prebuild ${TARGET}: ${b.stdout}${b.stderr}`);
    prebuilt = join(ROOT, 'prebuilds', TARGET, ADDON_FILE);
    const manifest = JSON.parse(readFileSync(join(ROOT, 'prebuilds', 'manifest.json'), 'utf8')) as { targets: Record<string, typeof manifestEntry> };
    manifestEntry = manifest.targets[TARGET];
    assert.ok(manifestEntry);
    scratch = mkdtempSync(join(tmpdir(), 'solominer-loader-'));
  });

  after(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** A package-shaped folder: `prebuilt` bytes with the real manifest entry, `source` bytes as a build from source. */
  function folder(parts: { prebuilt?: Buffer; source?: Buffer; git?: boolean; manifest?: Record<string, unknown> }): string {
    const root = join(scratch, `p${n++}`);
    mkdirSync(root);
    if (parts.prebuilt !== undefined || parts.manifest !== undefined) {
      mkdirSync(join(root, 'prebuilds', TARGET), { recursive: true });
      if (parts.prebuilt !== undefined) writeFileSync(join(root, 'prebuilds', TARGET, ADDON_FILE), parts.prebuilt);
      writeFileSync(join(root, 'prebuilds', 'manifest.json'), JSON.stringify({ targets: parts.manifest ?? { [TARGET]: manifestEntry } }));
    }
    if (parts.source !== undefined) {
      mkdirSync(join(root, 'build', 'Release'), { recursive: true });
      writeFileSync(join(root, SOURCE_BUILD), parts.source);
    }
    if (parts.git) mkdirSync(join(root, '.git'));
    return root;
  }

  /** glibc null: another C library (no glibc version to report). */
  const system = (root: string, glibc: string | null = '2.36'): LoaderSystem => ({
    root,
    platform: process.platform,
    arch: process.arch,
    glibc: () => glibc ?? undefined,
    load: (path) => requireNode(path),
  });

  const notAvailable = (root: string, glibc?: string | null): string => {
    try {
      loadAddon(system(root, glibc));
    } catch (err) {
      assert.ok(err instanceof NativeAddonError, String(err));
      assert.equal(err.message.includes('\n'), false, 'one line');
      return err.message;
    }
    assert.fail('the addon loaded');
  };

  /** The prebuilt's bytes with its ELF machine field set to another architecture's. */
  const otherArch = (): Buffer => {
    const bytes = Buffer.from(readFileSync(prebuilt));
    bytes.writeUInt16LE(process.arch === 'arm64' ? 62 : 183, 18);
    return bytes;
  };

  it('a package with its prebuilt: the prebuilt loads and its back ends pass the self-test', () => {
    const root = folder({ prebuilt: readFileSync(prebuilt) });
    const { addon, origin } = loadAddon<Backends>(system(root));
    assert.equal(origin.kind, 'prebuilt');
    assert.equal(origin.target, TARGET);
    assert.equal(origin.path, join(root, 'prebuilds', TARGET, ADDON_FILE));
    assert.deepEqual(origin.notes, []);
    assert.ok(addon.backends().some((b) => b.name === 'scalar' && b.usable));
  });

  it('a build from source comes before the prebuilt', () => {
    const root = folder({ prebuilt: readFileSync(prebuilt), source: readFileSync(join(ROOT, SOURCE_BUILD)) });
    const { origin } = loadAddon(system(root));
    assert.equal(origin.kind, 'source');
    assert.deepEqual(origin.notes, []);
  });

  it('a build from source for another architecture is passed over in silence (an arm64 process in an x86-64 checkout)', () => {
    const root = folder({ prebuilt: readFileSync(prebuilt), source: otherArch() });
    const { origin } = loadAddon(system(root));
    assert.equal(origin.kind, 'prebuilt');
    assert.deepEqual(origin.notes, []);
  });

  it('a build from source that does not load: one note naming the prebuilt taken instead', () => {
    // A real ELF file of this architecture that is no addon: node itself.
    const root = folder({ prebuilt: readFileSync(prebuilt), source: readFileSync(process.execPath) });
    const { origin } = loadAddon(system(root));
    assert.equal(origin.kind, 'prebuilt');
    assert.equal(origin.notes.length, 1);
    assert.match(origin.notes[0]!, new RegExp(`^native engine: the build from source \\(build/Release/solominer_native\\.node\\) did not load \\(.+\\); using the prebuilt for ${TARGET}$`));
  });

  it('a corrupted prebuilt is not loaded: one line, and how to build from source', () => {
    const bytes = Buffer.from(readFileSync(prebuilt));
    bytes.writeUInt8(bytes.readUInt8(bytes.length >> 1) ^ 0xff, bytes.length >> 1);
    const message = notAvailable(folder({ prebuilt: bytes }));
    assert.match(message, new RegExp(`^the native engine is not available for ${TARGET}: the prebuilt for ${TARGET} \\(prebuilds/${TARGET}/solominer_native\\.node\\) is corrupted \\(its SHA-256 differs from prebuilds/manifest\\.json\\); `));
    assert.match(message, /; build it from source with npm rebuild solominer \(add -g for a global install\); it needs g\+\+, make and cmake$/);
  });

  it('a corrupted prebuilt beside a build from source: the build from source, no note', () => {
    const bytes = Buffer.from(readFileSync(prebuilt));
    bytes.writeUInt8(bytes.readUInt8(100) ^ 0xff, 100);
    const { origin } = loadAddon(system(folder({ prebuilt: bytes, source: readFileSync(join(ROOT, SOURCE_BUILD)) })));
    assert.equal(origin.kind, 'source');
    assert.deepEqual(origin.notes, []);
  });

  it('a glibc older than the prebuilt needs (injected): one line naming both versions', () => {
    const message = notAvailable(folder({ prebuilt: readFileSync(prebuilt) }), '2.31');
    assert.match(message, new RegExp(`the prebuilt for ${TARGET} \\(prebuilds/${TARGET}/solominer_native\\.node\\) needs glibc ${manifestEntry!.needs.GLIBC!.replace('.', '\\.')}, this system has 2\\.31; `));
  });

  it('another C library than glibc (injected: musl has no glibc version): one line', () => {
    const message = notAvailable(folder({ prebuilt: readFileSync(prebuilt) }), null);
    assert.match(message, /is built for glibc, and this system has another C library \(musl\?\); /);
  });

  it('no prebuilt for this platform: the ones there are are named', () => {
    const message = notAvailable(folder({ manifest: { 'linux-riscv64': manifestEntry } }));
    assert.match(message, new RegExp(`no prebuilt for ${TARGET} \\(there are: linux-riscv64\\)`));
  });

  it('a checkout without a build: how a developer builds it', () => {
    const message = notAvailable(folder({ git: true }));
    assert.equal(
      message,
      `the native engine is not available for ${TARGET}: no build from source (build/Release/solominer_native.node); no prebuilt addons here (prebuilds/manifest.json is missing); build it from source with npm install (or npm run build:native); it needs g++, make and cmake`,
    );
  });
});
