#!/usr/bin/env node
// `npx solominer <command>`: runs the compiled CLI (npm install compiles it into dist/).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(entry)) {
  process.stderr.write('solominer: not built yet: run npm install in the repository root\n');
  process.exit(1);
}

// On a machine without a Vulkan driver, software Vulkan provisioned by
// scripts/provision-vulkan.sh gives the GPU engine an adapter. Its variables must be set before
// the process starts, so the CLI runs once more with them. A machine with a Vulkan driver of its
// own (a real GPU) is left alone, as is anyone who names a driver in VK_ICD_FILENAMES. Nothing
// provisioned: the CLI runs as it is, and the GPU engine reports itself unavailable.
const lavapipe = `${root}.cache/vulkan/env.sh`;
const vulkanEnv =
  !process.env.SOLOMINER_NO_LAVAPIPE && existsSync(lavapipe)
    ? (await import(pathToFileURL(`${root}scripts/vulkan-env.mjs`).href)).withVulkanEnv(process.env, lavapipe)
    : process.env;
if (vulkanEnv.VK_ICD_FILENAMES !== process.env.VK_ICD_FILENAMES) {
  // The IPC channel is the child's lifeline: if this process dies without passing a signal on
  // (kill -9), the channel closes and the child stops in order instead of mining on as an orphan.
  const child = spawn(process.execPath, process.argv.slice(1), {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...vulkanEnv, SOLOMINER_NO_LAVAPIPE: '1' },
  });
  // Ctrl-C reaches the whole foreground process group, the child included: this process only
  // waits for it. Signals sent to this process alone are passed on.
  process.on('SIGINT', () => {});
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 1)));
} else {
  await run();
}

async function run() {
  if (process.channel) {
    // Started by the wrapper above: its death closes the channel; stop as on SIGTERM.
    process.channel.unref();
    process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  }
  const { main } = await import(pathToFileURL(entry).href);
  const code = await main(process.argv.slice(2));
  // Sockets a command opened (a longpoll in flight, ZMQ) must not keep a finished command alive.
  process.exit(code);
}
