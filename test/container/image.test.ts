// The container image (Dockerfile) against a real regtest node on the host, reached the way
// docs/deploy.md and contrib/compose.yaml reach one: host.docker.internal on the default bridge,
// the node's cookie file mounted read-only, ZMQ published on the node's wildcard address.
// Run by `npm run test:container` (scripts/test-container.mjs), which builds the images first.
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { freePorts } from '../../src/devnode/local-node.js';
import { blockTarget, TestStratumClient } from '../support/stratum-client.js';
import { startRegtest, type LocalNode } from '../support/regtest.js';
import { COMPOSE, docker, dockerOk, exec, follow, IMAGE, LABEL, LineStream, lastLine, PREFIX, publishedPort, DOCKER } from './docker.js';

// The regtest address of private key 1 (a test chain's: nothing of value is paid to it).
const ADDRESS = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
const TESTNET_ADDRESS = 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx';
const TOKEN = 'container-test-9b41d7c2e05f';
const BASE_IMAGE = process.env.SOLOMINER_TEST_BASE_IMAGE ?? 'node:24-bookworm-slim';
const MB = 1e6;

/** The host's address as a container sees it: what host.docker.internal:host-gateway names. */
async function hostGateway(): Promise<string> {
  const out = await dockerOk(['run', '--rm', '--label', LABEL, '--add-host', 'host.docker.internal:host-gateway', '--entrypoint', 'getent', IMAGE, 'hosts', 'host.docker.internal']);
  const address = out.split(/\s+/)[0];
  if (!address || !/^\d+\.\d+\.\d+\.\d+$/.test(address)) throw new Error(`host.docker.internal resolves to ${JSON.stringify(out)}`);
  return address;
}

describe('the container image against a regtest node', { timeout: 900_000 }, () => {
  let node: LocalNode;
  let scratch: string;
  let cookie: string;
  let rpcPort: number;
  let zmqPort: number;
  let gateway: string;
  const volume = `${PREFIX}-data`;

  /** docker run arguments that point the miner at the node. */
  const nodeArgs = (): string[] => [
    '--add-host', 'host.docker.internal:host-gateway',
    '-v', `${cookie}:/bitcoin/.cookie:ro`,
    '-e', 'SOLOMINER_NETWORK=regtest',
    '-e', `SOLOMINER_RPC_URL=http://host.docker.internal:${rpcPort}`,
    '-e', 'SOLOMINER_RPC_COOKIE=/bitcoin/.cookie',
    '-e', `SOLOMINER_ZMQ=tcp://host.docker.internal:${zmqPort}`,
    '-e', `SOLOMINER_ADDRESS=${ADDRESS}`,
    '-e', 'SOLOMINER_THREADS=1',
  ];
  const name = (what: string) => `${PREFIX}-${what}`;
  const runArgs = (what: string) => ['run', '--label', LABEL, '--name', name(what)];

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'solominer-container-'));
    gateway = await hostGateway();
    zmqPort = (await freePorts(1))[0]!;
    // RPC also on the bridge's address, open to Docker's default address pools (172.17-31.x.x,
    // then 192.168.x.x: a compose or Umbrel network gets the next free one, as in
    // docs/deploy.md); ZMQ on the wildcard address (a miner that names the node differently
    // still matches it, node-checks.ts).
    node = await startRegtest({ zmq: false, extraArgs: [`-rpcbind=${gateway}`, '-rpcallowip=172.16.0.0/12', '-rpcallowip=192.168.0.0/16', `-zmqpubhashblock=tcp://0.0.0.0:${zmqPort}`] });
    rpcPort = Number(new URL(node.rpcUrl).port);
    cookie = node.cookiePath;
    await dockerOk(['volume', 'create', '--label', LABEL, volume]);
  });

  after(async () => {
    const pid = node?.pid;
    if (pid !== undefined) process.kill(pid, 'SIGCONT');
    await node?.stop();
    await rm(scratch, { recursive: true, force: true });
    // Containers and the volume: scripts/test-container.mjs removes whatever carries LABEL.
  });

  it('adds at most 120 MB to its base, holds no compiler, runs as uid 1000 with /data as its volume', async () => {
    const [size, base] = (await Promise.all([IMAGE, BASE_IMAGE].map((i) => dockerOk(['image', 'inspect', '-f', '{{.Size}}', i])))).map(Number);
    const added = (size! - base!) / MB;
    process.stderr.write(`# image ${IMAGE}: ${(size! / MB).toFixed(1)} MB, ${added.toFixed(1)} MB above ${BASE_IMAGE}\n`);
    assert.ok(added <= 120, `the image adds ${added.toFixed(1)} MB to ${BASE_IMAGE}`);
    const config = JSON.parse(await dockerOk(['image', 'inspect', '-f', '{{json .Config}}', IMAGE])) as {
      User: string; Volumes: Record<string, unknown>; ExposedPorts: Record<string, unknown>; Healthcheck: { Test: string[] }; WorkingDir: string;
    };
    assert.equal(config.User, 'node');
    assert.deepEqual(Object.keys(config.Volumes), ['/data']);
    assert.equal(config.WorkingDir, '/data');
    assert.deepEqual(Object.keys(config.ExposedPorts).sort(), ['3333/tcp', '9464/tcp']);
    assert.deepEqual(config.Healthcheck.Test, ['CMD', 'solominer', 'status', '--health']);
    const tools = await docker(['run', '--rm', '--label', LABEL, '--entrypoint', 'sh', IMAGE, '-c', 'for t in cc gcc g++ c++ clang make cmake; do command -v $t; done; id -u']);
    assert.equal(tools.stdout.trim(), '1000', `compilers or build tools found:\n${tools.stdout}`);
  });

  it('holds the npm package installed globally: this platform\'s prebuilt only, nothing of a build from source, and mines with that prebuilt', async () => {
    const target = `linux-${process.arch}`;
    // What a build from source would need or leave, and the dev dependencies: none of it is there.
    const layout = await dockerOk(['run', '--rm', '--label', LABEL, '--entrypoint', 'sh', IMAGE, '-c',
      'cd "$(npm root -g)/solominer" && ls -d build native CMakeLists.txt scripts/build-native.mjs node_modules/cmake-js node_modules/node-api-headers node_modules/typescript node_modules/playwright-core 2>/dev/null; ls prebuilds; readlink /usr/local/bin/solominer']);
    assert.equal(layout, `${target}\nmanifest.json\n../lib/node_modules/solominer/bin/solominer.js`);
    // The engine the miner loads is the package's prebuilt (check's own line; no node here: exit 1).
    const r = await docker(['run', '--rm', '--label', LABEL, IMAGE, 'check', '--network', 'regtest', '--address', ADDRESS, '--rpc-url', 'http://127.0.0.1:1', '--connect-timeout', '1'], 60_000);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^ok {3}native engine: the prebuilt for ${target} \\(/usr/local/lib/node_modules/solominer/prebuilds/${target}/solominer_native\\.node\\)$`, 'm'));
  });

  it('bad configuration or an unusable node: one line each, exit 2 (an unreachable node: exit 1), no stack trace', async () => {
    const run = (args: string[], env: string[] = []) => docker(['run', '--rm', '--label', LABEL, ...args, ...env.flatMap((e) => ['-e', e]), IMAGE], 90_000);
    const noTrace = (r: { stdout: string; stderr: string }) => assert.ok(!/^\s+at /m.test(r.stdout + r.stderr), `a stack trace:\n${r.stderr}`);

    // No payout address: the only line.
    let r = await run([]);
    assert.equal(r.code, 2);
    assert.equal(`${r.stdout}${r.stderr}`.trim(), 'solominer mine: --address: required: the payout address (or SOLOMINER_ADDRESS, or config.json address)');

    // The node's cookie as bitcoind writes it (0600, its owner only): the miner's uid 1000 cannot read it.
    await chmod(cookie, 0o600);
    r = await run(nodeArgs());
    assert.equal(r.code, 2, r.stderr);
    assert.equal(lastLine(r), "solominer mine: --rpc-cookie: cannot read /bitcoin/.cookie (EACCES) as uid 1000: let this user read it (bitcoind -rpccookieperms=group and the node's group) or give --rpc-user and --rpc-password");
    noTrace(r);
    // What -rpccookieperms=all (or group, with the group added) gives it.
    await chmod(cookie, 0o644);

    // A node on another network than the miner's.
    r = await run(nodeArgs(), ['SOLOMINER_NETWORK=testnet', `SOLOMINER_ADDRESS=${TESTNET_ADDRESS}`]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(lastLine(r), /^solominer mine: --network: the node at http:\/\/host\.docker\.internal:\d+ is on chain "regtest" \(regtest\), but the miner is set to testnet \(--network\)$/);
    noTrace(r);

    // A /data the miner's user may not write (a host folder owned by root).
    const rootOnly = await mkdtemp(join(scratch, 'data-'));
    await chmod(rootOnly, 0o755);
    r = await run([...nodeArgs(), '-v', `${rootOnly}:/data`]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(lastLine(r), /^solominer mine: .*\/data\/reports.*(EACCES|permission denied)/i);
    noTrace(r);

    // The status port published without a token.
    r = await run(nodeArgs(), ['SOLOMINER_METRICS_HOST=0.0.0.0']);
    assert.equal(r.code, 2);
    assert.match(lastLine(r), /^solominer mine: SOLOMINER_METRICS_HOST: 0\.0\.0\.0 is beyond loopback: the status port needs a token there/);

    // No node at all: one line once --connect-timeout runs out, exit 1 (a restart may find it).
    r = await run(nodeArgs(), [`SOLOMINER_RPC_URL=http://host.docker.internal:1`, 'SOLOMINER_CONNECT_TIMEOUT=2']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(lastLine(r), /^solominer mine: node at http:\/\/host\.docker\.internal:1 is unreachable \(.*\); gave up after 2 s \(--connect-timeout\)$/);
    noTrace(r);
  });

  it('mines blocks the node accepts, paying the address, and exits 0 (--max-blocks)', async () => {
    const before = await node.rpc.call<number>('getblockcount');
    const r = await docker([...runArgs('mine'), '-v', `${volume}:/data`, ...nodeArgs(), '-e', 'SOLOMINER_MAX_BLOCKS=2', IMAGE], 180_000);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout + r.stderr, /blocks: found 2, accepted 2/);
    const height = await node.rpc.call<number>('getblockcount');
    assert.ok(height >= before + 2, `the node's height went from ${before} to ${height}`);
    const tip = await node.rpc.call<{ tx: Array<{ vout: Array<{ scriptPubKey: { address?: string } }> }> }>('getblock', await node.rpc.call<string>('getbestblockhash'), 2);
    assert.equal(tip.tx[0]!.vout[0]!.scriptPubKey.address, ADDRESS);
    // The journal is in the volume.
    const journal = await dockerOk(['run', '--rm', '--label', LABEL, '-v', `${volume}:/data`, '--entrypoint', 'cat', IMAGE, '/data/reports/found-blocks.jsonl']);
    // One outcome record per block (each node's answer is a record of its own beside it).
    const outcomes = journal.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { type: string; outcome?: string });
    assert.equal(outcomes.filter((r) => r.type === 'outcome' && r.outcome === 'accepted').length, 2, journal);
    await dockerOk(['rm', name('mine')]);
  });

  let pool: string;
  let client: TestStratumClient | undefined;

  it('serves Stratum through the published port, the dashboard only with its token, is healthy, runs as non-root', async () => {
    pool = name('pool');
    await dockerOk([
      ...runArgs('pool').slice(0, 1), '-d', ...runArgs('pool').slice(1),
      '-p', '127.0.0.1::3333', '-p', '127.0.0.1::9464',
      '--health-interval', '1s', '--health-start-period', '0s',
      '-v', `${volume}:/data`, ...nodeArgs(),
      '-e', 'SOLOMINER_ENGINES=none', '-e', 'SOLOMINER_METRICS_HOST=0.0.0.0', '-e', `SOLOMINER_STATUS_TOKEN=${TOKEN}`,
      IMAGE,
    ]);
    const logs = follow(pool);
    const health = new LineStream(DOCKER, ['events', '--filter', `container=${pool}`, '--filter', 'event=health_status']);
    try {
      await logs.waitFor(/Stratum pool on stratum\+tcp:\/\/0\.0\.0\.0:3333/, 60_000);
      client = await TestStratumClient.connect(await publishedPort(pool, 3333));
      await client.startLikeCpuminer(`${ADDRESS}.container`);
      const job = client.job ?? (await client.nextNotify());
      assert.equal(job.nbits, '207fffff');

      const status = `http://127.0.0.1:${await publishedPort(pool, 9464)}/status`;
      assert.equal((await fetch(status)).status, 401);
      const res = await fetch(status, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(res.status, 200);
      const doc = (await res.json()) as { network: string; pool: { connections: number } };
      assert.equal(doc.network, 'regtest');
      assert.equal(doc.pool.connections, 1);

      await health.waitFor(/health_status: healthy/, 60_000);
      const probe = await docker(['exec', pool, 'solominer', 'status', '--health']);
      assert.equal(probe.code, 0);
      assert.match(probe.stdout, /^healthy: regtest miner up \d+ s, working at height \d+\n$/);

      // Every process of the container (tini and the miner) runs as uid 1000.
      const top = await dockerOk(['top', pool, '-eo', 'pid,uid,args']);
      const rows = top.split('\n').slice(1).filter((l) => l.trim() !== '');
      assert.ok(rows.length >= 2, top);
      for (const row of rows) assert.match(row, /^\s*\d+\s+1000\s/, top);
    } finally {
      logs.stop();
      health.stop();
    }
  });

  it('a block found while the node hangs stays in the journal through docker stop (Docker\'s default 10 s: exit 0) and rm; a new container on the volume replays it', async () => {
    assert.ok(client && pool, 'the pool test ran');
    const logs = follow(pool);
    try {
      const job = client.job!;
      const height = (await node.rpc.call<number>('getblockcount')) + 1;
      // The node stops answering (SIGSTOP: a hung node, not a refused connection)...
      process.kill(node.pid!, 'SIGSTOP');
      // ...and a miner sends a share that is a block (every other nonce on regtest).
      const extranonce2 = '00'.repeat(client.extranonce2Size);
      const solved = client.solve(job, extranonce2, blockTarget(job.nbits));
      assert.ok(solved, 'no regtest block within a million nonces');
      void client.submit(`${ADDRESS}.container`, job, extranonce2, solved.ntime, solved.nonce).catch(() => undefined);
      await logs.waitFor(new RegExp(`block found by Stratum worker ${ADDRESS}\\.container height=${height}`), 60_000, 'the found block');
      // docker stop with Docker's own timeout (10 s, then SIGKILL): SIGTERM, the orderly stop —
      // the submission in flight gets the stop's grace (7 s), then is given up — exit 0.
      const t0 = Date.now();
      await dockerOk(['stop', pool], 90_000);
      const ms = Date.now() - t0;
      process.stderr.write(`# docker stop with a hung node took ${ms} ms\n`);
      const exit = await dockerOk(['inspect', '-f', '{{.State.ExitCode}} {{.State.OOMKilled}}', pool]);
      assert.equal(exit, '0 false', `stopped after ${ms} ms:\n${logs.lines.slice(-15).join('\n')}`);
      // Unconfirmed, which keeps the block pending in the journal; the summary says so.
      await logs.waitFor(/1 submission in flight at the stop: unconfirmed 1 \(no answer from the node: pending in the journal, submitted again at the next start\)/, 10_000, 'the stop summary');
    } finally {
      logs.stop();
      await client.close().catch(() => undefined);
    }
    // The journal kept the block, unanswered; the container is removed, the volume stays.
    const journal = (await dockerOk(['run', '--rm', '--label', LABEL, '-v', `${volume}:/data`, '--entrypoint', 'cat', IMAGE, '/data/reports/found-blocks.jsonl'])).split('\n').map((l) => JSON.parse(l) as { type: string; hash: string; outcome?: string });
    const found = journal.filter((r) => r.type === 'found').at(-1)!;
    assert.ok(!journal.some((r) => r.hash === found.hash && r.outcome !== undefined && r.outcome !== 'unconfirmed' && r.outcome !== 'inconclusive'), 'the block is still pending');
    await dockerOk(['rm', pool]);
    // Resumed, the node may still take the block from the request the miner had sent before it
    // gave up (Bitcoin Core reads a request that arrived whole): the journal does not know, so the
    // next start settles it either way — submitted again, or found in the node's chain.
    process.kill(node.pid!, 'SIGCONT');

    const again = name('again');
    await dockerOk([...runArgs('again').slice(0, 1), '-d', ...runArgs('again').slice(1), '-v', `${volume}:/data`, ...nodeArgs(), '-e', 'SOLOMINER_ENGINES=none', IMAGE]);
    const logs2 = follow(again);
    try {
      await logs2.waitFor(new RegExp(`journal: replayed a block found earlier hash=${found.hash} outcome=accepted`), 90_000);
      const header = await node.rpc.call<{ confirmations: number }>('getblockheader', found.hash);
      assert.ok(header.confirmations >= 1, 'the replayed block is in the active chain');
      const settled = (await dockerOk(['run', '--rm', '--label', LABEL, '-v', `${volume}:/data`, '--entrypoint', 'cat', IMAGE, '/data/reports/found-blocks.jsonl'])).split('\n').map((l) => JSON.parse(l) as { type: string; hash: string; outcome?: string });
      assert.equal(settled.filter((r) => r.type === 'outcome' && r.hash === found.hash).at(-1)?.outcome, 'accepted', 'the journal settled the block');
      await dockerOk(['stop', again], 90_000);
      assert.equal(await dockerOk(['inspect', '-f', '{{.State.ExitCode}}', again]), '0');
      await logs2.waitFor(/stopped \(signal\)/, 10_000);
    } finally {
      logs2.stop();
    }
    await dockerOk(['rm', again]);
  });
  it('the Umbrel app runs on the Bitcoin app\'s variables with no configuration: a pool whose logins are addresses; an address in config.json takes the other names', async () => {
    // umbrelOS's side: the network its apps share, and what the Bitcoin app exports (RPC user
    // and password: the node's cookie, split as the Bitcoin app's rpcauth pair would be).
    const network = `${PREFIX}-umbrel`;
    await dockerOk(['network', 'create', '--label', LABEL, network]);
    const [user, pass] = (await readFile(cookie, 'utf8')).trim().split(':') as [string, string];
    const appData = await mkdtemp(join(scratch, 'app-data-'));
    const umbrel = fileURLToPath(new URL('../../../contrib/umbrel/', import.meta.url));
    await mkdir(join(appData, 'data', 'solominer'), { recursive: true });
    // What umbrelOS does at install: the app's data/ copied into its data folder, owned by uid 1000.
    await writeFile(join(appData, 'data', 'solominer', 'config.json'), await readFile(join(umbrel, 'data', 'solominer', 'config.json')));
    await chown(join(appData, 'data'), 1000, 1000);
    await chown(join(appData, 'data', 'solominer'), 1000, 1000);
    await chown(join(appData, 'data', 'solominer', 'config.json'), 1000, 1000);
    const side = join(scratch, 'umbrel-side.yml');
    await writeFile(side, ['version: "3.7"', 'services:', '  app_proxy:', `    image: ${IMAGE}`, '  miner:', `    image: ${IMAGE}`, `    labels: ["${LABEL}"]`, 'networks:', '  default:', '    external: true', `    name: ${network}`, ''].join('\n'));
    const project = `${PREFIX.replace(/-/g, '')}umbrel`;
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOLOMINER_'))),
      APP_DATA_DIR: appData,
      APP_BITCOIN_NETWORK: 'regtest',
      APP_BITCOIN_NODE_IP: gateway,
      APP_BITCOIN_RPC_PORT: String(rpcPort),
      APP_BITCOIN_RPC_USER: user,
      APP_BITCOIN_RPC_PASS: pass,
      APP_BITCOIN_ZMQ_HASHBLOCK_PORT: String(zmqPort),
      APP_PASSWORD: 'f4a1c9e0b2d37a5e8c6b1d0f9e2a7c43',
    };
    const compose = (args: string[]) => exec(COMPOSE, ['-f', join(umbrel, 'docker-compose.yml'), '-f', side, '-p', project, ...args], { env, timeoutMs: 120_000 });
    const container = `${project}_miner_1`;
    /** An ESP-Miner-like login as `user`: the authorize reply, and the first job when authorized. */
    const login = async (user: string) => {
      const miner = await TestStratumClient.connect(await publishedPort(container, 3333));
      try {
        const replies = await miner.startLikeEspMiner(user);
        const authorized = replies[2]!;
        return { authorized, job: authorized.result === true ? (miner.job ?? (await miner.nextNotify())) : undefined };
      } finally {
        await miner.close();
      }
    };
    try {
      // As installed: no address anywhere. It starts, and says logins must be addresses.
      let r = await compose(['up', '-d', '--no-deps', 'miner']);
      assert.equal(r.code, 0, r.stderr);
      let logs = follow(container);
      try {
        await logs.waitFor(/Stratum pool on stratum\+tcp:\/\/0\.0\.0\.0:3333 .*login="<address>\[\.<worker>\] only/, 60_000, 'the pool line saying logins are addresses');
        assert.ok(logs.lines.some((l) => /payout.*none: every Stratum login must be a payout address/.test(l)), logs.lines.join('\n'));
        const own = await login(`${ADDRESS}.bitaxe`);
        assert.equal(own.authorized.result, true, JSON.stringify(own.authorized));
        assert.equal(own.job!.nbits, '207fffff');
        const plain = await login('bitaxe');
        assert.deepEqual(plain.authorized.error, [24, 'bitaxe is not a payout address on regtest: log in as <address>[.<worker>] (this pool has no operator address: the blocks a miner finds pay the address it logs in with)', null]);
        const probe = await docker(['exec', container, 'solominer', 'status', '--health']);
        assert.equal(probe.code, 0, probe.stdout);
      } finally {
        logs.stop();
      }

      // The address is still settable: in config.json, then a restart of the app.
      await writeFile(join(appData, 'data', 'solominer', 'config.json'), JSON.stringify({ address: ADDRESS }));
      r = await compose(['restart', 'miner']);
      assert.equal(r.code, 0, r.stderr);
      logs = follow(container);
      try {
        await logs.waitFor(new RegExp(`payout.*${ADDRESS} \\(p2wpkh\\)`), 60_000, 'the start-up line with the operator address');
        // (docker logs -f repeats the first run's lines: this run's pool line names no login rule)
        await logs.waitFor(/Stratum pool on stratum\+tcp:\/\/0\.0\.0\.0:3333(?!.*login=)/, 60_000);
        const plain = await login('bitaxe');
        assert.equal(plain.authorized.result, true, JSON.stringify(plain.authorized));
      } finally {
        logs.stop();
      }
      // The journal and reports landed in the app's data folder.
      // The app's own stop_grace_period.
      r = await compose(['stop', 'miner']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await dockerOk(['inspect', '-f', '{{.State.ExitCode}}', container]), '0');
      await readFile(join(appData, 'data', 'solominer', 'reports', 'found-blocks.jsonl'));
    } finally {
      await compose(['down', '-v', '--remove-orphans', '-t', '30']);
    }
  });

  it('contrib/compose.yaml\'s common service starts with no address, engines or token: a pool whose logins are addresses', async () => {
    // The node's data folder as the service mounts it (its cookie under regtest/), readable by uid 1000.
    const bitcoinDir = await mkdtemp(join(scratch, 'bitcoin-'));
    await mkdir(join(bitcoinDir, 'regtest'));
    await writeFile(join(bitcoinDir, 'regtest', '.cookie'), await readFile(cookie));
    for (const d of [bitcoinDir, join(bitcoinDir, 'regtest')]) await chmod(d, 0o755);
    await chmod(join(bitcoinDir, 'regtest', '.cookie'), 0o644);
    const file = fileURLToPath(new URL('../../../contrib/compose.yaml', import.meta.url));
    const project = process.env.SOLOMINER_TEST_COMPOSE_PROJECT ?? `${PREFIX.replace(/-/g, '')}compose`;
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOLOMINER_'))),
      SOLOMINER_IMAGE: IMAGE,
      // Where the test's node is (the defaults name mainnet's node on the host); nothing else.
      SOLOMINER_NETWORK: 'regtest',
      BITCOIN_DATA_DIR: bitcoinDir,
      SOLOMINER_RPC_URL: `http://host.docker.internal:${rpcPort}`,
      SOLOMINER_RPC_COOKIE: '/bitcoin/regtest/.cookie',
      SOLOMINER_ZMQ: `tcp://host.docker.internal:${zmqPort}`,
      SOLOMINER_STRATUM_PUBLISH: '127.0.0.1:',
      SOLOMINER_STATUS_PUBLISH: '127.0.0.1:',
    };
    const compose = (args: string[]) => exec(COMPOSE, ['-f', file, '-p', project, ...args], { env, timeoutMs: 120_000 });
    try {
      const up = await compose(['up', '-d', '--no-build', 'solominer']);
      assert.equal(up.code, 0, up.stderr);
      const container = `${project}_solominer_1`;
      const logs = follow(container);
      try {
        await logs.waitFor(/Stratum pool on stratum\+tcp:\/\/0\.0\.0\.0:3333 .*login="<address>\[\.<worker>\] only/, 60_000, 'the pool line saying logins are addresses');
        const miner = await TestStratumClient.connect(await publishedPort(container, 3333));
        try {
          const replies = await miner.startLikeEspMiner(`${ADDRESS}.bitaxe`);
          assert.equal(replies[2]!.result, true, JSON.stringify(replies[2]));
          assert.equal((miner.job ?? (await miner.nextNotify())).nbits, '207fffff');
        } finally {
          await miner.close();
        }
        const probe = await docker(['exec', container, 'solominer', 'status', '--health']);
        assert.equal(probe.code, 0, probe.stdout);
      } finally {
        logs.stop();
      }
    } finally {
      await compose(['down', '-v', '--remove-orphans', '-t', '30']);
    }
  });
});
