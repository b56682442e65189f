#!/usr/bin/env node
// npm run test:container: the container image, the compose file and the Umbrel app, built and
// run against a real regtest node (test/container/). What it needs beyond npm test's own:
//   - Docker: Debian's docker.io and docker-compose (and debootstrap, for the stand-in base
//     image) are installed with apt when missing (root only; otherwise one line naming them);
//     dockerd is started when none answers, and stopped again at the end;
//   - the base image node:<line>-bookworm-slim, pulled, or made by scripts/container-base.sh
//     (a test-only stand-in, cached in .cache/container/);
//   - the images: Dockerfile → solominer:test, contrib/node/Dockerfile → solominer-try-node:test
//     (Docker's layer cache makes a rebuild of unchanged sources quick);
//   - a bitcoind for the host's regtest node (scripts/provision-node.sh).
// Every container, network and volume the tests make carries one label of this run; they are
// removed at the end, also when a test fails or the run is interrupted.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LOGS = join(ROOT, '.cache', 'logs');
const NODE_LINE = process.env.SOLOMINER_NODE_LINE || '24';
const IMAGE = 'solominer:test';
const NODE_IMAGE = 'solominer-try-node:test';
const RUN = `${process.pid}${Date.now().toString(36)}`;
const LABEL = `solominer-test=${RUN}`;
const COMPOSE_PROJECT = `smtest${RUN}`;

function say(line) {
  console.log(`test:container: ${line}`);
}
class Failure extends Error {}
/** Ends the run with one line (after the cleanup, once the run has begun). */
function fail(line) {
  throw new Failure(line);
}
function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}
function run(command, args, options = {}) {
  return spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options });
}

// --- tools -----------------------------------------------------------------------------------
function installTools() {
  const packages = [];
  if (!has('dockerd')) packages.push('docker.io');
  if (!has('docker-compose')) packages.push('docker-compose');
  if (!has('debootstrap')) packages.push('debootstrap');
  if (packages.length > 0) {
    if (process.getuid?.() !== 0) fail(`needs ${packages.join(', ')}: install them (apt-get install ${packages.join(' ')}) or run as root`);
    say(`installing ${packages.join(', ')} with apt`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [['update', '-qq'], ['install', '-y', '-qq', ...packages]]) {
      const r = run('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
      if (r.status !== 0) fail(`apt-get ${args.join(' ')} failed`);
    }
  }
  // Debian's client matches Debian's daemon (and runs BuildKit); another docker on PATH may not.
  DOCKER = process.env.DOCKER || (existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker');
}
let DOCKER = 'docker';
const docker = (args, options) => run(DOCKER, args, options);

// --- the daemon ------------------------------------------------------------------------------
let dockerd;
async function startDaemon() {
  if (docker(['info'], { stdio: 'ignore' }).status === 0) return;
  mkdirSync(LOGS, { recursive: true });
  const log = openSync(join(LOGS, 'dockerd.log'), 'a');
  say('starting dockerd (log .cache/logs/dockerd.log)');
  dockerd = spawn('dockerd', [], { stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  const exited = new Promise((resolve) => dockerd.once('exit', resolve));
  // The daemon has no readiness event to wait on: ask it until it answers (at most 60 s).
  for (let i = 0; i < 120; i++) {
    if (dockerd.exitCode !== null) fail(`dockerd exited (${dockerd.exitCode}); see .cache/logs/dockerd.log`);
    if (docker(['info'], { stdio: 'ignore' }).status === 0) return;
    await Promise.race([exited, new Promise((r) => setTimeout(r, 500))]);
  }
  fail('dockerd did not answer within 60 s; see .cache/logs/dockerd.log');
}
async function stopDaemon() {
  if (!dockerd || dockerd.exitCode !== null) return;
  const exited = new Promise((resolve) => dockerd.once('exit', resolve));
  dockerd.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
  if (dockerd.exitCode === null) dockerd.kill('SIGKILL');
  say('stopped the dockerd it started');
}

// --- cleanup: everything labelled with this run ------------------------------------------------
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  const ids = (args) => (docker(args).stdout ?? '').split('\n').filter((l) => l.trim() !== '');
  const composeLabel = `com.docker.compose.project=${COMPOSE_PROJECT}`;
  const containers = [...new Set([...ids(['ps', '-aq', '--filter', `label=${LABEL}`]), ...ids(['ps', '-aq', '--filter', `label=${composeLabel}`])])];
  if (containers.length > 0) docker(['rm', '-f', '-v', ...containers]);
  const networks = [...new Set([...ids(['network', 'ls', '-q', '--filter', `label=${LABEL}`]), ...ids(['network', 'ls', '-q', '--filter', `label=${composeLabel}`])])];
  if (networks.length > 0) docker(['network', 'rm', ...networks]);
  const volumes = [...new Set([...ids(['volume', 'ls', '-q', '--filter', `label=${LABEL}`]), ...ids(['volume', 'ls', '-q', '--filter', `label=${composeLabel}`])])];
  if (volumes.length > 0) docker(['volume', 'rm', '-f', ...volumes]);
  say(`removed ${containers.length} container(s), ${networks.length} network(s), ${volumes.length} volume(s) of this run`);
}

// --- images ----------------------------------------------------------------------------------
function imageId(name) {
  const r = docker(['image', 'inspect', '-f', '{{.Id}}', name]);
  return r.status === 0 ? r.stdout.trim() : undefined;
}
function build(name, args, logName) {
  const old = imageId(name);
  const t0 = Date.now();
  mkdirSync(LOGS, { recursive: true });
  const log = join(LOGS, logName);
  const out = openSync(log, 'w');
  const env = { ...process.env, ...(DOCKER === '/usr/bin/docker' && { DOCKER_BUILDKIT: '1' }) };
  const r = spawnSync('nice', ['-n', '10', DOCKER, 'build', '-t', name, ...args, '.'], { cwd: ROOT, env, stdio: ['ignore', out, out] });
  closeSync(out);
  if (r.status !== 0) fail(`docker build of ${name} failed; see ${relative(ROOT, log)}`);
  const id = imageId(name);
  // The image it replaces would be left dangling: remove it (ignored while a container uses it).
  if (old && old !== id) docker(['rmi', old], { stdio: 'ignore' });
  say(`built ${name} in ${((Date.now() - t0) / 1000).toFixed(0)} s (log ${relative(ROOT, log)})`);
}

function testFiles() {
  const dir = join(ROOT, 'dist', 'test', 'container');
  if (!existsSync(dir)) fail('no compiled tests under dist/test/container (did tsc run?)');
  return readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort().map((f) => join('dist', 'test', 'container', f));
}

// --- the run ---------------------------------------------------------------------------------
let child;
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    interrupted = true;
    child?.kill(signal);
  });
}

let code = 1;
try {
  installTools();
  await startDaemon();
  const base = run('bash', [join(ROOT, 'scripts', 'container-base.sh'), NODE_LINE], { env: { ...process.env, DOCKER }, stdio: ['ignore', 'pipe', 'inherit'] });
  if (base.status !== 0) fail('no base image (scripts/container-base.sh)');
  const baseImage = base.stdout.trim().split('\n').pop();
  build(IMAGE, ['--build-arg', `NODE_LINE=${NODE_LINE}`], 'container-build.log');
  build(NODE_IMAGE, ['-f', 'contrib/node/Dockerfile'], 'container-node-build.log');
  const node = run('bash', [join(ROOT, 'scripts', 'provision-node.sh')], { stdio: ['ignore', 'pipe', 'ignore'] });
  const bitcoind = (node.stdout ?? '').trim().split('\n').pop();
  if (node.status !== 0 || !bitcoind) fail('no bitcoind (scripts/provision-node.sh)');
  const scratch = mkdtempSync(join(tmpdir(), 'solominer-container-tests-'));
  const env = {
    ...process.env,
    DOCKER,
    BITCOIND: bitcoind,
    TMPDIR: scratch,
    SOLOMINER_TEST_IMAGE: IMAGE,
    SOLOMINER_TEST_NODE_IMAGE: NODE_IMAGE,
    SOLOMINER_TEST_BASE_IMAGE: baseImage,
    SOLOMINER_TEST_LABEL: LABEL,
    SOLOMINER_TEST_COMPOSE_PROJECT: COMPOSE_PROJECT,
  };
  if (!interrupted) {
    child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=900000', ...process.argv.slice(2), ...testFiles()], { cwd: ROOT, env, stdio: 'inherit' });
    code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 1))));
  }
  rmSync(scratch, { recursive: true, force: true });
} catch (err) {
  if (!(err instanceof Failure)) throw err;
  console.error(`test:container: error: ${err.message}`);
  code = 1;
} finally {
  cleanup();
  await stopDaemon();
}
process.exit(interrupted ? 130 : code);
