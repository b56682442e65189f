// Whether a Vulkan driver can exist on this machine, told without loading Dawn. On Linux, Dawn
// reaches the GPU through Vulkan only; when it finds none it prints the loader's warnings and
// its own source locations to stderr ("Warning: Couldn't load Vulkan ... at operator()
// (.../BackendVk.cpp:368)"), which a user reads as a crash. Two things must be there for the
// Vulkan loader to find a driver:
//  - the loader itself, libvulkan.so.1, where the dynamic linker looks: LD_LIBRARY_PATH, its
//    cache (ldconfig -p) or the standard library folders;
//  - a driver manifest (ICD JSON): the files or folders VK_DRIVER_FILES (or the older
//    VK_ICD_FILENAMES) names, which replace the search, plus VK_ADD_DRIVER_FILES; otherwise
//    *.json in the standard icd.d folders (XDG config and data folders, /etc, /usr/share).
// This only tells whether a driver CAN exist: a manifest whose library is broken, or a driver
// that finds no device, is left to the adapter probe (gpu/adapter-probe.ts).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** scripts/provision-vulkan.sh's environment file, in this checkout. */
const PROVISIONED_ENV = new URL('../../../../.cache/vulkan/env.sh', import.meta.url);
/** The script itself: in a checkout, not in the installed package (package.json "files"). */
const PROVISION_SCRIPT = new URL('../../../../scripts/provision-vulkan.sh', import.meta.url);

/**
 * How to get software Vulkan. Once provisioned, its variables must be set when node starts
 * (the Vulkan loader reads them only then); bin/solominer.js sets them only where the system
 * has no Vulkan driver of its own (scripts/vulkan-env.mjs asks findVulkanDriver, lavapipe's
 * own manifests left out). An installed package has no provisioning script: a GPU's own driver.
 */
export function provisionHint(provisioned: boolean = existsSync(PROVISIONED_ENV), checkout: boolean = existsSync(PROVISION_SCRIPT)): string {
  if (provisioned) {
    return "software Vulkan is provisioned in .cache/vulkan but not in this process's environment: source .cache/vulkan/env.sh before starting node";
  }
  return checkout
    ? 'bash scripts/provision-vulkan.sh installs software Vulkan into .cache/'
    : "install your GPU's Vulkan driver (the GPU engine reaches the GPU through Vulkan on Linux)";
}

/** What the check reads from the machine; injected in tests. */
export interface DriverSearch {
  readonly platform: NodeJS.Platform;
  readonly arch: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly home: string;
  /** The dynamic linker's cache listing (`ldconfig -p`); undefined when ldconfig cannot be run. */
  linkerCache(): string | undefined;
  isFile(path: string): boolean;
  /** The names in a folder; empty when it does not exist or is not a folder. */
  list(dir: string): string[];
}

export type DriverVerdict = { readonly found: true } | { readonly found: false; readonly missing: readonly string[] };

const LOADER = 'libvulkan.so.1';

/** Library folders the dynamic linker searches without being told (multiarch ones included). */
function standardLibDirs(arch: string): string[] {
  const triplet = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', arm: 'arm-linux-gnueabihf', ppc64: 'powerpc64le-linux-gnu', s390x: 's390x-linux-gnu' }[arch];
  const dirs = ['/lib', '/usr/lib', '/lib64', '/usr/lib64', '/usr/local/lib'];
  if (triplet !== undefined) dirs.push(`/lib/${triplet}`, `/usr/lib/${triplet}`);
  return dirs;
}

const splitPath = (value: string | undefined): string[] => (value ?? '').split(':').filter((p) => p !== '');

function findLoader(s: DriverSearch): string | undefined {
  const named = splitPath(s.env.LD_LIBRARY_PATH);
  if (named.some((dir) => s.isFile(join(dir, LOADER)))) return undefined;
  const cache = s.linkerCache();
  if (cache !== undefined && new RegExp(`\\b${LOADER.replace(/\./g, '\\.')}\\b`).test(cache)) return undefined;
  if (standardLibDirs(s.arch).some((dir) => s.isFile(join(dir, LOADER)))) return undefined;
  return `no Vulkan loader ${LOADER} known to the dynamic linker`;
}

/** An entry of VK_DRIVER_FILES and the like: a manifest, or a folder of them. */
function hasManifest(s: DriverSearch, entry: string): boolean {
  return s.isFile(entry) || s.list(entry).some((name) => name.endsWith('.json'));
}

function findDriverManifest(s: DriverSearch): string | undefined {
  const added = splitPath(s.env.VK_ADD_DRIVER_FILES);
  if (added.some((entry) => hasManifest(s, entry))) return undefined;
  // VK_DRIVER_FILES wins over VK_ICD_FILENAMES; either replaces the folder search.
  const variable = s.env.VK_DRIVER_FILES ? 'VK_DRIVER_FILES' : s.env.VK_ICD_FILENAMES ? 'VK_ICD_FILENAMES' : undefined;
  if (variable !== undefined) {
    const entries = splitPath(s.env[variable]);
    if (entries.some((entry) => hasManifest(s, entry))) return undefined;
    return `${variable} names no driver manifest that exists (${entries.join(':')})`;
  }
  const configHome = s.env.XDG_CONFIG_HOME || join(s.home, '.config');
  const dataHome = s.env.XDG_DATA_HOME || join(s.home, '.local', 'share');
  const configDirs = splitPath(s.env.XDG_CONFIG_DIRS || '/etc/xdg');
  const dataDirs = splitPath(s.env.XDG_DATA_DIRS || '/usr/local/share:/usr/share');
  const roots = [configHome, ...configDirs, '/usr/local/etc', '/etc', dataHome, ...dataDirs];
  if (roots.some((root) => hasManifest(s, join(root, 'vulkan', 'icd.d')))) return undefined;
  return 'no Vulkan driver manifest in the icd.d folders';
}

/** Whether the Vulkan loader can find a driver here; always found off Linux (Dawn uses Metal or D3D12 there). */
export function findVulkanDriver(search: DriverSearch = systemSearch()): DriverVerdict {
  if (search.platform !== 'linux') return { found: true };
  const missing = [findLoader(search), findDriverManifest(search)].filter((m): m is string => m !== undefined);
  return missing.length === 0 ? { found: true } : { found: false, missing };
}

/** The one line GpuAdapterError carries when findVulkanDriver() found nothing. */
export function noDriverMessage(verdict: { readonly missing: readonly string[] }, hint: string = provisionHint()): string {
  return `gpu: no Vulkan driver on this machine (${verdict.missing.join('; ')}); ${hint}`;
}

function runLdconfig(): string | undefined {
  // Not on an ordinary user's PATH on some distributions (Debian keeps it in /sbin).
  for (const ldconfig of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      return execFileSync(ldconfig, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    } catch {
      // Try the next place.
    }
  }
  return undefined;
}

export function systemSearch(): DriverSearch {
  return {
    platform: process.platform,
    arch: process.arch,
    env: process.env,
    home: homedir(),
    linkerCache: runLdconfig,
    isFile: (path) => {
      try {
        return statSync(path).isFile();
      } catch {
        return false;
      }
    },
    list: (dir) => {
      if (!existsSync(dir)) return [];
      try {
        return readdirSync(dir);
      } catch {
        return [];
      }
    },
  };
}
