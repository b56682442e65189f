// BlockSubmitter against a real journal file and a fake node. The fake is deliberate: a real
// node cannot be made to drop connections, refuse credentials or give each submitblock answer
// on demand; the RPC client and the real-node cycle are covered by the integration tests.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { NodeAuthError, NodeUnreachableError, RpcError } from '../../src/node/errors.js';
import { BlockSubmitter, type BlockSubmitterDeps, type LogLevel } from '../../src/submit/block-submitter.js';
import { FoundBlockJournal, type FoundBlockRecord, type JournalRecord } from '../../src/submit/found-block-journal.js';
import { sampleFound, spyOnFsync, tempDir } from '../support/files.js';

interface Harness {
  journal: FoundBlockJournal;
  path: string;
  submitted: string[];
  sleeps: number[];
  logs: { level: LogLevel; msg: string; fields?: Readonly<Record<string, unknown>> }[];
  make(overrides: Partial<BlockSubmitterDeps>): BlockSubmitter;
  records(): Promise<JournalRecord[]>;
}

async function withHarness(fn: (h: Harness) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir();
  const path = join(dir, 'found-blocks.jsonl');
  const journal = await FoundBlockJournal.open(path);
  const h: Harness = {
    journal,
    path,
    submitted: [],
    sleeps: [],
    logs: [],
    make: (overrides) =>
      new BlockSubmitter({
        journal,
        submitBlock: async (hex) => {
          h.submitted.push(hex);
          return null;
        },
        blockInActiveChain: async () => true,
        log: (level, msg, fields) => h.logs.push({ level, msg, ...(fields ? { fields } : {}) }),
        sleep: async (ms) => {
          h.sleeps.push(ms);
        },
        random: () => 1, // no jitter: delays are exactly the backoff steps
        ...overrides,
      }),
    records: async () => (await journal.scan()).records,
  };
  try {
    await fn(h);
  } finally {
    await journal.close();
    await cleanup();
  }
}

const outcomesOf = async (h: Harness, hash: string): Promise<string[]> =>
  (await h.records()).flatMap((r) => (r.type === 'outcome' && r.hash === hash ? [r.outcome] : []));

describe('BlockSubmitter.submit', { timeout: 60_000 }, () => {
  it('the found line is on disk and fsynced before submitblock is called', async () => {
    await withHarness(async (h) => {
      const events: string[] = [];
      const spy = await spyOnFsync(join(h.path, '..', 'probe'), events);
      try {
        const found = sampleFound();
        let seenOnDisk = false;
        const submitter = h.make({
          submitBlock: async (hex) => {
            events.push('submitblock');
            const text = await readFile(h.path, 'utf8');
            seenOnDisk = text.split('\n').some((l) => l.includes(`"hash":"${found.hash}"`) && l.includes(hex));
            return null;
          },
        });
        const result = await submitter.submit(found);
        assert.ok(seenOnDisk, 'found line with the block hex was in the file when submitblock ran');
        assert.deepEqual(events.slice(0, 2), ['fsync:file', 'submitblock']);
        assert.equal(result.outcome, 'accepted');
        assert.equal(result.attempts, 1);
        assert.equal(result.journaled, true);
        assert.ok(result.submitMs >= 0);
        assert.deepEqual(await outcomesOf(h, found.hash), ['accepted']);
        assert.deepEqual(await h.journal.pending(), []);
      } finally {
        spy.restore();
      }
    });
  });

  it('submitMs covers the journal write', async () => {
    await withHarness(async (h) => {
      const slowJournal: BlockSubmitterDeps['journal'] = {
        appendFound: async (r) => {
          await new Promise((resolve) => setTimeout(resolve, 60));
          await h.journal.appendFound(r);
        },
        append: (...r) => h.journal.append(...r),
        pending: () => h.journal.pending(),
      };
      const result = await h.make({ journal: slowJournal }).submit(sampleFound());
      // A lower bound from the injected delay, not a speed claim (speed lives in benchmarks).
      assert.ok(result.submitMs >= 50, `submitMs ${result.submitMs}`);
    });
  });

  describe('classifies each submitblock answer', () => {
    const cases: { answer: string | null; active: boolean | 'unknown'; outcome: string; reason?: string }[] = [
      { answer: null, active: true, outcome: 'accepted' },
      { answer: null, active: false, outcome: 'inconclusive', reason: 'accepted by submitblock but not in the active chain' },
      { answer: null, active: 'unknown', outcome: 'inconclusive', reason: 'active chain could not be checked' },
      { answer: 'duplicate', active: false, outcome: 'duplicate', reason: 'duplicate' },
      // Only we can have sent a block whose coinbase pays us: a lost answer to an earlier try.
      { answer: 'duplicate', active: true, outcome: 'accepted', reason: 'duplicate' },
      { answer: 'inconclusive', active: false, outcome: 'inconclusive', reason: 'inconclusive' },
      { answer: 'duplicate-inconclusive', active: false, outcome: 'inconclusive', reason: 'duplicate-inconclusive' },
      { answer: 'duplicate-invalid', active: false, outcome: 'rejected', reason: 'duplicate-invalid' },
      { answer: 'high-hash', active: false, outcome: 'rejected', reason: 'high-hash' },
      { answer: 'bad-txnmrklroot', active: false, outcome: 'rejected', reason: 'bad-txnmrklroot' },
      { answer: 'bad-cb-amount', active: false, outcome: 'rejected', reason: 'bad-cb-amount' },
      // Not a verdict on the block: the node lacks its parent (with none to hand back, it waits).
      { answer: 'prev-blk-not-found', active: false, outcome: 'inconclusive', reason: 'prev-blk-not-found: the node lacks its parent' },
    ];
    for (const c of cases) {
      it(`${String(c.answer)} (in active chain: ${String(c.active)}) → ${c.outcome}`, async () => {
        await withHarness(async (h) => {
          const found = sampleFound();
          const submitter = h.make({ submitBlock: async () => c.answer, blockInActiveChain: async () => c.active });
          const result = await submitter.submit(found);
          assert.equal(result.outcome, c.outcome);
          assert.equal(result.reason, c.reason);
          assert.equal(result.attempts, 1);
          assert.deepEqual(await outcomesOf(h, found.hash), [c.outcome]);
          const stillPending = (await h.journal.pending()).some((r) => r.hash === found.hash);
          assert.equal(stillPending, c.outcome === 'inconclusive');
          const logged = h.logs.find((l) => l.fields?.outcome === c.outcome);
          assert.ok(logged, 'outcome logged');
          assert.equal(logged.level, c.outcome === 'accepted' ? 'info' : c.outcome === 'rejected' ? 'error' : 'warn');
        });
      });
    }

    it('a failing active-chain check after an accepted answer is inconclusive, not a crash', async () => {
      await withHarness(async (h) => {
        const submitter = h.make({
          blockInActiveChain: async () => {
            throw new NodeUnreachableError('http://127.0.0.1:18443', 'ECONNRESET');
          },
        });
        const result = await submitter.submit(sampleFound());
        assert.equal(result.outcome, 'inconclusive');
      });
    });
  });

  it('retries with exponential backoff while the node is unreachable, then classifies', async () => {
    await withHarness(async (h) => {
      let calls = 0;
      const submitter = h.make({
        retry: { initialDelayMs: 100, maxDelayMs: 1000 },
        submitBlock: async () => {
          calls++;
          if (calls <= 6) throw new NodeUnreachableError('http://127.0.0.1:18443', 'ECONNREFUSED');
          return null;
        },
      });
      const found = sampleFound();
      const result = await submitter.submit(found);
      assert.equal(result.outcome, 'accepted');
      assert.equal(result.attempts, 7);
      assert.deepEqual(h.sleeps, [100, 200, 400, 800, 1000, 1000]);
      assert.equal(h.logs.filter((l) => l.msg.startsWith('submitblock failed')).length, 6);
      assert.deepEqual(await outcomesOf(h, found.hash), ['accepted']);
    });
  });

  it('jitter keeps each delay within [half, full] of its step', async () => {
    await withHarness(async (h) => {
      let calls = 0;
      let r = 0;
      const submitter = h.make({
        random: () => [0, 0.5, 0.999][r++ % 3]!,
        submitBlock: async () => {
          if (++calls <= 3) throw new NodeUnreachableError('http://x', 'timeout');
          return null;
        },
      });
      await submitter.submit(sampleFound());
      assert.deepEqual(h.sleeps, [50, 150, 400]);
    });
  });

  it('gives up after maxAttempts as unconfirmed; the block stays pending for replay', async () => {
    await withHarness(async (h) => {
      const submitter = h.make({
        retry: { maxAttempts: 4 },
        submitBlock: async () => {
          throw new NodeUnreachableError('http://127.0.0.1:18443', 'ETIMEDOUT');
        },
      });
      const found = sampleFound();
      const result = await submitter.submit(found);
      assert.equal(result.outcome, 'unconfirmed');
      assert.equal(result.attempts, 4);
      assert.match(result.reason ?? '', /unreachable/);
      assert.deepEqual((await h.journal.pending()).map((r) => r.hash), [found.hash]);
    });
  });

  it('refused credentials are retried a bounded number of times, then unconfirmed and pending', async () => {
    await withHarness(async (h) => {
      let calls = 0;
      const submitter = h.make({
        retry: { boundedAttempts: 3 },
        submitBlock: async () => {
          // Past the bound, answer: an unbounded retry then shows up as 'accepted', not as a hang.
          if (++calls > 10) return null;
          throw new NodeAuthError('http://127.0.0.1:18443', 'HTTP 401');
        },
      });
      const found = sampleFound();
      const result = await submitter.submit(found);
      assert.equal(calls, 3);
      assert.equal(result.outcome, 'unconfirmed');
      assert.match(result.reason ?? '', /refused the RPC credentials/);
      assert.deepEqual((await h.journal.pending()).map((r) => r.hash), [found.hash]);
    });
  });

  it('RPC errors: decode failure is a rejection, warm-up is retried, others bounded', async () => {
    await withHarness(async (h) => {
      const decode = await h
        .make({
          submitBlock: async () => {
            throw new RpcError('submitblock', -22, 'Block decode failed');
          },
        })
        .submit(sampleFound());
      assert.equal(decode.outcome, 'rejected');
      assert.equal(decode.attempts, 1);
      assert.match(decode.reason ?? '', /Block decode failed/);

      let warm = 0;
      const warmup = await h
        .make({
          submitBlock: async () => {
            if (++warm <= 5) throw new RpcError('submitblock', -28, 'Loading block index...');
            return null;
          },
        })
        .submit(sampleFound());
      assert.equal(warmup.outcome, 'accepted');
      assert.equal(warmup.attempts, 6);

      let odd = 0;
      const misc = await h
        .make({
          submitBlock: async () => {
            if (++odd > 10) return null; // an unbounded retry fails the test instead of hanging it
            throw new RpcError('submitblock', -1, 'something odd');
          },
        })
        .submit(sampleFound());
      assert.equal(misc.outcome, 'unconfirmed');
      assert.equal(misc.attempts, 3);
    });
  });

  it("the node failing to store the block (-25, a full disk) is no verdict: kept, retried, said once", async () => {
    // A node's disk cannot be filled on demand here: the answer Bitcoin Core gives then
    // (BIP22ValidationResult on state.IsError()) is injected by the fake.
    await withHarness(async (h) => {
      let calls = 0;
      const faults: string[] = [];
      const found = sampleFound();
      const result = await h
        .make({
          submitBlock: async () => {
            if (++calls <= 4) throw new RpcError('submitblock', -25, 'AcceptBlock: Failed to find position to write new block to disk');
            return null;
          },
          onNodeFault: (f, node, message) => faults.push(`${f.hash} ${node} ${message}`),
        })
        .submit(found);
      assert.equal(result.outcome, 'accepted');
      assert.equal(result.attempts, 5);
      assert.deepEqual(faults, [`${found.hash} node submitblock: node error -25: AcceptBlock: Failed to find position to write new block to disk`]);
      assert.equal(h.logs.filter((l) => l.level === 'error' && /failed to store block .*its disk may be full/.test(l.msg)).length, 1);
      assert.deepEqual(await outcomesOf(h, found.hash), ['accepted']);
    });
  });

  it('an abort signal stops the retries; the block stays pending', async () => {
    await withHarness(async (h) => {
      const controller = new AbortController();
      let calls = 0;
      const submitter = h.make({
        submitBlock: async () => {
          if (++calls === 3) controller.abort();
          throw new NodeUnreachableError('http://x', 'ECONNREFUSED');
        },
      });
      const found = sampleFound();
      const result = await submitter.submit(found, { signal: controller.signal });
      assert.equal(result.outcome, 'unconfirmed');
      assert.equal(result.attempts, 3);
      assert.deepEqual((await h.journal.pending()).map((r) => r.hash), [found.hash]);
    });
  });

  it('an abort signal stops waiting for a submitblock the node does not answer (the stop\'s grace); the block stays pending', async () => {
    await withHarness(async (h) => {
      const controller = new AbortController();
      let given: AbortSignal | undefined;
      // A hung node: the call never settles (a real one holds it for the RPC timeout, 30 s).
      const submitter = h.make({
        submitBlock: (_hex, signal) => {
          given = signal;
          queueMicrotask(() => controller.abort());
          return new Promise<string | null>(() => undefined);
        },
      });
      const found = sampleFound();
      const result = await submitter.submit(found, { signal: controller.signal });
      assert.equal(given, controller.signal, 'the transport is handed the signal, to cancel its request');
      assert.equal(result.outcome, 'unconfirmed');
      assert.equal(result.reason, 'the node had not answered when the submission was stopped');
      assert.equal(result.attempts, 1);
      assert.deepEqual(await outcomesOf(h, found.hash), ['unconfirmed']);
      assert.deepEqual((await h.journal.pending()).map((r) => r.hash), [found.hash]);
      // An answer arriving after the abort changes nothing (and is no unhandled rejection).
      const late = new AbortController();
      let fail: (err: Error) => void = () => undefined;
      const again = await h
        .make({
          submitBlock: () => {
            queueMicrotask(() => late.abort());
            return new Promise<string | null>((_resolve, reject) => (fail = reject));
          },
        })
        .submit(sampleFound(), { signal: late.signal });
      assert.equal(again.outcome, 'unconfirmed');
      fail(new NodeUnreachableError('http://x', 'ETIMEDOUT'));
      await new Promise((r) => setImmediate(r));
    });
  });

  it('a journal that cannot be written does not stop the submission; the block goes to the log', async () => {
    await withHarness(async (h) => {
      const broken: BlockSubmitterDeps['journal'] = {
        appendFound: async () => {
          throw new Error('journal: cannot write /x (ENOSPC: no space left on device)');
        },
        append: async () => {
          throw new Error('journal: cannot write /x (ENOSPC: no space left on device)');
        },
        pending: async () => [],
      };
      const found = sampleFound();
      const result = await h.make({ journal: broken }).submit(found);
      assert.equal(result.outcome, 'accepted');
      assert.equal(result.journaled, false);
      assert.deepEqual(h.submitted, [found.blockHex]);
      const err = h.logs.find((l) => l.level === 'error' && l.fields?.blockHex === found.blockHex);
      assert.ok(err, 'the block hex is in an error log line');
    });
  });
});

describe('BlockSubmitter.replay', { timeout: 60_000 }, () => {
  it('settles blocks the node knows and resubmits only the unknown ones, without a second found line', async () => {
    await withHarness(async (h) => {
      const inChain = sampleFound();
      const knownOffChain = sampleFound();
      const unknown = sampleFound();
      const settled = sampleFound();
      const otherNet = sampleFound({ network: 'signet' });
      for (const r of [inChain, knownOffChain, unknown, settled, otherNet]) await h.journal.appendFound(r);
      await h.journal.appendOutcome({ type: 'outcome', time: new Date().toISOString(), hash: settled.hash, outcome: 'rejected', reason: 'high-hash' });

      const asked: string[] = [];
      const submitter = h.make({
        blockInActiveChain: async (hash) => hash === inChain.hash || hash === unknown.hash,
      });
      const results = await submitter.replay(
        async (hash) => {
          asked.push(hash);
          return hash === inChain.hash || hash === knownOffChain.hash;
        },
        { network: 'regtest' },
      );

      assert.deepEqual(asked, [inChain.hash, knownOffChain.hash, unknown.hash]);
      assert.deepEqual(h.submitted, [unknown.blockHex], 'only the unknown block is submitted');
      assert.deepEqual(
        results.map((r) => [r.hash, r.outcome, r.attempts]),
        [
          [inChain.hash, 'accepted', 0],
          [knownOffChain.hash, 'duplicate', 0],
          [unknown.hash, 'accepted', 1],
        ],
      );
      const foundLines = (await h.records()).filter((r) => r.type === 'found');
      assert.equal(foundLines.length, 5, 'replay adds no found lines');
      assert.deepEqual((await h.journal.pending()).map((r: FoundBlockRecord) => r.hash), [otherNet.hash]);
      assert.ok(h.logs.some((l) => l.level === 'warn' && l.fields?.network === 'signet'));
    });
  });

  it('resubmits when the node cannot say whether it knows the block', async () => {
    await withHarness(async (h) => {
      const found = sampleFound();
      await h.journal.appendFound(found);
      const results = await h.make({}).replay(async () => {
        throw new RpcError('getblockheader', -1, 'odd');
      });
      assert.deepEqual(h.submitted, [found.blockHex]);
      assert.equal(results[0]?.outcome, 'accepted');
    });
  });
});
