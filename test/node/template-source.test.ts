// TemplateSource against a real regtest node: templates arrive on ZMQ; when ZMQ goes silent
// while the tip moves (seen by the periodic refresh) it says so once and longpolls until ZMQ
// delivers again. A node cannot be told to stop publishing on demand, so the silent ZMQ
// endpoint here is a real ZMQ publisher the test owns and keeps quiet; RPC is the real node's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Publisher } from 'zeromq';

import { freePorts } from '../../src/devnode/local-node.js';
import { NodeSet } from '../../src/node/nodes.js';
import { TemplateSource, type TemplateUpdate } from '../../src/node/template-source.js';
import { nextEvent, within } from '../support/events.js';
import { createWallet, newAddress, startRegtest, type LocalNode } from '../support/regtest.js';

describe('TemplateSource on a real node', { timeout: 120_000 }, () => {
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
    const nodes = new NodeSet([{ rpcUrl: node.rpcUrl, rpcCookie: node.cookiePath, zmq: node.zmqEndpoint! }], { network: 'regtest' });
    await nodes.start();
    const source = new TemplateSource({ nodes, network: 'regtest', refreshIntervalMs: 0 });
    const updates: TemplateUpdate[] = [];
    source.on('template', (u) => updates.push(u));
    try {
      await source.start();
      await within('the ZMQ connection', source.zmqConnected);
      // The subscription reaches the node right after the connection: a block mined in that
      // instant can go unannounced, so a block is mined again until one is announced.
      let viaZmq: TemplateUpdate | undefined;
      for (let attempt = 0; attempt < 5 && !viaZmq; attempt++) {
        const announced = nextEvent<[TemplateUpdate]>(source, 'template', (u) => u.reason === 'zmq', 3000).catch(() => undefined);
        const [hash] = await node.rpc.call<string[]>('generatetoaddress', 1, address);
        const got = await announced;
        if (got && got[0].template.previousblockhash === hash) viaZmq = got[0];
      }
      assert.ok(viaZmq, 'a template fetched on a ZMQ notice');
      assert.equal(updates[0]!.reason, 'initial');
      assert.ok(viaZmq.rpcMs >= 0);
    } finally {
      await source.stop();
      await nodes.stop();
    }
  });

  it('ZMQ silent while the tip moves: says so once, longpolls, and notices when ZMQ is back', async () => {
    const [port] = await freePorts(1);
    const endpoint = `tcp://127.0.0.1:${port}`;
    const quiet = new Publisher();
    await quiet.bind(endpoint);
    const nodes = new NodeSet([{ rpcUrl: node.rpcUrl, rpcCookie: node.cookiePath, zmq: endpoint }], { network: 'regtest' });
    await nodes.start();
    const source = new TemplateSource({ nodes, network: 'regtest', refreshIntervalMs: 200, zmqGraceMs: 500 });
    const updates: TemplateUpdate[] = [];
    const warnings: string[] = [];
    source.on('template', (u) => updates.push(u));
    source.on('warning', (w) => warnings.push(w));
    try {
      await source.start();
      await within('the ZMQ connection', source.zmqConnected);
      const said = nextEvent<[string]>(source, 'warning', (w) => w.includes('said nothing of block'));
      const [first] = await node.rpc.call<string[]>('generatetoaddress', 1, address);
      // The refresh sees the new tip; ZMQ says nothing of it within the grace period.
      const [warning] = await said;
      assert.ok(warning.includes(first!), warning);
      // From now on a new block arrives through longpoll.
      const longpolled = nextEvent<[TemplateUpdate]>(source, 'template', (u) => u.reason === 'longpoll');
      const [second] = await node.rpc.call<string[]>('generatetoaddress', 1, address);
      const [viaLongpoll] = await longpolled;
      assert.equal(viaLongpoll.template.previousblockhash, second);
      assert.equal(warnings.filter((w) => w.includes('said nothing')).length, 1, 'said once');
      // ZMQ speaks again: the source says so and fetches on it.
      const [third] = await node.rpc.call<string[]>('generatetoaddress', 1, address);
      const recovered = nextEvent<[string]>(source, 'warning', (w) => w.includes('is delivering again'));
      const fetched = nextEvent<[TemplateUpdate]>(source, 'template', (u) => u.reason === 'zmq' && u.template.previousblockhash === third);
      await quiet.send(['hashblock', Buffer.from(third!, 'hex'), Buffer.alloc(4)]);
      await recovered;
      await fetched;
    } finally {
      await source.stop();
      await nodes.stop();
      quiet.close();
    }
  });
});
