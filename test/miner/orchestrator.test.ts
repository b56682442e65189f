// The orchestrator (src/miner/miner.ts) with fake engines the test drives by hand: what it
// does with stale candidates, a solved tip, a wrong hash, the last block wanted (hold) and an
// engine whose scan ended on its own; version rolling (the versions each engine gets, what a
// rolled candidate becomes, and when rolling is off, with the line that says why). Templates are synthetic but well-formed (regtest bits,
// so that about every other nonce is a block); hashes are computed with node:crypto.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';

import { addressToScript } from '../../src/bitcoin/address.js';
import type { Candidate, Engine, EngineEvents, ScanWork } from '../../src/engines/engine.js';
import { Miner, type FoundBlock, type RollingState } from '../../src/miner/miner.js';
import type { BlockTemplate } from '../../src/node/block-template.js';
import type { TemplateUpdate } from '../../src/node/template-source.js';
import { nextEvent } from '../support/events.js';

const PAYOUT = addressToScript('bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080', 'regtest').script;
const REGTEST_TARGET = '7fffff0000000000000000000000000000000000000000000000000000000000';

function template(previousblockhash = randomBytes(32).toString('hex'), height = 101): BlockTemplate {
  const now = Math.floor(Date.now() / 1000);
  return {
    version: 0x20000000,
    rules: ['csv', '!segwit', 'taproot'],
    previousblockhash,
    transactions: [],
    coinbasevalue: 5_000_000_000,
    target: REGTEST_TARGET,
    mintime: now - 600,
    curtime: now,
    bits: '207fffff',
    height,
  };
}

function update(t: BlockTemplate, reason: TemplateUpdate['reason'] = 'zmq'): TemplateUpdate {
  return { template: t, reason, requestedAt: performance.now(), rpcMs: 0 };
}

/** Display-order SHA-256d of `header` with `nonce` (and `version` in place of its own). */
function hashWith(header: Uint8Array, nonce: number, version?: number): string {
  const h = Buffer.from(header);
  if (version !== undefined) h.writeUInt32LE(version >>> 0, 0);
  h.writeUInt32LE(nonce >>> 0, 76);
  const once = createHash('sha256').update(h).digest();
  return Buffer.from(createHash('sha256').update(once).digest()).reverse().toString('hex');
}

/** An engine that does nothing by itself: the test makes it find, finish or fail. */
class FakeEngine extends EventEmitter<EngineEvents> implements Engine {
  readonly kind = 'fake';
  readonly backend = 'hand';
  readonly threads = 1;
  readonly started: ScanWork[] = [];
  work: ScanWork | undefined;
  stops = 0;

  constructor(readonly versionsPerScan = 1) {
    super();
  }

  get busy(): boolean {
    return this.work !== undefined;
  }
  start(work: ScanWork): void {
    if (this.work) throw new Error('start while busy');
    this.work = work;
    this.started.push(work);
  }
  async stop(): Promise<void> {
    const work = this.work;
    if (!work) return;
    this.stops++;
    this.work = undefined;
    this.emit('done', { workId: work.id, hashes: 0, seconds: 0, stopped: true });
  }
  async close(): Promise<void> {
    await this.stop();
  }

  /** A nonce of the current work whose hash with its version `index` meets its target (a block at regtest's target). */
  findBlock(index = 0): Candidate {
    const work = this.work!;
    const version = work.versions?.[index] ?? Buffer.from(work.header).readUInt32LE(0);
    const target = Buffer.from(work.target).toString('hex');
    for (let nonce = 0; ; nonce++) {
      const hash = hashWith(work.header, nonce, version);
      if (hash <= target) return { workId: work.id, nonce, version, hash };
    }
  }

  /** The scan ended by itself: a failure (stopped: true, not asked) or the range spent. */
  endOnItsOwn(stopped: boolean): void {
    const work = this.work!;
    this.work = undefined;
    this.emit('done', { workId: work.id, hashes: 1, seconds: 0.001, stopped });
  }
}

function harness(engines: FakeEngine[], versionRolling?: boolean) {
  const blocks: FoundBlock[] = [];
  const requests: string[] = [];
  let settle: () => void = () => {};
  let submitted: Promise<void> = Promise.resolve();
  const miner = new Miner({
    engines,
    payoutScript: PAYOUT,
    extranonce1: Uint8Array.of(1, 2, 3, 4),
    onBlock: (found) => {
      blocks.push(found);
      submitted = new Promise((resolve) => (settle = resolve));
      return submitted;
    },
    requestTemplate: (reason) => requests.push(reason),
    ...(versionRolling !== undefined && { versionRolling }),
  });
  return { miner, blocks, requests, settleSubmission: () => settle() };
}

describe('orchestrator with fake engines', { timeout: 30_000 }, () => {
  it('gives every engine disjoint work on a new template', async () => {
    const engines = [new FakeEngine(), new FakeEngine()];
    const { miner } = harness(engines);
    await miner.onTemplate(update(template(), 'initial'));
    const [a, b] = engines.map((e) => e.work!);
    assert.ok(a && b);
    assert.notDeepEqual(Buffer.from(a.header.subarray(36, 68)), Buffer.from(b.header.subarray(36, 68)), 'different merkle roots');
    await miner.stop();
  });

  it('a candidate on work of a previous tip is discarded as stale, never submitted', async () => {
    const engine = new FakeEngine();
    const { miner, blocks } = harness([engine]);
    await miner.onTemplate(update(template(), 'initial'));
    const old = engine.findBlock();
    await miner.onTemplate(update(template()));
    assert.notEqual(engine.work!.id, old.workId, 'moved to the new tip');
    const discarded = nextEvent(miner, 'discarded');
    engine.emit('candidate', old);
    const [d] = (await discarded) as [{ reason: string }];
    assert.equal(d.reason, 'stale');
    assert.equal(blocks.length, 0);
    await miner.stop();
  });

  it('a block retires its tip: a second block on the same parent is dropped as solved', async () => {
    const engines = [new FakeEngine(), new FakeEngine()];
    const { miner, blocks, requests, settleSubmission } = harness(engines);
    await miner.onTemplate(update(template(), 'initial'));
    const first = engines[0]!.findBlock();
    const second = engines[1]!.findBlock();
    engines[0]!.emit('candidate', first);
    assert.equal(blocks.length, 1);
    assert.ok(engines.every((e) => !e.busy), 'every engine stopped at once');
    const discarded = nextEvent(miner, 'discarded');
    engines[1]!.emit('candidate', second);
    assert.equal(((await discarded) as [{ reason: string }])[0].reason, 'solved');
    assert.equal(blocks.length, 1, 'never a second block on the same parent');
    // A template of the solved tip (fetched before the block reached the node) is ignored.
    const sameTip = template(blocks[0]!.job.previousBlockHash);
    await miner.onTemplate(update(sameTip, 'refresh'));
    assert.ok(engines.every((e) => !e.busy), 'no work on a solved tip');
    settleSubmission();
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(requests, ['submit'], 'a fresh template is asked for after the submission');
    await miner.stop();
  });

  it('a candidate whose hash is wrong is dropped with a warning, and mining goes on', async () => {
    const engine = new FakeEngine();
    const { miner, blocks } = harness([engine]);
    await miner.onTemplate(update(template(), 'initial'));
    const good = engine.findBlock();
    const warned = nextEvent<[string]>(miner, 'warning');
    engine.emit('candidate', { ...good, hash: 'ff'.repeat(32) });
    assert.match((await warned)[0], /reported nonce \d+ version 20000000 with hash f+, but it hashes to/);
    assert.equal(blocks.length, 0);
    assert.ok(engine.busy, 'still hashing');
    engine.emit('candidate', good);
    assert.equal(blocks.length, 1, 'the right hash still counts');
    await miner.stop();
  });

  it('hold(true) stops hashing during the last block wanted; hold(false) resumes on the current job', async () => {
    const engine = new FakeEngine();
    const { miner } = harness([engine]);
    await miner.onTemplate(update(template(), 'initial'));
    miner.hold(true);
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(engine.busy, false);
    // A template arriving while held is taken as the current job, but nobody hashes it.
    await miner.onTemplate(update(template()));
    assert.equal(engine.busy, false);
    miner.hold(false);
    assert.equal(engine.busy, true);
    assert.equal(engine.work!.id.split('/')[0], miner.currentJob!.id);
    await miner.stop();
  });

  it('an engine whose scan ended on its own gets work again after a pause; a spent range moves on at once', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const engine = new FakeEngine();
    const { miner } = harness([engine]);
    await miner.onTemplate(update(template(), 'initial'));
    const first = engine.work!.id;
    engine.endOnItsOwn(false); // the whole nonce range of this extranonce is spent
    assert.ok(engine.busy && engine.work!.id !== first, 'the next extranonce at once');
    engine.endOnItsOwn(true); // a failure, such as a lost GPU device
    assert.equal(engine.busy, false);
    t.mock.timers.tick(999);
    assert.equal(engine.busy, false, 'not before the pause');
    t.mock.timers.tick(1);
    assert.equal(engine.busy, true, 'fresh work after the pause');
    await miner.stop();
  });
});

describe('version rolling in the orchestrator', { timeout: 30_000 }, () => {
  it('gives each engine as many versions as it asks for: the job version first, the rest inside BIP320 bits', async () => {
    const engines = [new FakeEngine(8), new FakeEngine(1)];
    const { miner } = harness(engines);
    const rolling = nextEvent<[RollingState]>(miner, 'rolling');
    await miner.onTemplate(update(template(), 'initial'));
    const [state] = await rolling;
    assert.equal(state.mask, 0x1fffe000);
    assert.equal(state.reason, undefined);
    assert.deepEqual(state.engines.map((e) => e.versions), [8, 1]);
    const versions = engines[0]!.work!.versions!;
    assert.equal(versions.length, 8);
    assert.equal(versions[0], 0x20000000);
    assert.equal(new Set(versions).size, 8);
    for (const v of versions) assert.equal((v & ~0x1fffe000) >>> 0, 0x20000000, v.toString(16));
    assert.equal(engines[1]!.work!.versions, undefined, 'one version: a plain scan');
    await miner.stop();
  });

  it('a candidate on a rolled version becomes a block whose header carries that version and hashes as found', async () => {
    const engine = new FakeEngine(4);
    const { miner, blocks } = harness([engine]);
    await miner.onTemplate(update(template(), 'initial'));
    const candidate = engine.findBlock(3);
    assert.notEqual(candidate.version, 0x20000000);
    engine.emit('candidate', candidate);
    assert.equal(blocks.length, 1);
    const found = blocks[0]!;
    assert.equal(found.version, candidate.version);
    assert.equal(Buffer.from(found.block.header).readUInt32LE(0), candidate.version);
    assert.equal(Buffer.from(found.block.header).readUInt32LE(76), candidate.nonce);
    const header = Buffer.from(found.block.header);
    assert.equal(Buffer.from(createHash('sha256').update(createHash('sha256').update(header).digest()).digest()).reverse().toString('hex'), found.block.hash);
    assert.equal(found.block.hash, candidate.hash);
    assert.ok(found.block.hex.startsWith(header.toString('hex')), 'the block hex begins with the rolled header');
    await miner.stop();
  });

  it('a candidate whose version is not one of its work\'s is dropped, even with a hash that matches it', async () => {
    const engine = new FakeEngine(2);
    const { miner, blocks } = harness([engine]);
    await miner.onTemplate(update(template(), 'initial'));
    const work = engine.work!;
    const stranger = 0x20000000 | 0x10000000;
    let nonce = 0;
    while (hashWith(work.header, nonce, stranger) > Buffer.from(work.target).toString('hex')) nonce++;
    const warned = nextEvent<[string]>(miner, 'warning');
    const discarded = nextEvent<[{ reason: string }]>(miner, 'discarded');
    engine.emit('candidate', { workId: work.id, nonce, version: stranger, hash: hashWith(work.header, nonce, stranger) });
    assert.equal((await discarded)[0].reason, 'bad-hash');
    assert.match((await warned)[0], /version 30000000, which its work does not have/);
    assert.equal(blocks.length, 0);
    await miner.stop();
  });

  it('a template whose version sets bits inside the mask: one version per scan, and one line saying why', async () => {
    const engine = new FakeEngine(16);
    const { miner } = harness([engine]);
    const rolling = nextEvent<[RollingState]>(miner, 'rolling');
    await miner.onTemplate(update({ ...template(), version: 0x30000000, vbavailable: { testdummy: 28 } }, 'initial'));
    const [state] = await rolling;
    assert.equal(state.mask, 0);
    assert.match(state.reason!, /version 30000000 sets bit 28 inside BIP320's mask/);
    assert.deepEqual(state.engines.map((e) => e.versions), [1]);
    assert.equal(engine.work!.versions, undefined);
    assert.equal(Buffer.from(engine.work!.header).readUInt32LE(0), 0x30000000, 'the signalling version untouched');
    // Back to a version with free bits: rolling again, announced once.
    const again = nextEvent<[RollingState]>(miner, 'rolling');
    await miner.onTemplate(update(template()));
    assert.equal((await again)[0].mask, 0x1fffe000);
    assert.equal(engine.work!.versions!.length, 16);
    await miner.stop();
  });

  it('a deployment the node tracks inside the mask keeps its bit out of the rolled ones', async () => {
    const engine = new FakeEngine(16);
    const { miner } = harness([engine]);
    const rolling = nextEvent<[RollingState]>(miner, 'rolling');
    await miner.onTemplate(update({ ...template(), vbavailable: { future: 13 } }, 'initial'));
    const [state] = await rolling;
    assert.equal(state.mask, 0x1fffc000);
    assert.match(state.reason!, /bit 13 of BIP320's mask belongs to a deployment the node tracks/);
    for (const v of engine.work!.versions!) assert.equal(v & 0x2000, 0, v.toString(16));
    await miner.stop();
  });

  it('--no-version-rolling: every engine hashes the template version only, and the line says so', async () => {
    const engine = new FakeEngine(16);
    const { miner } = harness([engine], false);
    const rolling = nextEvent<[RollingState]>(miner, 'rolling');
    await miner.onTemplate(update(template(), 'initial'));
    const [state] = await rolling;
    assert.equal(state.mask, 0);
    assert.equal(state.reason, 'off (--no-version-rolling)');
    assert.equal(engine.work!.versions, undefined);
    await miner.stop();
  });
});
