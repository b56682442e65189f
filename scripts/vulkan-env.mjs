// The environment of software Vulkan (scripts/provision-vulkan.sh), for child processes: the
// Vulkan loader reads VK_ICD_FILENAMES and LD_LIBRARY_PATH only at process start.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** .cache/vulkan/env.sh of this checkout, wherever the process was started. */
export const LAVAPIPE_ENV_FILE = fileURLToPath(new URL('../.cache/vulkan/env.sh', import.meta.url));

// The driver check the GPU engine itself makes (src/engines/gpu/vulkan-driver.ts), compiled
// into dist/ by npm install; absent before the first build, when only provisioning runs.
const driverCheck = await import(new URL('../dist/src/engines/gpu/vulkan-driver.js', import.meta.url).href).catch(() => undefined);

/**
 * Whether this machine has a Vulkan driver of its own (a real GPU's): the loader libvulkan.so.1
 * and a driver manifest where the loader looks, as the GPU engine checks. A loader alone (the
 * libvulkan1 package, which much else pulls in) is no driver, and lavapipe manifests do not
 * count: Debian stable's Mesa is too old for Dawn, and software Vulkan is what
 * scripts/provision-vulkan.sh provides anyway. Returns a line naming what was found, or undefined.
 * `search` is the machine as vulkan-driver.ts's DriverSearch sees it (tests pass a fake one).
 */
export function systemVulkanDriver(search = driverCheck?.systemSearch()) {
  if (driverCheck === undefined || search === undefined) return undefined;
  const withoutLavapipe = { ...search, list: (dir) => search.list(dir).filter((name) => !name.startsWith('lvp_icd')) };
  return driverCheck.findVulkanDriver(withoutLavapipe).found ? 'the Vulkan loader and a driver manifest' : undefined;
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
