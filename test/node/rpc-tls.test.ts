// RPC over TLS: a real regtest node behind a real HTTPS reverse proxy (node:https, with the test
// certificate authority in test/fixtures/tls: throwaway keys made for these tests only). Both RPC
// paths trust a private CA given with --rpc-ca, refuse a certificate they do not trust with one
// line naming --rpc-ca, and `mine` mines a block through the proxy.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { NodeTlsError } from '../../src/node/errors.js';
import { rpcClientFor } from '../../src/node/rpc-client.js';
import { runCli } from '../support/cli.js';
import { mineArgs, scratchDir } from '../support/mining.js';
import { createWallet, newAddress, startRegtest, type LocalNode } from '../support/regtest.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/tls/', import.meta.url));
const CA = `${FIXTURES}ca.pem`;

/** An HTTPS server that forwards every request to `target` (the node's plain HTTP RPC port). */
async function tlsProxy(target: URL): Promise<{ server: Server; url: string }> {
  const server = createServer({ key: readFileSync(`${FIXTURES}server.key`), cert: readFileSync(`${FIXTURES}server.pem`) }, (req, res) => {
    const upstream = httpRequest(
      { hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('RPC over TLS', { timeout: 120_000 }, () => {
  let node: LocalNode;
  let proxy: { server: Server; url: string };
  before(async () => {
    node = await startRegtest();
    proxy = await tlsProxy(new URL(node.rpcUrl));
  });
  after(async () => {
    proxy?.server.closeAllConnections();
    proxy?.server.close();
    await node?.stop();
  });

  it('both paths trust the private CA given as rpcCa', async () => {
    const rpc = rpcClientFor({ rpcUrl: proxy.url, rpcCookie: node.cookiePath, rpcCa: CA });
    assert.equal(await rpc.call<number>('getblockcount'), await node.rpc.call<number>('getblockcount'));
    const template = await rpc.callDirect<{ height: number }>('getblocktemplate', { rules: ['segwit'] });
    assert.equal(template.height, (await node.rpc.call<number>('getblockcount')) + 1);
  });

  for (const path of ['call', 'callDirect'] as const) {
    it(`${path}: a certificate signed by an unknown CA is a NodeTlsError naming --rpc-ca`, async () => {
      const rpc = rpcClientFor({ rpcUrl: proxy.url, rpcCookie: node.cookiePath });
      await assert.rejects(rpc[path]('getblockcount'), (err: unknown) => {
        assert.ok(err instanceof NodeTlsError, String(err));
        assert.equal(err.field, 'rpc-ca');
        assert.match(err.message, /not trusted \(\w+\); give the certificate authority that signed it with --rpc-ca <file>/);
        return true;
      });
    });

    it(`${path}: https:// to a plain HTTP port is a NodeTlsError naming --rpc-url`, async () => {
      const rpc = rpcClientFor({ rpcUrl: node.rpcUrl.replace('http:', 'https:'), rpcCookie: node.cookiePath, rpcCa: CA });
      await assert.rejects(rpc[path]('getblockcount'), (err: unknown) => err instanceof NodeTlsError && err.field === 'rpc-url');
    });
  }

  it('an unreadable CA file is a NodeTlsError naming --rpc-ca', async () => {
    const rpc = rpcClientFor({ rpcUrl: proxy.url, rpcCookie: node.cookiePath, rpcCa: `${FIXTURES}missing.pem` });
    await assert.rejects(rpc.call('getblockcount'), (err: unknown) => err instanceof NodeTlsError && /cannot read the CA file .*missing\.pem \(ENOENT\)/.test(err.message));
  });

  it('mine through the proxy: refused without --rpc-ca (one line, exit 2), a block with it', async () => {
    const wallet = await createWallet(node, 'tls');
    const address = await newAddress(node, wallet);
    const dir = await scratchDir();
    const args = mineArgs(node, address, dir, ['--max-blocks', '1']).map((a) => (a === node.rpcUrl ? proxy.url : a));
    const refused = await runCli(['mine', ...args]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /^solominer mine: --rpc-ca: node at https:\/\/127\.0\.0\.1:\d+: its TLS certificate is not trusted/m);
    const height = await node.rpc.call<number>('getblockcount');
    const mined = await runCli(['mine', ...args, '--rpc-ca', CA]);
    assert.equal(mined.code, 0, mined.stderr);
    assert.equal(await node.rpc.call<number>('getblockcount'), height + 1);
  });
});
