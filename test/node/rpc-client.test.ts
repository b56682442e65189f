// RpcClient against a real regtest node, both paths: bitcoin-core's (call) and the direct one
// used for templates (callDirect). Same answers, same typed errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { NodeAuthError, NodeUnreachableError, RpcError } from '../../src/node/errors.js';
import { freePorts } from '../../src/devnode/local-node.js';
import { RpcClient } from '../../src/node/rpc-client.js';
import { startRegtest, type LocalNode } from '../support/regtest.js';

describe('RpcClient', { timeout: 300_000 }, () => {
  let node: LocalNode;
  before(async () => {
    node = await startRegtest();
  });
  after(async () => {
    await node?.stop();
  });

  it('callDirect answers as call does, for a template and for plain values', async () => {
    const request = { rules: ['segwit'] };
    const [viaLibrary, direct] = await Promise.all([
      node.rpc.call<{ height: number; previousblockhash: string; coinbasevalue: number }>('getblocktemplate', request),
      node.rpc.callDirect<{ height: number; previousblockhash: string; coinbasevalue: number }>('getblocktemplate', request),
    ]);
    assert.equal(direct.height, viaLibrary.height);
    assert.equal(direct.previousblockhash, viaLibrary.previousblockhash);
    assert.equal(direct.coinbasevalue, 5_000_000_000);
    assert.equal(await node.rpc.callDirect<number>('getblockcount'), 0);
  });

  for (const path of ['call', 'callDirect'] as const) {
    it(`${path}: a node error is an RpcError with its code`, async () => {
      await assert.rejects(node.rpc[path]('nosuchmethod'), (err: unknown) => err instanceof RpcError && err.code === -32601);
      await assert.rejects(node.rpc[path]('getblockhash', 99), (err: unknown) => err instanceof RpcError && err.code === -8);
    });

    it(`${path}: refused credentials are a NodeAuthError that does not show the password`, async () => {
      const wrong = new RpcClient({ url: node.rpcUrl, credentials: { kind: 'password', user: 'nobody', password: 'hunter2-secret' } });
      await assert.rejects(wrong[path]('getblockcount'), (err: unknown) => err instanceof NodeAuthError && !String((err as Error).message).includes('hunter2'));
    });

    it(`${path}: nobody listening is a NodeUnreachableError`, async () => {
      const [port] = await freePorts(1);
      const nowhere = new RpcClient({ url: `http://127.0.0.1:${port}`, credentials: { kind: 'password', user: 'u', password: 'p' } });
      await assert.rejects(nowhere[path]('getblockcount'), (err: unknown) => err instanceof NodeUnreachableError && /ECONNREFUSED/.test((err as Error).message));
    });
  }

  it('callDirect follows a restarted node to its new cookie', async () => {
    const client = new RpcClient({ url: node.rpcUrl, credentials: { kind: 'cookie', path: node.cookiePath } });
    const before = await client.callDirect<number>('getblockcount');
    await node.restart();
    assert.equal(await client.callDirect<number>('getblockcount'), before);
  });
});
