// ZMQ is declared silent only after a grace period: at full speed on regtest our own
// submitblock makes the template refresh see every new tip a few milliseconds before the
// node's ZMQ notice of it. A 20-second run must write no "said nothing of block" warning (the
// grace period), while a real silence is still reported (test/node/template-source.test.ts).
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { mineConfig, runMiner, scratchDir } from '../support/mining.js';
import { createWallet, newAddress, startRegtest, type LocalNode } from '../support/regtest.js';

async function errorLines(reportDir: string): Promise<string[]> {
  const lines: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name === 'errors.jsonl') lines.push(...(await readFile(path, 'utf8')).split('\n').filter(Boolean));
    }
  };
  await walk(reportDir);
  return lines;
}

describe('ZMQ at full speed on regtest', { timeout: 120_000 }, () => {
  let node: LocalNode;
  let address: string;
  before(async () => {
    node = await startRegtest();
    address = await newAddress(node, await createWallet(node, 'zmq'), 'bech32');
  });
  after(async () => {
    await node?.stop();
  });

  it('20 s of blocks as fast as they come: no false ZMQ silence in errors.jsonl or the log', async () => {
    const dir = await scratchDir();
    const run = await runMiner(await mineConfig(node, address, dir, ['--duration', '20']));
    // Full speed: hundreds of blocks, each a new tip seen by our own refresh first.
    assert.ok(run.stats.accepted >= 100, `${run.stats.accepted} blocks: ${run.lines.slice(-5).join('\n')}`);
    assert.ok((run.stats.templates.zmq ?? 0) > 0, 'templates came on ZMQ notices');
    const zmqWarnings = (await errorLines(join(dir, 'reports'))).filter((l) => /ZMQ/.test(l));
    assert.deepEqual(zmqWarnings, []);
    assert.deepEqual(run.lines.filter((l) => /said nothing|delivering again/.test(l)), []);
  });
});
