#!/usr/bin/env node
// What the tests need beyond npm packages, provisioned once into .cache/ without touching the
// system (scripts/provision-*.sh): a bitcoind, software Vulkan where the machine has no Vulkan
// driver of its own, a headless Chromium, and on x86-64 the arm64 cross compiler, qemu and an
// arm64 Node for the emulated tests (test/platform/arm64-emulated.test.ts). Each step is quick when its result is there already
// and prints one line; a step that fails throws a ProvisionError naming what is missing.
// Run by scripts/run-tests.mjs (npm test); `node scripts/provision.mjs` runs it alone.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { systemVulkanDriver } from './vulkan-env.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LOGS = join(ROOT, '.cache', 'logs');

export class ProvisionError extends Error {
  name = 'ProvisionError';
}

/**
 * The steps, in order. `skip` says why a step is not needed on this machine (or undefined);
 * `env` names the variable the tests read the step's result from (its script's last stdout line).
 */
const STEPS = [
  { what: 'bitcoind', script: 'provision-node.sh', env: 'BITCOIND' },
  {
    what: 'software Vulkan',
    script: 'provision-vulkan.sh',
    skip: () => {
      if (process.env.VK_ICD_FILENAMES) return `VK_ICD_FILENAMES names a driver (${process.env.VK_ICD_FILENAMES})`;
      const driver = systemVulkanDriver();
      return driver && `this machine has a Vulkan driver of its own (${driver})`;
    },
  },
  { what: 'headless browser', script: 'provision-browser.sh', env: 'SOLOMINER_CHROMIUM' },
  {
    what: 'arm64 cross compiler, qemu and node',
    script: 'provision-arm64.sh',
    env: 'SOLOMINER_ARM64',
    skip: () => (process.platform === 'linux' && process.arch === 'x64' ? undefined : `the emulated arm64 run is set up for x86-64 Linux (this is ${process.platform}-${process.arch})`),
  },
];

/** Runs every step; returns the variables to add to the tests' environment. */
export function provisionAll(log = (line) => console.log(line)) {
  const env = {};
  for (const step of STEPS) {
    const skipped = step.skip?.();
    if (skipped) {
      log(`provision: ${step.what}: not needed, ${skipped}`);
      continue;
    }
    const t0 = process.hrtime.bigint();
    const script = join(ROOT, 'scripts', step.script);
    const r = spawnSync('bash', [script], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    // The script's own lines (a cold run downloads and checks for a minute) go to a log file.
    mkdirSync(LOGS, { recursive: true });
    const logFile = join(LOGS, step.script.replace(/\.sh$/, '.log'));
    writeFileSync(logFile, `${r.stderr ?? ''}${r.stdout ?? ''}`);
    const result = (r.stdout ?? '').trim().split('\n').pop()?.trim();
    if (r.status !== 0 || !result) {
      const why =
        (r.stderr ?? '').split('\n').filter((line) => /error:/.test(line)).pop()?.trim() ??
        (r.error ? r.error.message : `exit ${r.status ?? r.signal}`);
      throw new ProvisionError(
        `provision: no ${step.what}: scripts/${step.script} failed: ${why} (log: ${relative(ROOT, logFile)})`,
      );
    }
    const how = /cache hit|^provision-\w+: using /m.test(r.stderr ?? '') ? 'ready' : 'provisioned';
    const shown = result.startsWith(ROOT) ? relative(ROOT, result) : result;
    log(`provision: ${step.what}: ${how}, ${shown} (${seconds.toFixed(1)} s)`);
    if (step.env) env[step.env] = result;
  }
  return env;
}

/** provisionAll(), or its one-line reason on stderr and exit 1. */
export function provisionOrExit() {
  try {
    return provisionAll();
  } catch (err) {
    if (!(err instanceof ProvisionError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) provisionOrExit();
