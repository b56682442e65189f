// The environment of software Vulkan (scripts/provision-vulkan.sh), for child processes: the
// Vulkan loader reads VK_ICD_FILENAMES and LD_LIBRARY_PATH only at process start.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** .cache/vulkan/env.sh of this checkout, wherever the process was started. */
export const LAVAPIPE_ENV_FILE = fileURLToPath(new URL('../.cache/vulkan/env.sh', import.meta.url));

// Where the Vulkan loader looks for driver manifests (ICDs) when no variable names one.
const ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/share/vulkan/icd.d'];

/**
 * The manifest of a Vulkan driver this machine has of its own (a real GPU's), or undefined.
 * Needs the system's Vulkan loader too: a manifest without a loader gives WebGPU no adapter.
 * Lavapipe manifests do not count: Debian stable's Mesa is too old for Dawn, and software
 * Vulkan is what scripts/provision-vulkan.sh provides anyway.
 */
export function systemVulkanDriver() {
  const ldconfig = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' });
  if (ldconfig.status !== 0 || !/\blibvulkan\.so\.1\b/.test(ldconfig.stdout)) return undefined;
  for (const dir of ICD_DIRS) {
    let names;
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    const driver = names.find((name) => name.endsWith('.json') && !name.startsWith('lvp_icd'));
    if (driver) return join(dir, driver);
  }
  return undefined;
}

/**
 * process.env plus lavapipe's variables when provisioned, unless a driver is named already
 * (VK_ICD_FILENAMES or VK_DRIVER_FILES) or the machine has a Vulkan driver of its own.
 */
export function withVulkanEnv(base = process.env, envFile = LAVAPIPE_ENV_FILE) {
  const env = { ...base };
  if (!existsSync(envFile) || env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES || systemVulkanDriver()) return env;
  const dump = execFileSync('bash', ['-c', '. "$0" && env -0', envFile], { encoding: 'utf8' });
  for (const entry of dump.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}
