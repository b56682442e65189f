// Version rolling (software AsicBoost) against real nodes: blocks whose headers carry rolled
// BIP320 bits are accepted by a regtest node and by a private signet node (real proof of work),
// the journal records each block's version; a template whose version signals inside the mask
// (regtest's testdummy deployment, bit 28, from height 144 until it activates) and
// --no-version-rolling both fall back to the template's version, with one line saying why; and
// a solominer pool accepts the rolled shares of a solominer worker (`mine --pool`), whose blocks
// the node accepts with their rolled versions.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { CpuEngine } from '../../src/engines/cpu-engine.js';
import { loadMineConfig } from '../../src/config/load-config.js';
import { runPoolClientService } from '../../src/miner/client-service.js';
import { within } from '../support/events.js';
import { LastVersionFirst } from '../support/gated-engine.js';
import { mineConfig, runMiner, scratchDir } from '../support/mining.js';
import { startPoolService } from '../support/pool.js';
import { createWallet, mineTo, newAddress, startPrivateSignet, startRegtest, type LocalNode } from '../support/regtest.js';

const MASK = 0x1fffe000;

interface Header {
  readonly version: number;
  readonly hash: string;
}

async function headersFrom(node: LocalNode, from: number, to: number): Promise<Header[]> {
  const out: Header[] = [];
  for (let h = from; h <= to; h++) {
    const hash = await node.rpc.call<string>('getblockhash', h);
    out.push({ hash, version: (await node.rpc.call<{ version: number }>('getblockheader', hash)).version >>> 0 });
  }
  return out;
}

/** The journal's found records: hash → version. */
async function journalVersions(dir: string): Promise<Map<string, number | undefined>> {
  const text = await readFile(join(dir, 'found-blocks.jsonl'), 'utf8');
  const found = text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; hash?: string; version?: number }).filter((r) => r.type === 'found');
  return new Map(found.map((r) => [r.hash!, r.version]));
}

describe('version rolling on regtest', { timeout: 300_000 }, () => {
  let node: LocalNode;
  let address: string;
  before(async () => {
    node = await startRegtest();
    address = await newAddress(node, await createWallet(node, 'rolling'), 'bech32');
  });
  after(async () => {
    await node?.stop();
  });

  it('blocks with rolled versions are accepted; the journal records each version; the start-up line says rolling is on', async () => {
    const dir = await scratchDir();
    const inner = new CpuEngine({ threads: 2 });
    const engine = new LastVersionFirst(inner);
    const before = await node.rpc.call<number>('getblockcount');
    const summary = await runMiner(await mineConfig(node, address, dir, ['--max-blocks', '3']), { engines: [engine] });
    assert.deepEqual(summary.stats.outcomes, { accepted: 3 }, summary.lines.join('\n'));
    const start = summary.lines.find((l) => l.startsWith('info mining regtest'));
    assert.ok(start?.includes(`"versionRolling":"on (BIP320 bits); versions per scan: cpu/${inner.backend} ${inner.versionsPerScan}"`), start);
    const headers = await headersFrom(node, before + 1, before + 3);
    const journal = await journalVersions(dir);
    for (const h of headers) {
      // LastVersionFirst hashes the last of the unit's versions first: always a rolled one.
      assert.notEqual(h.version, 0x20000000, `block ${h.hash} carries a rolled version`);
      assert.equal((h.version & ~MASK) >>> 0, 0x20000000, h.version.toString(16));
      assert.equal(journal.get(h.hash), h.version, 'the journal has the version the node has');
    }
  });

  it('--no-version-rolling: the template version only, and the start-up line says rolling is off', async () => {
    const dir = await scratchDir();
    const before = await node.rpc.call<number>('getblockcount');
    const summary = await runMiner(await mineConfig(node, address, dir, ['--max-blocks', '2', '--no-version-rolling']), { engines: [new LastVersionFirst(new CpuEngine({ threads: 2 }))] });
    assert.deepEqual(summary.stats.outcomes, { accepted: 2 }, summary.lines.join('\n'));
    assert.ok(summary.lines.find((l) => l.startsWith('info mining regtest'))?.includes('"versionRolling":"off: --no-version-rolling; one version per scan"'), summary.lines.join('\n'));
    for (const h of await headersFrom(node, before + 1, before + 2)) assert.equal(h.version, 0x20000000);
  });

  it('a template signalling inside the mask (testdummy, bit 28): its version kept, one line saying why', async () => {
    const tip = await node.rpc.call<number>('getblockcount');
    // testdummy (bit 28, start time 0) is started from the second period of 144 blocks on.
    if (tip < 150) await mineTo(node, address, 150 - tip);
    const template = await node.rpc.callDirect<{ version: number; vbavailable: Record<string, number> }>('getblocktemplate', { rules: ['segwit'] });
    assert.equal(template.version >>> 0, 0x30000000, 'the node signals testdummy in its template');
    assert.equal(template.vbavailable.testdummy, 28);
    const dir = await scratchDir();
    const before = await node.rpc.call<number>('getblockcount');
    const summary = await runMiner(await mineConfig(node, address, dir, ['--max-blocks', '2']), { engines: [new LastVersionFirst(new CpuEngine({ threads: 2 }))] });
    assert.deepEqual(summary.stats.outcomes, { accepted: 2 }, summary.lines.join('\n'));
    const why = summary.lines.filter((l) => l.startsWith('info version rolling'));
    assert.deepEqual(why, ["info version rolling off: the template's version 30000000 sets bit 28 inside BIP320's mask 1fffe000 (a deployment signals there); one version per scan"]);
    for (const h of await headersFrom(node, before + 1, before + 2)) assert.equal(h.version, 0x30000000, 'the signal is never rolled away');
  });
});

describe('version rolling on a private signet (real proof of work)', { timeout: 300_000 }, () => {
  let node: LocalNode;
  before(async () => {
    node = await startPrivateSignet();
  });
  after(async () => {
    await node?.stop();
  });

  it('blocks found among 16 versions per nonce: every one accepted, its version among the rolled ones', async () => {
    const address = await newAddress(node, await createWallet(node, 'signet'), 'bech32m');
    const engine = new CpuEngine({ threads: 2 });
    assert.ok(engine.versionsPerScan >= 2, `this CPU's back end ${engine.backend} rolls ${engine.versionsPerScan} version(s)`);
    const before = await node.rpc.call<number>('getblockcount');
    const dir = await scratchDir();
    const summary = await runMiner(await mineConfig(node, address, dir, ['--max-blocks', '6']), { engines: [engine] });
    assert.deepEqual(summary.stats.outcomes, { accepted: 6 }, summary.lines.join('\n'));
    const headers = await headersFrom(node, before + 1, before + 6);
    const journal = await journalVersions(dir);
    for (const h of headers) {
      assert.equal((h.version & ~MASK) >>> 0, 0x20000000, h.version.toString(16));
      assert.ok(((h.version & MASK) >>> 13) < engine.versionsPerScan, `version ${h.version.toString(16)} is one of the first ${engine.versionsPerScan} rolled`);
      assert.equal(journal.get(h.hash), h.version);
    }
    // Where a block is found among K versions is luck; that none of six is rolled has odds 16^-6.
    assert.ok(headers.some((h) => h.version !== 0x20000000), headers.map((h) => h.version.toString(16)).join(', '));
  });
});

describe('version rolling through a pool (mine --pool against a solominer pool on regtest)', { timeout: 300_000 }, () => {
  let node: LocalNode;
  before(async () => {
    node = await startRegtest();
  });
  after(async () => {
    await node?.stop();
  });

  it("the pool accepts the worker's rolled shares; their blocks reach the node with the rolled versions", async () => {
    const address = await newAddress(node, await createWallet(node, 'pool'), 'bech32');
    const pool = await startPoolService(node, address, ['--stratum-difficulty', '0.001']);
    const accepted: { version: number; hash: string }[] = [];
    pool.pool.on('share', (s) => accepted.push({ version: s.version, hash: s.hash }));
    const before = await node.rpc.call<number>('getblockcount');
    const stop = new AbortController();
    const dir = await scratchDir();
    const config = await loadMineConfig({ argv: ['--report-dir', dir, '--pool', `stratum+tcp://127.0.0.1:${pool.port}`, '--user', `${address}.rig`, '--threads', '1'], env: {}, cwd: dir });
    const lines: string[] = [];
    try {
      const run = runPoolClientService({
        config,
        log: (_level, msg) => lines.push(msg),
        signal: stop.signal,
        engines: [new LastVersionFirst(new CpuEngine({ threads: 1 }))],
        onStarted: ({ client }) =>
          client.on('share', () => {
            if (accepted.length >= 3) stop.abort();
          }),
      });
      const summary = await within('three accepted shares', run, 120_000);
      assert.ok(summary.sharesAccepted >= 3, lines.join('\n'));
      assert.equal(summary.sharesRejected, 0, lines.join('\n'));
    } finally {
      await pool.stop();
    }
    assert.ok(accepted.length >= 3);
    for (const s of accepted) {
      assert.notEqual(s.version, 0x20000000, 'the share was found on a rolled version');
      assert.equal((s.version & ~MASK) >>> 0, 0x20000000, s.version.toString(16));
    }
    // On regtest every share is a block: the node has them, with the versions the pool accepted.
    const tip = await node.rpc.call<number>('getblockcount');
    assert.ok(tip > before);
    const byHash = new Map(accepted.map((s) => [s.hash, s.version]));
    const headers = await headersFrom(node, before + 1, tip);
    assert.ok(headers.some((h) => byHash.get(h.hash) === h.version), 'a share the pool accepted is a block the node accepted, version and all');
    for (const h of headers) assert.notEqual(h.version, 0x20000000);
  });
});
