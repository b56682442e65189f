// Which native addon file this process loads, and why the others were passed over.
//
// Two kinds of file can be there (docs/install.md):
//  - build/Release/solominer_native.node: built from source on this machine (a checkout's
//    npm install, or a package install where no prebuilt fitted);
//  - prebuilds/<platform>-<arch>/solominer_native.node: built by scripts/prebuild.mjs and shipped
//    in the package, listed in prebuilds/manifest.json with its SHA-256 and the symbol versions
//    (glibc, libstdc++) it needs.
// A build from source comes first: it was made for this very machine, and it is there only when
// someone built it. A file for another architecture (an x86-64 build seen by an arm64 process
// running the same checkout) is not a candidate at all. A candidate that should have worked but
// did not (wrong libc, too old a glibc, a corrupted file, a load error) becomes a note of one
// line naming the fallback; nothing loading at all is one NativeAddonError naming what to do.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ADDON_FILE = 'solominer_native.node';
export const SOURCE_BUILD = join('build', 'Release', ADDON_FILE);

/** The addon could not be loaded: not built, or built for another system. */
export class NativeAddonError extends Error {
  override readonly name = 'NativeAddonError';
}

export type AddonKind = 'source' | 'prebuilt';

export interface AddonOrigin {
  readonly kind: AddonKind;
  /** Absolute path of the file loaded. */
  readonly path: string;
  /** "linux-x64" etc.: the platform and architecture it is for. */
  readonly target: string;
  /** One line per candidate that should have loaded but did not, naming the fallback taken. */
  readonly notes: readonly string[];
}

/** What the loader reads from the process and the disk; injected by tests. */
export interface LoaderSystem {
  readonly root: string;
  readonly platform: NodeJS.Platform;
  readonly arch: string;
  /** glibc's version ("2.36"), or undefined where the C library is another (musl) or none. */
  glibc(): string | undefined;
  /** Node's own require of a .node file. */
  load(path: string): unknown;
}

interface ManifestEntry {
  readonly file: string;
  readonly sha256: string;
  readonly needs?: Readonly<Record<string, string>>;
}

/** ELF e_machine of each Node architecture a prebuilt exists for, or that a build may be for. */
const ELF_MACHINE: Readonly<Record<string, number>> = { x64: 62, arm64: 183, ia32: 3, arm: 40, ppc64: 21, s390x: 22, riscv64: 243 };

/** The ELF machine number of a file, or undefined when it is not an ELF file. */
function elfMachine(bytes: Uint8Array): number | undefined {
  if (bytes.length < 20 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) return undefined;
  return bytes[18]! | (bytes[19]! << 8);
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); ++i) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.trim();
}

function readManifest(root: string): Readonly<Record<string, ManifestEntry>> | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(root, 'prebuilds', 'manifest.json'), 'utf8')) as { targets?: Record<string, ManifestEntry> };
    return parsed.targets ?? {};
  } catch {
    return undefined;
  }
}

/** How to get a native engine where none loaded: from a checkout, or where the package is installed. */
export function buildHint(root: string): string {
  return existsSync(join(root, '.git'))
    ? 'build it from source with npm install (or npm run build:native); it needs g++, make and cmake'
    : 'build it from source with npm rebuild solominer (add -g for a global install); it needs g++, make and cmake';
}

/**
 * Loads the first candidate that works (`only`: of that kind). `verify` runs on the loaded
 * module (the back ends' self-test) and returns notes of its own; it never rejects a module.
 */
export function loadAddon<T>(
  sys: LoaderSystem,
  verify: (addon: T) => string[] = () => [],
  only?: AddonKind,
): { addon: T; origin: AddonOrigin } {
  const target = `${sys.platform}-${sys.arch}`;
  const notes: string[] = [];
  const passedOver: string[] = [];
  const failed: { what: string; why: string }[] = [];
  const expected = ELF_MACHINE[sys.arch];

  const tryLoad = (path: string, what: string): T | undefined => {
    try {
      return sys.load(path) as T;
    } catch (err) {
      failed.push({ what, why: `did not load (${firstLine(err)})` });
      return undefined;
    }
  };
  const done = (kind: AddonKind, path: string, addon: T): { addon: T; origin: AddonOrigin } => {
    const using = kind === 'source' ? 'the build from source' : `the prebuilt for ${target}`;
    for (const f of failed) notes.push(`native engine: ${f.what} ${f.why}; using ${using}`);
    notes.push(...verify(addon));
    return { addon, origin: { kind, path, target, notes } };
  };

  // 1. Built from source on this machine.
  const source = join(sys.root, SOURCE_BUILD);
  if (only === 'prebuilt') {
    // not asked for
  } else if (!existsSync(source)) {
    passedOver.push(`no build from source (${SOURCE_BUILD})`);
  } else {
    const machine = sys.platform === 'linux' ? elfMachine(readFileSync(source)) : expected;
    if (sys.platform === 'linux' && machine !== expected) {
      passedOver.push(`${SOURCE_BUILD} is built for another architecture (ELF machine ${machine ?? 'none'})`);
    } else {
      const addon = tryLoad(source, `the build from source (${SOURCE_BUILD})`);
      if (addon !== undefined) return done('source', source, addon);
    }
  }

  // 2. The prebuilt for this platform and architecture.
  const manifest = readManifest(sys.root);
  const entry = manifest?.[target];
  if (only === 'source') {
    // not asked for
  } else if (manifest === undefined) {
    passedOver.push('no prebuilt addons here (prebuilds/manifest.json is missing)');
  } else if (entry === undefined) {
    passedOver.push(`no prebuilt for ${target} (there are: ${Object.keys(manifest).join(', ') || 'none'})`);
  } else {
    const path = join(sys.root, 'prebuilds', entry.file);
    const what = `the prebuilt for ${target} (prebuilds/${entry.file})`;
    const glibc = sys.platform === 'linux' ? sys.glibc() : undefined;
    const needsGlibc = entry.needs?.GLIBC;
    let bytes: Buffer | undefined;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      failed.push({ what, why: `cannot be read (${firstLine(err)})` });
    }
    if (bytes === undefined) {
      // recorded above
    } else if (sys.platform === 'linux' && glibc === undefined) {
      failed.push({ what, why: 'is built for glibc, and this system has another C library (musl?)' });
    } else if (needsGlibc !== undefined && glibc !== undefined && compareVersions(glibc, needsGlibc) < 0) {
      failed.push({ what, why: `needs glibc ${needsGlibc}, this system has ${glibc}` });
    } else if (createHash('sha256').update(bytes).digest('hex') !== entry.sha256) {
      failed.push({ what, why: 'is corrupted (its SHA-256 differs from prebuilds/manifest.json)' });
    } else {
      const addon = tryLoad(path, what);
      if (addon !== undefined) return done('prebuilt', path, addon);
    }
  }

  const reasons = [...failed.map((f) => `${f.what} ${f.why}`), ...passedOver];
  throw new NativeAddonError(`the native engine is not available for ${target}: ${reasons.join('; ')}; ${buildHint(sys.root)}`);
}

/** glibc's version from Node's diagnostic report header (undefined on musl and elsewhere). */
export function runtimeGlibc(): string | undefined {
  const report = process.report as { excludeNetwork?: boolean; getReport(): object } | undefined;
  if (report === undefined) return undefined;
  const before = report.excludeNetwork;
  try {
    report.excludeNetwork = true; // the report would otherwise resolve host names
    const header = (report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
    return header?.glibcVersionRuntime;
  } finally {
    report.excludeNetwork = before ?? false;
  }
}
