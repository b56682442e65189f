// The environment of software Vulkan (scripts/provision-vulkan.sh), for child processes: the
// Vulkan loader reads VK_ICD_FILENAMES and LD_LIBRARY_PATH only at process start.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const ENV_FILE = '.cache/vulkan/env.sh';

/** process.env plus lavapipe's variables when provisioned and no Vulkan driver is named yet. */
export function withVulkanEnv(base = process.env, envFile = ENV_FILE) {
  const env = { ...base };
  if (!existsSync(envFile) || env.VK_ICD_FILENAMES) return env;
  const dump = execFileSync('bash', ['-c', '. "$0" && env -0', envFile], { encoding: 'utf8' });
  for (const entry of dump.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}
