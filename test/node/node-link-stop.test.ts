// NodeLink.stop() against a node that hangs: a TCP server that takes the probe's connection and
// never answers, as a SIGSTOPped or wedged bitcoind does. The stop drops the probe in flight
// instead of waiting out its timeout (docker stop gives the whole process 10 s; the stop's grace
// alone is 7 s). A real bitcoind stands in for this in test/container (SIGSTOP under docker stop).
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';

import { NodeLink } from '../../src/node/node-link.js';
import { within } from '../support/events.js';

describe('NodeLink stop with a hung node', { timeout: 30_000 }, () => {
  it('drops the probe in flight at once instead of waiting for its timeout', async () => {
    const held: Socket[] = [];
    let connected!: () => void;
    const probeArrived = new Promise<void>((resolve) => (connected = resolve));
    const server = createServer((socket) => {
      held.push(socket);
      socket.on('error', () => undefined);
      connected();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    // A probe timeout far beyond the test's patience: only the stop can end the probe in time.
    const link = new NodeLink({ rpcUrl: `http://127.0.0.1:${port}`, rpcUser: 'u', rpcPassword: 'p' }, { network: 'regtest', index: 1, probeTimeoutMs: 600_000 });
    try {
      const probe = link.probeSoon();
      await within('the probe to reach the hung node', probeArrived);
      await within('stop() with a probe in flight', link.stop(), 5_000);
      await within('the probe to end with the stop', probe, 1_000);
      // Stopped: nothing judged from the dropped call.
      assert.equal(link.health.state, 'connecting');
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
