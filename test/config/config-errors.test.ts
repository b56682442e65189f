// Every bad value gets one line naming the field as the user spelled it and what is expected;
// the RPC password never appears in an error or in the printed summary.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { describeConfig, redactConfig } from '../../src/config/mine-config.js';
import { ADDRESS, failure, load, type Setup } from './_support.js';

const A = ['--address', ADDRESS];

describe('mine configuration: one line per bad value', { timeout: 60_000 }, () => {
  const rows: Array<[Setup, string]> = [
    [{ argv: ['--pool', 'stratum+tcp://h:3333'] }, '--pool: needs a pool user name: --user, SOLOMINER_USER or config.json user (solo pools: your address, then .worker)'],
    [{ argv: ['--pool', 'stratum+tcp://h:3333', '--user', 'a', '--rpc-url', 'http://127.0.0.1:8332'] }, '--rpc-url: conflicts with --pool: --pool mines through a pool, without a node (leave out --rpc-url, or --pool to mine from the node)'],
    [{ argv: ['--pool', 'stratum+tcp://h:3333', '--user', 'a', '--max-blocks', '1'] }, '--max-blocks: conflicts with --pool: --pool mines through a pool, without a node (leave out --max-blocks, or --pool to mine from the node)'],
    [{ argv: [...A, '--user', 'x'] }, '--user: only means something with --pool (--pool, SOLOMINER_POOL or config.json pool)'],
    [{ argv: ['--pool', 'http://h:1', '--user', 'a'] }, '--pool: expected a stratum+tcp://host:port or stratum2+tcp://host:port/<authority key> URL, got ["http://h:1"]'],
    [{ argv: ['--pool', 'stratum+tcp://h:3333', '--user', 'a b'] }, '--user: expected a pool user name without spaces or quotes, at most 128 characters, got "a b"'],
    [{ argv: [...A, '--network', 'bitcoin'] }, '--network: expected main, testnet, testnet4, signet or regtest (mainnet is main), got "bitcoin"'],
    [{ argv: A, env: { SOLOMINER_NETWORK: 'testnet3' } }, 'SOLOMINER_NETWORK: expected main, testnet, testnet4, signet or regtest (mainnet is main), got "testnet3"'],
    [{ argv: A, file: { network: 5 } }, 'config.json network: expected main, testnet, testnet4, signet or regtest (mainnet is main), got 5'],
    [{ argv: [...A, '--rpc-url', 'localhost:8332'] }, '--rpc-url: expected an http:// or https:// URL such as http://127.0.0.1:8332, got "localhost:8332"'],
    [{ argv: [...A, '--rpc-url', 'ftp://127.0.0.1:8332'] }, '--rpc-url: expected an http:// or https:// URL such as http://127.0.0.1:8332, got "ftp://127.0.0.1:8332"'],
    [{ argv: [...A, '--rpc-user', 'a:b', '--rpc-password', 'pw12'] }, "--rpc-user: expected a non-empty user name without ':', got \"a:b\""],
    [{ argv: [...A, '--rpc-cookie', ''] }, '--rpc-cookie: expected a file path, got ""'],
    [{ argv: [...A, '--zmq', 'localhost:28332'] }, '--zmq: expected a ZMQ endpoint such as tcp://127.0.0.1:28332, got "localhost:28332"'],
    [{ argv: A, env: { SOLOMINER_ZMQ: 'tcp://127.0.0.1:0' } }, 'SOLOMINER_ZMQ: expected a port 1..65535 in the ZMQ endpoint, got "tcp://127.0.0.1:0"'],
    [{ argv: ['--address', 'bc1q with space'] }, '--address: expected a payout address without spaces, got "bc1q with space"'],
    [{ argv: ['--address', ''] }, '--address: expected a payout address without spaces, got ""'],
    [{ file: { address: ['x'] } }, 'config.json address: expected a payout address without spaces, got an array'],
    [{ argv: [...A, '--coinbase-tag', 'x'.repeat(61)] }, '--coinbase-tag: expected text of at most 60 bytes in UTF-8 (the coinbase scriptSig holds 100 bytes in all), got 61 bytes'],
    [{ argv: A, env: { SOLOMINER_COINBASE_TAG: '€'.repeat(21) } }, 'SOLOMINER_COINBASE_TAG: expected text of at most 60 bytes in UTF-8 (the coinbase scriptSig holds 100 bytes in all), got 63 bytes'],
    [{ argv: [...A, '--engines', 'cpu,fpga'] }, '--engines: expected cpu, gpu or cpu,gpu (a comma-separated list), or none (a Stratum pool only), got "cpu,fpga"'],
    [{ argv: [...A, '--engines', ','] }, '--engines: expected cpu, gpu or cpu,gpu (a comma-separated list), or none (a Stratum pool only), got ","'],
    [{ argv: A, file: { engines: [] } }, 'config.json engines: expected cpu, gpu or cpu,gpu (a comma-separated list), or none (a Stratum pool only), got an array'],
    [{ argv: [...A, '--engines', 'none'] }, '--engines: none needs a Stratum pool to serve (--stratum-port, SOLOMINER_STRATUM_PORT or config.json stratumPort, or --sv2-port, SOLOMINER_SV2_PORT or config.json sv2Port): nothing would mine'],
    [{ argv: [...A, '--engines', 'cpu,none'] }, '--engines: expected cpu, gpu or cpu,gpu (a comma-separated list), or none (a Stratum pool only), got "cpu,none"'],
    [{ argv: [...A, '--threads', 'abc'] }, '--threads: expected an integer 1..1024, got "abc"'],
    [{ argv: [...A, '--threads', '0'] }, '--threads: expected an integer 1..1024, got "0"'],
    [{ argv: [...A, '--threads', '1025'] }, '--threads: expected an integer 1..1024, got "1025"'],
    [{ argv: [...A, '--threads', '2.5'] }, '--threads: expected an integer 1..1024, got "2.5"'],
    [{ argv: A, env: { SOLOMINER_THREADS: 'abc' } }, 'SOLOMINER_THREADS: expected an integer 1..1024, got "abc"'],
    [{ argv: A, file: { threads: '4' } }, 'config.json threads: expected an integer 1..1024, got "4"'],
    [{ argv: [...A, '--gpu-adapter', ''] }, '--gpu-adapter: expected an adapter index (0, 1, ...) or a non-empty name, got ""'],
    [{ argv: A, file: { gpuAdapter: -1 } }, 'config.json gpuAdapter: expected an adapter index (0, 1, ...) or a non-empty name, got -1'],
    [{ argv: [...A, '--report-dir', ''] }, '--report-dir: expected a folder path, got ""'],
    [{ argv: [...A, '--metrics-port', '65536'] }, '--metrics-port: expected a port 0..65535, got "65536"'],
    [{ argv: A, env: { SOLOMINER_METRICS_PORT: 'http' } }, 'SOLOMINER_METRICS_PORT: expected a port 0..65535, got "http"'],
    [{ argv: [...A, '--metrics-host', 'my host'] }, '--metrics-host: expected a host name or IP address such as 127.0.0.1, got "my host"'],
    [{ argv: [...A, '--journal', ''] }, '--journal: expected a file path, got ""'],
    [{ argv: [...A, '--connect-timeout=-1'] }, '--connect-timeout: expected seconds, a number 0..86400, got "-1"'],
    [{ argv: [...A, '--connect-timeout', '30s'] }, '--connect-timeout: expected seconds, a number 0..86400, got "30s"'],
    [{ argv: [...A, '--max-blocks', '0'] }, '--max-blocks: expected a positive integer, got "0"'],
    [{ argv: [...A, '--duration', '0'] }, '--duration: expected seconds, a number greater than 0, got "0"'],
    [{ argv: A, env: { SOLOMINER_SMOKE_TEST: 'maybe' } }, 'SOLOMINER_SMOKE_TEST: expected true or false (or 1/0, yes/no, on/off), got "maybe"'],
    [{ argv: A, file: { smokeNetwork: 'true' } }, 'config.json smokeNetwork: expected true or false, got "true"'],
    [{ argv: [...A, '--log-format', 'xml'] }, '--log-format: expected text or json, got "xml"'],
    [{ argv: [...A, '--refresh-interval', '0'] }, '--refresh-interval: expected seconds, a number 0.1..3600, got "0"'],
    [{ argv: A, env: { SOLOMINER_REFRESH_INTERVAL: '7200' } }, 'SOLOMINER_REFRESH_INTERVAL: expected seconds, a number 0.1..3600, got "7200"'],
    [{ argv: ['--config', ''] }, '--config: expected a file path, got ""'],
  ];
  for (const [setup, message] of rows) {
    it(message, async () => {
      assert.equal(await failure(setup), message);
    });
  }
});

describe('mine configuration: secrets', { timeout: 60_000 }, () => {
  const PASSWORD = 'S3cret-Pa55word';

  it('redacts credentials in a malformed --rpc-url', async () => {
    const m = await failure({ argv: [...A, '--rpc-url', `http://alice:${PASSWORD}@127.0.0.1:port`] });
    assert.equal(m, '--rpc-url: expected an http:// or https:// URL such as http://127.0.0.1:8332, got "http://***@127.0.0.1:port"');
  });

  it('refuses credentials inside a well-formed URL, without echoing them', async () => {
    for (const setup of [
      { argv: [...A, '--rpc-url', `http://alice:${PASSWORD}@127.0.0.1:8332`] },
      { argv: A, env: { SOLOMINER_RPC_URL: `https://alice:${PASSWORD}@node.lan/` } },
      { argv: A, file: { rpcUrl: `http://alice:${PASSWORD}@127.0.0.1:8332` } },
      { argv: [...A, '--rpc-url', `alice:${PASSWORD}@127.0.0.1:8332`] },
    ]) {
      const m = await failure(setup);
      assert.doesNotMatch(m, new RegExp(PASSWORD));
      assert.doesNotMatch(m, /alice/);
      assert.match(m, /rpc-url|RPC_URL|rpcUrl/);
      assert.match(m, /\*\*\*@/);
    }
  });

  it('never echoes a bad password value', async () => {
    assert.equal(await failure({ argv: [...A, '--rpc-user', 'alice', '--rpc-password', ''] }), '--rpc-password: expected a non-empty password');
    assert.equal(await failure({ argv: A, file: { rpcUser: 'alice', rpcPassword: 12345678 } }), 'config.json rpcPassword: expected a non-empty password');
  });

  it('never echoes the password next to another bad value', async () => {
    const setups: Setup[] = [
      { argv: [...A, '--rpc-user', 'alice', '--rpc-password', PASSWORD, '--threads', PASSWORD] },
      { argv: [...A, '--rpc-user', 'alice', '--threads', PASSWORD], env: { SOLOMINER_RPC_PASSWORD: PASSWORD } },
      { argv: [...A, '--rpc-user', 'alice', '--metrics-host', `${PASSWORD} x`], file: { rpcPassword: PASSWORD } },
      { argv: [...A, '--rpc-user', 'alice', `--rpc-password=${PASSWORD}`, 'and-more'] },
      { argv: [...A, '--rpc-user', 'alice', '--rpc-password', 'two', 'words'] },
      { argv: [...A, '--rpc-user', 'alice', '--rpc-password', PASSWORD], file: { rpcCookie: '/c' } },
      { argv: [...A, '--rpc-password', PASSWORD] },
      { argv: A, file: `{"rpcUser": "alice", "rpcPassword": "${PASSWORD}" "threads": 2}` },
      { argv: [...A, `--rpc-pasword=${PASSWORD}`] },
      { argv: [...A, '--rpc-user', 'alice', '--rpc-password', `-${PASSWORD}`] },
    ];
    for (const setup of setups) {
      const m = await failure(setup);
      assert.doesNotMatch(m, new RegExp(PASSWORD), m);
      assert.doesNotMatch(m, /words/, m);
    }
  });

  it('describeConfig prints one line with the password as ***', async () => {
    const c = await load({ argv: [...A, '--rpc-user', 'alice', '--network', 'regtest', '--coinbase-tag', 'my rig'], env: { SOLOMINER_RPC_PASSWORD: PASSWORD } });
    assert.equal(c.rpcPassword, PASSWORD);
    const line = describeConfig(c);
    assert.doesNotMatch(line, new RegExp(PASSWORD));
    assert.doesNotMatch(line, /\n/);
    assert.match(line, /^network=regtest rpcUrl=http:\/\/127\.0\.0\.1:18443 rpcUser=alice rpcPassword=\*\*\* address=\S+ coinbaseTag="my rig" engines=cpu threads=\d+ /);
    assert.equal(redactConfig(c).rpcPassword, '***');
    assert.equal(JSON.stringify(redactConfig(c)).includes(PASSWORD), false);
  });

  it('describeConfig shows the cookie path, not its contents', async () => {
    const c = await load({ argv: [...A, '--rpc-cookie', '/srv/btc/.cookie'] });
    assert.match(describeConfig(c), / rpcCookie=\/srv\/btc\/\.cookie /);
    assert.doesNotMatch(describeConfig(c), /rpcPassword/);
  });
});
