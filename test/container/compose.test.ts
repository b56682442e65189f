// contrib/compose.yaml and contrib/umbrel/ with Debian's docker-compose (Compose v1): the try-it
// profile comes up with its own regtest node (contrib/node/Dockerfile) and mines; the common
// deployment's service and the Umbrel app validate, the Umbrel app under the variables umbrelOS
// gives it and with umbrelOS's own half of the file (the app proxy, its network) beside it.
// Run by `npm run test:container` (scripts/test-container.mjs), which builds the images first.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { COMPOSE, docker, exec, IMAGE, LABEL, LineStream, NODE_IMAGE, type Result } from './docker.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const COMPOSE_FILE = join(ROOT, 'contrib', 'compose.yaml');
const UMBREL = join(ROOT, 'contrib', 'umbrel');
const PROJECT = process.env.SOLOMINER_TEST_COMPOSE_PROJECT ?? `smtest${LABEL.split('=')[1]}`;
const ADDRESS = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';

/** The environment without the SOLOMINER_* variables of whoever runs the tests, plus `extra`. */
function composeEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOLOMINER_') && !k.startsWith('APP_')));
  return { ...clean, ...extra };
}

function compose(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 180_000): Promise<Result> {
  return exec(COMPOSE, args, { env, timeoutMs });
}

describe('compose and Umbrel files', { timeout: 600_000 }, () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'solominer-compose-'));
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  describe('contrib/compose.yaml, profile "try"', () => {
    const env = composeEnv({
      SOLOMINER_IMAGE: IMAGE,
      SOLOMINER_TRY_NODE_IMAGE: NODE_IMAGE,
      // Published on loopback and a free port: the test must not take the host's 3333.
      SOLOMINER_STRATUM_PUBLISH: '127.0.0.1:',
      SOLOMINER_STATUS_PUBLISH: '127.0.0.1:',
    });
    const base = ['-f', COMPOSE_FILE, '-p', PROJECT, '--profile', 'try'];
    after(async () => {
      await compose([...base, 'down', '-v', '--remove-orphans', '-t', '30'], env);
    });

    it('names three services, the common one outside the profile', async () => {
      const r = await compose(['-f', COMPOSE_FILE, '--profile', 'try', 'config', '--services'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n').sort(), ['solominer', 'try-miner', 'try-node']);
      // Only the try services carry the profile: `up solominer` never starts a node of its own.
      const config = await compose(['-f', COMPOSE_FILE, 'config'], env);
      assert.equal(config.code, 0, config.stderr);
      assert.equal(config.stdout.match(/profiles:\n\s+- try\n/g)?.length, 2, config.stdout);
    });

    it('comes up with its own regtest node and mines blocks it accepts', async () => {
      const up = await compose([...base, 'up', '-d', '--no-build', 'try-node', 'try-miner'], env);
      assert.equal(up.code, 0, up.stderr);
      const logs = new LineStream(COMPOSE, ['-f', COMPOSE_FILE, '-p', PROJECT, '--profile', 'try', 'logs', '-f', '--no-color', 'try-miner'], env);
      try {
        // The miner waits for the node's cookie (--connect-timeout 120 s), then mines.
        const m = await logs.waitFor(/block (\d+) accepted hash=([0-9a-f]{64})/, 180_000, 'an accepted block');
        const hash = m[2]!;
        const cli = ['exec', '-T', 'try-node', 'bitcoin-cli', '-datadir=/bitcoin', '-chain=regtest', '-rpcport=18443'];
        const header = await compose([...base, ...cli, 'getblockheader', hash], env);
        assert.equal(header.code, 0, header.stderr);
        assert.ok((JSON.parse(header.stdout) as { confirmations: number }).confirmations >= 1);
        const block = await compose([...base, ...cli, 'getblock', hash, '2'], env);
        const coinbase = (JSON.parse(block.stdout) as { tx: Array<{ vout: Array<{ scriptPubKey: { address?: string } }> }> }).tx[0]!;
        assert.equal(coinbase.vout[0]!.scriptPubKey.address, ADDRESS);
      } finally {
        logs.stop();
      }
      const down = await compose([...base, 'down', '-v', '--remove-orphans', '-t', '30'], env);
      assert.equal(down.code, 0, down.stderr);
      const left = await docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${PROJECT}`]);
      assert.equal(left.stdout.trim(), '', 'down removed every container');
    });
  });

  describe('contrib/umbrel/', () => {
    /** umbrelOS's half of an app's compose file: its app proxy, and the network apps share. */
    async function umbrelSide(): Promise<string> {
      const file = join(scratch, 'umbrel-side.yml');
      await writeFile(
        file,
        [
          'version: "3.7"',
          'services:',
          '  app_proxy:',
          `    image: ${IMAGE}`,
          '    environment:',
          '      PROXY_PORT: 9464',
          'networks:',
          '  default:',
          '    external: true',
          '    name: umbrel_main_network',
          '',
        ].join('\n'),
      );
      return file;
    }
    const umbrelEnv = (dataDir: string) =>
      composeEnv({
        APP_DATA_DIR: dataDir,
        APP_BITCOIN_NETWORK: 'mainnet',
        APP_BITCOIN_NODE_IP: '10.21.21.8',
        APP_BITCOIN_RPC_PORT: '8332',
        APP_BITCOIN_RPC_USER: 'umbrel',
        APP_BITCOIN_RPC_PASS: 'rpc-password-of-the-bitcoin-app',
        APP_BITCOIN_ZMQ_HASHBLOCK_PORT: '28334',
        APP_PASSWORD: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        DEVICE_DOMAIN_NAME: 'umbrel.local',
      });

    it('validates under umbrelOS variables: the node from APP_BITCOIN_*, state under APP_DATA_DIR, the proxy to the dashboard', async () => {
      const r = await compose(['-f', join(UMBREL, 'docker-compose.yml'), '-f', await umbrelSide(), 'config'], umbrelEnv('/home/umbrel/umbrel/app-data/solominer'));
      assert.equal(r.code, 0, r.stderr);
      const out = r.stdout;
      for (const line of [
        'APP_HOST: solominer_miner_1',
        'APP_PORT: 9464',
        'SOLOMINER_RPC_URL: http://10.21.21.8:8332',
        'SOLOMINER_RPC_USER: umbrel',
        'SOLOMINER_ZMQ: tcp://10.21.21.8:28334',
        'SOLOMINER_NETWORK: mainnet',
        'SOLOMINER_ENGINES: none',
        '- /home/umbrel/umbrel/app-data/solominer/data/solominer:/data:rw',
        'published: 23333',
        'user: 1000:1000',
        'name: umbrel_main_network',
      ]) {
        assert.ok(out.includes(line), `docker-compose config lacks "${line}":\n${out}`);
      }
      // Without Umbrel's variables the app cannot name its node: compose says which are missing.
      const bare = await compose(['-f', join(UMBREL, 'docker-compose.yml'), '-f', await umbrelSide(), 'config'], composeEnv({}));
      assert.match(bare.stderr, /The APP_BITCOIN_NODE_IP variable is not set/);
    });

    it('umbrel-app.yml names the app, its port and the Bitcoin app it needs', async () => {
      const text = await readFile(join(UMBREL, 'umbrel-app.yml'), 'utf8');
      for (const line of ['manifestVersion: 1', 'id: solominer', 'category: bitcoin', 'port: 9464', 'deterministicPassword: true']) assert.ok(text.includes(`\n${line}\n`), line);
      assert.match(text, /\ndependencies:\n {2}- bitcoin\n/);
      assert.match(text, /stratum\+tcp:\/\/umbrel\.local:23333/, 'the description names the published Stratum port');
    });
  });
});
