// Several nodes (--node, SOLOMINER_NODE, "nodes" in the config file): the same nodes whichever
// way they are written, the --rpc-* node first when --rpc-url names it, and one line per bad
// entry — duplicates, conflicting credentials, a cookie or ZMQ endpoint that belongs to no node —
// never echoing a password.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { describeConfig } from '../../src/config/mine-config.js';
import { defaultCookiePath } from '../../src/node/networks.js';
import { ADDRESS, failure, load, withCwd, type Setup } from './_support.js';
import { loadMineConfig } from '../../src/config/load-config.js';
import { writeFile } from 'node:fs/promises';

const A = ['--address', ADDRESS, '--network', 'regtest'];

describe('--node: several nodes', { timeout: 60_000 }, () => {
  it('one node stays the --rpc-* fields, as before', async () => {
    const c = await load({ argv: [...A, '--rpc-url', 'http://127.0.0.1:18443', '--zmq', 'tcp://127.0.0.1:28332'] });
    assert.equal(c.nodes.length, 1);
    assert.deepEqual([c.nodes[0]!.rpcUrl, c.nodes[0]!.zmq, c.nodes[0]!.rpcCookie], ['http://127.0.0.1:18443', 'tcp://127.0.0.1:28332', defaultCookiePath('regtest')]);
  });

  it('flag, variable and file name the same nodes; relative paths follow their source', async () => {
    await withCwd(async (cwd) => {
      const text = 'http://10.0.0.5:18443,zmq=tcp://10.0.0.5:28332,cookie=b/.cookie http://10.0.0.6:18443,user=miner,password=pw-secret-1,ca=ca.pem';
      const fromFlags = await loadMineConfig({ argv: [...A, '--node', text.split(' ')[0]!, '--node', text.split(' ')[1]!], env: {}, cwd });
      const fromEnv = await loadMineConfig({ argv: A, env: { SOLOMINER_NODE: text.replace(' ', ';') }, cwd });
      await writeFile(join(cwd, 'nodes.json'), JSON.stringify({
        nodes: [
          { rpcUrl: 'http://10.0.0.5:18443', zmq: 'tcp://10.0.0.5:28332', rpcCookie: 'b/.cookie' },
          { rpcUrl: 'http://10.0.0.6:18443', rpcUser: 'miner', rpcPassword: 'pw-secret-1', rpcCa: 'ca.pem' },
        ],
      }));
      const fromFile = await loadMineConfig({ argv: [...A, '--config', join(cwd, 'nodes.json')], env: {}, cwd });
      const expected = [
        { rpcUrl: 'http://10.0.0.5:18443', rpcCookie: join(cwd, 'b/.cookie'), zmq: 'tcp://10.0.0.5:28332' },
        { rpcUrl: 'http://10.0.0.6:18443', rpcUser: 'miner', rpcPassword: 'pw-secret-1', rpcCa: join(cwd, 'ca.pem') },
      ];
      for (const c of [fromFlags, fromEnv, fromFile]) assert.deepEqual(c.nodes, expected);
      // The rpc* fields are the first node's.
      assert.equal(fromFlags.rpcUrl, 'http://10.0.0.5:18443');
      assert.equal(fromFlags.zmq, 'tcp://10.0.0.5:28332');
      const line = describeConfig(fromFlags);
      assert.match(line, /nodes=http:\/\/10\.0\.0\.5:18443\+tcp:\/\/10\.0\.0\.5:28332,http:\/\/10\.0\.0\.6:18443/);
      assert.doesNotMatch(line, /pw-secret-1/);
    });
  });

  it('--rpc-url names the first node; an entry without a login takes --rpc-user/--rpc-password, else the default cookie', async () => {
    const shared = await load({ argv: [...A, '--rpc-url', 'http://127.0.0.1:18443', '--rpc-user', 'u', '--rpc-password', 'p4ss', '--node', 'http://127.0.0.1:18543'] });
    assert.deepEqual(shared.nodes.map((n) => [n.rpcUrl, n.rpcUser, n.rpcCookie]), [['http://127.0.0.1:18443', 'u', undefined], ['http://127.0.0.1:18543', 'u', undefined]]);
    const cookie = await load({ argv: [...A, '--node', 'http://127.0.0.1:18543'] });
    assert.deepEqual(cookie.nodes.map((n) => [n.rpcUrl, n.rpcCookie]), [['http://127.0.0.1:18543', defaultCookiePath('regtest')]]);
  });

  const rows: Array<[string, Setup, string]> = [
    ['the same node twice', { argv: [...A, '--rpc-url', 'http://127.0.0.1:18443', '--node', 'http://127.0.0.1:18443/'] }, '--node #1: names the same node as --rpc-url (http://127.0.0.1:18443/); give each node once'],
    ['the same node twice, host case and default port aside', { argv: [...A, '--node', 'http://NODE.lan', '--node', 'http://node.lan:80'] }, '--node #2: names the same node as --node #1 (http://node.lan:80); give each node once'],
    ['two nodes on one ZMQ endpoint', { argv: [...A, '--node', 'http://a:1,zmq=tcp://h:2', '--node', 'http://b:1,zmq=tcp://h:2'] }, "--node #2: zmq tcp://h:2 is also --node #1's: two nodes cannot publish on one endpoint"],
    ['cookie and user in one entry', { argv: [...A, '--node', 'http://a:1,cookie=/c,user=u,password=pw-secret-2'] }, '--node #1: conflicting credentials: cookie and user; log in with a cookie file or with a user and password, not both'],
    ['a user without a password', { env: { SOLOMINER_NODE: 'http://a:1 http://b:1,user=u' }, argv: A }, 'SOLOMINER_NODE #2: conflicting credentials: user needs password as well'],
    ['a password without a user, in the file', { argv: A, file: { nodes: [{ rpcUrl: 'http://a:1', rpcPassword: 'pw-secret-3' }] } }, 'config.json nodes #1: conflicting credentials: rpcPassword needs rpcUser as well'],
    ['an unknown item', { argv: [...A, '--node', 'http://a:1,zmqq=tcp://h:2'] }, '--node #1: unknown item "zmqq"; after the URL come zmq=, cookie=, user=, password= or ca=, comma-separated'],
    ['an unknown key in the file', { argv: A, file: { nodes: [{ rpcUrl: 'http://a:1', url: 'x' }] } }, 'config.json nodes #1 url: unknown key; a node takes rpcUrl, zmq, rpcCookie, rpcUser, rpcPassword, rpcCa'],
    ['a bad ZMQ endpoint', { argv: [...A, '--node', 'http://a:1,zmq=localhost:2'] }, '--node #1 zmq: expected a ZMQ endpoint such as tcp://127.0.0.1:28332, got "localhost:2"'],
    ['a URL with credentials, never echoed', { argv: [...A, '--node', 'http://u:pw-secret-4@a:1'] }, '--node #1 url: expected an http:// or https:// URL such as http://127.0.0.1:8332, without user:password@, got "http://***@a:1"'],
    ['a cookie for no node (no --rpc-url beside --node)', { argv: [...A, '--rpc-cookie', '/c', '--node', 'http://a:1'] }, '--rpc-cookie: with --node, it names no node: give --rpc-url, SOLOMINER_RPC_URL or config.json rpcUrl for the node it belongs to, or put it in the --node entry'],
    ['--node with --pool', { argv: ['--pool', 'stratum+tcp://h:3333', '--user', 'a', '--node', 'http://a:1'] }, '--node: conflicts with --pool: --pool mines through a pool, without a node (leave out --node, or --pool to mine from the node)'],
    ['"node" for "nodes" in the file', { argv: A, file: { node: ['http://a:1'] } }, 'config.json node: unknown key (did you mean nodes?); keys are the camelCase field names such as rpcUrl'],
  ];
  for (const [what, setup, message] of rows) {
    it(what, async () => {
      const got = await failure(setup);
      assert.equal(got, message);
      assert.doesNotMatch(got, /pw-secret/);
    });
  }
});
