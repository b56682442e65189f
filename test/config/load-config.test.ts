// `mine` configuration: precedence flag > environment > file, defaults, paths, authentication,
// the config file's own failures, and the shipped config.json.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { ConfigError, loadMineConfig } from '../../src/config/load-config.js';
import { MINE_FIELDS, defaultThreads, envName, mineConfigFileSchema, mineConfigSchema, payoutAddressOptional } from '../../src/config/mine-config.js';
import { defaultCookiePath, defaultRpcUrl } from '../../src/node/networks.js';
import { ADDRESS, failure, load, withCwd } from './_support.js';

const REPO_CONFIG = fileURLToPath(new URL('../../../config.json', import.meta.url));

describe('mine configuration: precedence', { timeout: 60_000 }, () => {
  // field: [flag argv, env value, file value, expected from each]
  const rows: Array<{ key: string; flag: string[]; env: [string, string]; file: unknown; want: [unknown, unknown, unknown] }> = [
    { key: 'network', flag: ['--network', 'regtest'], env: ['SOLOMINER_NETWORK', 'signet'], file: 'testnet4', want: ['regtest', 'signet', 'testnet4'] },
    { key: 'threads', flag: ['--threads', '3'], env: ['SOLOMINER_THREADS', '5'], file: 7, want: [3, 5, 7] },
    { key: 'engines', flag: ['--engines', 'gpu'], env: ['SOLOMINER_ENGINES', 'cpu,gpu'], file: ['cpu'], want: [['gpu'], ['cpu', 'gpu'], ['cpu']] },
    { key: 'logFormat', flag: ['--log-format', 'json'], env: ['SOLOMINER_LOG_FORMAT', 'text'], file: 'json', want: ['json', 'text', 'json'] },
    { key: 'smokeTest', flag: ['--smoke-test'], env: ['SOLOMINER_SMOKE_TEST', 'no'], file: true, want: [true, false, true] },
    { key: 'noVersionRolling', flag: ['--no-version-rolling'], env: ['SOLOMINER_NO_VERSION_ROLLING', 'off'], file: true, want: [true, false, true] },
    { key: 'refreshInterval', flag: ['--refresh-interval', '2.5'], env: ['SOLOMINER_REFRESH_INTERVAL', '10'], file: 60, want: [2.5, 10, 60] },
    { key: 'gpuAdapter', flag: ['--gpu-adapter', '1'], env: ['SOLOMINER_GPU_ADAPTER', 'llvmpipe'], file: 0, want: [1, 'llvmpipe', 0] },
    { key: 'metricsPort', flag: ['--metrics-port', '9100'], env: ['SOLOMINER_METRICS_PORT', '0'], file: 9200, want: [9100, 0, 9200] },
    { key: 'address', flag: ['--address', 'flag-addr'], env: ['SOLOMINER_ADDRESS', 'env-addr'], file: 'file-addr', want: ['flag-addr', 'env-addr', 'file-addr'] },
  ];
  for (const r of rows) {
    it(`${r.key}: flag over environment over file`, async () => {
      const base = r.key === 'address' ? [] : ['--address', ADDRESS];
      const env = { [r.env[0]]: r.env[1] };
      const file = { [r.key]: r.file };
      const all = await load({ argv: [...base, ...r.flag], env, file });
      const noFlag = await load({ argv: base, env, file });
      const fileOnly = await load({ argv: base, file });
      assert.deepEqual([all, noFlag, fileOnly].map((c) => (c as Record<string, unknown>)[r.key]), r.want);
    });
  }

  it('validates only the winning value, so a flag rescues a bad variable or file value', async () => {
    const c = await load({ argv: ['--address', ADDRESS, '--threads', '2'], env: { SOLOMINER_THREADS: 'lots' }, file: { threads: 'many' } });
    assert.equal(c.threads, 2);
  });

  it('treats an empty variable and a null file value as unset', async () => {
    const c = await load({ argv: ['--address', ADDRESS], env: { SOLOMINER_NETWORK: '', SOLOMINER_THREADS: '' }, file: { network: 'signet', zmq: null } });
    assert.equal(c.network, 'signet');
    assert.equal(c.threads, defaultThreads());
    assert.equal(c.zmq, undefined);
  });

  it('derives network defaults from the winning network', async () => {
    const c = await load({ argv: ['--address', ADDRESS], env: { SOLOMINER_NETWORK: 'regtest' }, file: { network: 'main' } });
    assert.equal(c.rpcUrl, 'http://127.0.0.1:18443');
    assert.equal(c.rpcCookie, defaultCookiePath('regtest'));
  });

  it('names every environment variable SOLOMINER_ + the flag', () => {
    assert.equal(envName('rpc-url'), 'SOLOMINER_RPC_URL');
    for (const f of MINE_FIELDS) assert.equal(f.env, `SOLOMINER_${f.flag.toUpperCase().replaceAll('-', '_')}`);
    assert.ok(MINE_FIELDS.some((f) => f.flag === 'refresh-interval'));
  });
});

describe('mine configuration: defaults', { timeout: 60_000 }, () => {
  it('fills every default with only an address given', async () => {
    await withCwd(async (cwd) => {
      const c = await loadMineConfig({ argv: ['--address', ADDRESS], env: {}, cwd });
      assert.deepEqual(c, {
        network: 'main',
        rpcUrl: defaultRpcUrl('main'),
        rpcUser: undefined,
        rpcPassword: undefined,
        rpcCa: undefined,
        rpcCookie: defaultCookiePath('main'),
        zmq: undefined,
        address: ADDRESS,
        coinbaseTag: '/solominer/',
        engines: ['cpu'],
        threads: defaultThreads(),
        gpuAdapter: undefined,
        reportDir: join(cwd, 'reports'),
        metricsPort: undefined,
        metricsHost: '127.0.0.1',
        statusToken: undefined,
        journal: join(cwd, 'reports', 'found-blocks.jsonl'),
        connectTimeout: 30,
        maxBlocks: undefined,
        duration: undefined,
        smokeTest: false,
        smokeNetwork: false,
        noVersionRolling: false,
        logFormat: 'text',
        logLevel: 'info',
        stratumPort: undefined,
        stratumHost: '127.0.0.1',
        stratumAddresses: undefined,
        stratumPassword: undefined,
        stratumDifficulty: 1,
        stratumShareSeconds: 10,
        stratumMaxConnections: 10_000,
        stratumMaxPerAddress: 1000,
        sv2Port: undefined,
        sv2Host: '127.0.0.1',
        pool: undefined,
        user: undefined,
        pass: 'x',
        suggestDifficulty: undefined,
        refreshInterval: 30,
        propagationAlarm: 120,
        notify: [],
        onBlock: undefined,
        cpuBackend: undefined,
        reserveCores: undefined,
        cpuAffinity: undefined,
        cpuPriority: undefined,
        cpuLimit: undefined,
        gpuTuning: undefined,
        maxTemp: undefined,
        resumeTemp: undefined,
        pidFile: undefined,
        // One node: the --rpc-* fields' (rpcUrl and the rest above are the first node's).
        nodes: [{ rpcUrl: defaultRpcUrl('main'), rpcUser: undefined, rpcPassword: undefined, rpcCookie: defaultCookiePath('main'), rpcCa: undefined, zmq: undefined }],
      });
      assert.equal(mineConfigSchema.safeParse(c).success, true);
    });
  });

  for (const network of ['main', 'testnet', 'testnet4', 'signet', 'regtest'] as const) {
    it(`uses Bitcoin Core's RPC port and cookie for ${network}`, async () => {
      const c = await load({ argv: ['--address', ADDRESS, '--network', network] });
      assert.equal(c.rpcUrl, defaultRpcUrl(network));
      assert.equal(c.rpcCookie, defaultCookiePath(network));
    });
  }

  it('puts the journal in the chosen report folder unless named', async () => {
    await withCwd(async (cwd) => {
      const c = await loadMineConfig({ argv: ['--address', ADDRESS, '--report-dir', 'out'], env: {}, cwd });
      assert.equal(c.reportDir, join(cwd, 'out'));
      assert.equal(c.journal, join(cwd, 'out', 'found-blocks.jsonl'));
      const d = await loadMineConfig({ argv: ['--address', ADDRESS, '--report-dir', 'out', '--journal', '/var/j.jsonl'], env: {}, cwd });
      assert.equal(d.journal, '/var/j.jsonl');
    });
  });

  it('takes file paths relative to the file, other paths relative to the working folder, ~ as home', async () => {
    await withCwd(async (cwd) => {
      await mkdir(join(cwd, 'etc'));
      await writeFile(join(cwd, 'etc', 'miner.json'), JSON.stringify({ reportDir: 'r', rpcCookie: '~/c/.cookie' }));
      const c = await loadMineConfig({ argv: ['--address', ADDRESS, '--config', 'etc/miner.json'], env: { SOLOMINER_JOURNAL: 'j.jsonl' }, cwd });
      assert.equal(c.reportDir, join(cwd, 'etc', 'r'));
      assert.equal(c.journal, join(cwd, 'j.jsonl'));
      assert.equal(c.rpcCookie, join(homedir(), 'c', '.cookie'));
    });
  });

  it('accepts the flag forms: --name=value, switches, duplicates (last wins), deduplicated engines', async () => {
    const c = await load({ argv: [`--address=${ADDRESS}`, '--threads', '1', '--threads=4', '--engines', 'cpu, gpu,cpu', '--smoke-network', '--max-blocks', '3', '--duration', '0.5'] });
    assert.equal(c.threads, 4);
    assert.deepEqual(c.engines, ['cpu', 'gpu']);
    assert.equal(c.smokeNetwork, true);
    assert.equal(c.maxBlocks, 3);
    assert.equal(c.duration, 0.5);
  });

  it('accepts an empty coinbase tag and a 60-byte one', async () => {
    assert.equal((await load({ argv: ['--address', ADDRESS, '--coinbase-tag', ''] })).coinbaseTag, '');
    const tag = 'é'.repeat(30); // 60 bytes in UTF-8
    assert.equal((await load({ argv: ['--address', ADDRESS, '--coinbase-tag', tag] })).coinbaseTag, tag);
  });
});

describe('mine configuration: authentication', { timeout: 60_000 }, () => {
  it('uses user and password instead of the default cookie', async () => {
    const c = await load({ argv: ['--address', ADDRESS, '--rpc-user', 'alice'], env: { SOLOMINER_RPC_PASSWORD: 'pw-from-env' } });
    assert.equal(c.rpcUser, 'alice');
    assert.equal(c.rpcPassword, 'pw-from-env');
    assert.equal(c.rpcCookie, undefined);
  });

  it('uses an explicit cookie file', async () => {
    const c = await load({ argv: ['--address', ADDRESS, '--rpc-cookie', '/srv/btc/.cookie'] });
    assert.equal(c.rpcCookie, '/srv/btc/.cookie');
    assert.equal(c.rpcUser, undefined);
  });

  it('refuses a cookie and a user/password given together, from any sources', async () => {
    assert.equal(
      await failure({ argv: ['--address', ADDRESS, '--rpc-user', 'alice', '--rpc-password', 'hunter22'], file: { rpcCookie: '/c' } }),
      'config.json rpcCookie: conflicts with --rpc-user: log in with a cookie file or with a user and password, not both',
    );
  });

  it('refuses half a user/password pair', async () => {
    assert.equal(
      await failure({ argv: ['--address', ADDRESS], env: { SOLOMINER_RPC_USER: 'alice' } }),
      'SOLOMINER_RPC_USER: needs a password as well (--rpc-password, SOLOMINER_RPC_PASSWORD or config.json rpcPassword)',
    );
    const m = await failure({ argv: ['--address', ADDRESS], file: { rpcPassword: 'hunter22' } });
    assert.equal(m, 'config.json rpcPassword: needs a user as well (--rpc-user, SOLOMINER_RPC_USER or config.json rpcUser)');
  });
});

describe('mine configuration: the config file', { timeout: 60_000 }, () => {
  it('may be absent when not named', async () => {
    assert.equal((await load({ argv: ['--address', ADDRESS] })).network, 'main');
  });

  it('must exist when named by --config or SOLOMINER_CONFIG', async () => {
    assert.equal(await failure({ argv: ['--address', ADDRESS, '--config', 'missing.json'] }), '--config: file not found: missing.json');
    assert.equal(await failure({ argv: ['--address', ADDRESS], env: { SOLOMINER_CONFIG: 'gone.json' } }), 'SOLOMINER_CONFIG: file not found: gone.json');
  });

  it('prefers --config over SOLOMINER_CONFIG over ./config.json', async () => {
    await withCwd(async (cwd) => {
      await writeFile(join(cwd, 'config.json'), '{"network": "testnet"}');
      await writeFile(join(cwd, 'a.json'), '{"network": "signet"}');
      await writeFile(join(cwd, 'b.json'), '{"network": "regtest"}');
      const net = async (argv: string[], env: NodeJS.ProcessEnv) => (await loadMineConfig({ argv: ['--address', ADDRESS, ...argv], env, cwd })).network;
      assert.equal(await net([], {}), 'testnet');
      assert.equal(await net([], { SOLOMINER_CONFIG: 'a.json' }), 'signet');
      assert.equal(await net(['--config', 'b.json'], { SOLOMINER_CONFIG: 'a.json' }), 'regtest');
    });
  });

  it('names the file, line and column of invalid JSON without quoting it', async () => {
    assert.equal(
      await failure({ file: '{\n  "network": "main",\n  "threads": ,\n}' }),
      'config.json: not valid JSON at line 3 column 14: expected a value (object, array, string, number, true, false or null)',
    );
    assert.equal(await failure({ file: '{"network": "main",}' }), 'config.json: not valid JSON at line 1 column 20: expected a double-quoted property name');
    assert.equal(await failure({ file: '{"network": "main"' }), "config.json: not valid JSON at line 1 column 19: expected ',' or '}' after the property value, found the end of the file");
    assert.equal(await failure({ file: '' }), 'config.json: not valid JSON at line 1 column 1: expected a value (object, array, string, number, true, false or null), found the end of the file');
    const m = await failure({ file: '{"rpcUser": "alice", "rpcPassword": "hunter22" "network": "main"}' });
    assert.equal(m, "config.json: not valid JSON at line 1 column 48: expected ',' or '}' after the property value");
  });

  it('uses the name given with --config in messages', async () => {
    await withCwd(async (cwd) => {
      await writeFile(join(cwd, 'm.json'), '[1]');
      await assert.rejects(loadMineConfig({ argv: ['--config', 'm.json'], env: {}, cwd }), {
        name: 'ConfigError',
        message: 'm.json: expected a JSON object such as {"network": "main"}, got an array',
      });
      await writeFile(join(cwd, 'm.json'), '{"threads": 0}');
      await assert.rejects(loadMineConfig({ argv: ['--config', 'm.json', '--address', ADDRESS], env: {}, cwd }), {
        message: 'm.json threads: expected an integer 1..1024, got 0',
      });
    });
  });

  it('refuses unknown keys, suggesting the camelCase name', async () => {
    assert.equal(
      await failure({ argv: ['--address', ADDRESS], file: { 'rpc-url': 'http://127.0.0.1:8332' } }),
      'config.json rpc-url: unknown key (did you mean rpcUrl?); keys are the camelCase field names such as rpcUrl',
    );
    assert.match(await failure({ argv: ['--address', ADDRESS], file: { frobnicate: 1 } }), /^config\.json frobnicate: unknown key; keys are/);
  });

  it('reports a folder given as the config file', async () => {
    await withCwd(async (cwd) => {
      await assert.rejects(loadMineConfig({ argv: ['--config', '.'], env: {}, cwd }), { message: '--config: expected a JSON file, got a folder: .' });
    });
  });

  it('ships a valid, secret-free config.json with the documented defaults', async () => {
    const { readFile } = await import('node:fs/promises');
    const raw = JSON.parse(await readFile(REPO_CONFIG, 'utf8')) as Record<string, unknown>;
    assert.equal(mineConfigFileSchema.safeParse(raw).success, true);
    for (const k of ['rpcUser', 'rpcPassword', 'rpcCookie', 'address']) assert.equal(k in raw, false, `config.json must not set ${k}`);
    await loadMineConfig({ argv: ['--address', ADDRESS, '--config', REPO_CONFIG], env: {}, cwd: '/' }).then((c) => {
      assert.equal(c.network, 'main');
      assert.equal(c.metricsHost, '127.0.0.1');
      assert.deepEqual(c.engines, ['cpu']);
    });
  });
});

describe('mine configuration: the command line', { timeout: 60_000 }, () => {
  it('refuses unknown flags with a suggestion', async () => {
    assert.equal(await failure({ argv: ['--address', ADDRESS, '--frob', '1'] }), '--frob: unknown flag; mine --help lists the flags');
    assert.equal(await failure({ argv: ['--address', ADDRESS, '--rpc_url=x'] }), '--rpc_url: unknown flag (did you mean --rpc-url?); mine --help lists the flags');
  });

  it('refuses values for switches, missing values and positional arguments', async () => {
    assert.equal(await failure({ argv: ['--smoke-test=yes'] }), '--smoke-test: takes no value (it is a switch)');
    assert.equal(await failure({ argv: ['--threads'] }), '--threads: expected an integer 1..1024, got nothing');
    assert.equal(await failure({ argv: ['--network', '--threads', '2'] }), "--network: expected main, testnet, testnet4, signet or regtest (mainnet is main), got an argument starting with '-' (write --network=<value> if that is the value)");
    assert.equal(await failure({ argv: ['--connect-timeout', '-1'] }), "--connect-timeout: expected seconds, a number 0..86400, got an argument starting with '-' (write --connect-timeout=<value> if that is the value)");
    assert.equal(await failure({ argv: ['--threads', '2', 'now'] }), 'mine: unexpected argument "now"; mine takes only flags (--name value)');
  });

  it('requires an address, except for a pool whose logins pay themselves (--engines none, a Stratum port, no --pool, no smoke test)', async () => {
    const required = '--address: required: the payout address (or SOLOMINER_ADDRESS, or config.json address)';
    assert.equal(await failure({}), required);
    // Nothing would be paid to the operator: optional, from flags, variables or the file alike.
    for (const setup of [
      { argv: ['--engines', 'none', '--stratum-port', '3333'] },
      { argv: ['--engines', 'none', '--sv2-port', '3336'] },
      { env: { SOLOMINER_ENGINES: 'none', SOLOMINER_STRATUM_PORT: '3333', SOLOMINER_SV2_PORT: '3336', SOLOMINER_SMOKE_TEST: 'no' } },
      { file: { engines: 'none', stratumPort: 3333 } },
    ]) {
      const c = await load(setup);
      assert.equal(c.address, undefined, JSON.stringify(setup));
      assert.deepEqual(c.engines, []);
      assert.equal(payoutAddressOptional(c), true);
    }
    // check's view of it: no placeholder, since nothing is missing.
    const checked = await withCwd((cwd) => loadMineConfig({ argv: ['--engines', 'none', '--stratum-port', '3333'], env: {}, cwd, allowMissingAddress: true }));
    assert.equal(checked.address, undefined);
    // Everything else still needs one: engines that hash, a smoke test that builds a block for it.
    for (const argv of [
      ['--stratum-port', '3333'],
      ['--engines', 'cpu', '--stratum-port', '3333', '--sv2-port', '3336'],
      ['--engines', 'none', '--stratum-port', '3333', '--smoke-test'],
      ['--engines', 'none', '--sv2-port', '3336', '--smoke-network'],
    ]) {
      assert.equal(await failure({ argv }), required, argv.join(' '));
    }
    // An address given is kept and checked as before.
    assert.equal((await load({ argv: ['--engines', 'none', '--stratum-port', '3333', '--address', ADDRESS] })).address, ADDRESS);
  });

  it('throws ConfigError instances', async () => {
    await assert.rejects(load({ argv: ['--nope'] }), (err: unknown) => err instanceof ConfigError && err.field === '--nope');
  });
});
