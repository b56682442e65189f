// TemplateSource against a real regtest node: templates arrive on ZMQ; when ZMQ goes silent
// while the tip moves (seen by the periodic refresh) it says so once and longpolls until ZMQ
// delivers again. A node cannot be told to stop publishing on demand, so the silent ZMQ
// endpoint here is a real ZMQ publisher the test owns and keeps quiet; RPC is the real node's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Publisher } from 'zeromq';

import { freePorts } from '../../src/devnode/local-node.js';
import { TemplateSource, type TemplateUpdate } from '../../src/node/template-source.js';
import { createWallet, newAddress, startRegtest, type LocalNode } from '../support/regtest.js';

function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const value = probe();
      if (value !== undefined) {
        clearInterval(timer);
        resolve(value);
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 10);
  });
}

describe('TemplateSource on a real node', () => {
  let node: LocalNode;
  let address: string;
  before(async () => {
    node = await startRegtest();
    address = await newAddress(node, await createWallet(node, 'w'), 'bech32');
  });
  after(async () => {
    await node?.stop();
  });

  it('fetches a template the moment ZMQ announces a block', async () => {
    const source = new TemplateSource({ rpc: node.rpc, network: 'regtest', zmqEndpoint: node.zmqEndpoint!, refreshIntervalMs: 0 });
    const updates: TemplateUpdate[] = [];
    source.on('template', (u) => updates.push(u));
    try {
      await source.start();
      await new Promise((r) => setTimeout(r, 300)); // let the subscription connect
      const [hash] = await node.rpc.call<string[]>('generatetoaddress', 1, address);
      const viaZmq = await waitFor('a zmq template', () => updates.find((u) => u.reason === 'zmq' && u.template.previousblockhash === hash));
      assert.equal(updates[0]!.reason, 'initial');
      assert.ok(viaZmq.rpcMs >= 0);
    } finally {
      await source.stop();
    }
  });

  it('ZMQ silent while the tip moves: says so once, longpolls, and notices when ZMQ is back', async () => {
    const [port] = await freePorts(1);
    const endpoint = `tcp://127.0.0.1:${port}`;
    const quiet = new Publisher();
    await quiet.bind(endpoint);
    const source = new TemplateSource({ rpc: node.rpc, network: 'regtest', zmqEndpoint: endpoint, refreshIntervalMs: 200 });
    const updates: TemplateUpdate[] = [];
    const warnings: string[] = [];
    source.on('template', (u) => updates.push(u));
    source.on('warning', (w) => warnings.push(w));
    try {
      await source.start();
      await new Promise((r) => setTimeout(r, 300));
      const [first] = await node.rpc.call<string[]>('generatetoaddress', 1, address);
      // The refresh sees the new tip; ZMQ said nothing of it.
      await waitFor('the silence warning', () => warnings.find((w) => w.includes('said nothing of block') && w.includes(first!)));
      // From now on a new block arrives through longpoll.
      const [second] = await node.rpc.call<string[]>('generatetoaddress', 1, address);
      await waitFor('a longpoll template', () => updates.find((u) => u.reason === 'longpoll' && u.template.previousblockhash === second));
      assert.equal(warnings.filter((w) => w.includes('said nothing')).length, 1, 'said once');
      // ZMQ speaks again: the source says so and fetches on it.
      const [third] = await node.rpc.call<string[]>('generatetoaddress', 1, address);
      const seq = Buffer.alloc(4);
      await quiet.send(['hashblock', Buffer.from(third!, 'hex'), seq]);
      await waitFor('the recovery notice', () => warnings.find((w) => w.includes('is delivering again')));
      await waitFor('a zmq template', () => updates.find((u) => u.reason === 'zmq' && u.template.previousblockhash === third));
    } finally {
      await source.stop();
      quiet.close();
    }
  });
});
