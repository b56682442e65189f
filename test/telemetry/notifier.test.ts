// The notifier with a fake fetch and an injected sleep (no real waiting): what each kind of URL
// receives, backoff and its limits, the bounded queue, credentials kept out of logs, and the
// --on-block command (real /bin/sh) with its environment, failure and timeout.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { NOTIFICATION_SCHEMA, type NotifyEvent } from '../../src/telemetry/notify/notification-events.js';
import { Notifier, type NotifierOptions } from '../../src/telemetry/notify/notifier.js';
import { notifyTarget } from '../../src/telemetry/notify/targets.js';
import { tempDir } from '../support/files.js';

interface Sent {
  url: string;
  headers: Record<string, string>;
  body: string;
}

function event(name: NotifyEvent['event'], height = 812_345): NotifyEvent {
  const base = { event: name, time: '2026-03-01T12:00:00.000Z', network: 'main' };
  if (name === 'node-unreachable' || name === 'node-back') return { ...base, ...(name === 'node-unreachable' && { node: { error: 'ECONNREFUSED' } }) };
  return {
    ...base,
    block: { height, hash: '00'.repeat(4) + 'ab'.repeat(28), status: name === 'matured' ? 'mature' : name, confirmations: name === 'orphaned' ? -1 : 1, maturityHeight: height + 99, value: '3.12500000', valueSats: 312_500_000, address: 'bc1qexample', engine: 'cpu/avx2' },
  };
}

/** A fake fetch answering from `answers` in turn (a Response, or an Error to throw); records what was sent. */
function fakeFetch(answers: Array<Response | Error | (() => Promise<Response>)>, sent: Sent[]): typeof fetch {
  let i = 0;
  return (async (url: string | URL | Request, init?: RequestInit) => {
    sent.push({ url: String(url), headers: { ...(init?.headers as Record<string, string>) }, body: String(init?.body) });
    const a = answers[Math.min(i++, answers.length - 1)]!;
    if (a instanceof Error) throw a;
    return typeof a === 'function' ? a() : a;
  }) as typeof fetch;
}

function harness(options: Partial<NotifierOptions> & { answers?: Array<Response | Error | (() => Promise<Response>)> }) {
  const sent: Sent[] = [];
  const sleeps: number[] = [];
  const logs: string[] = [];
  const notifier = new Notifier({
    urls: [],
    log: (level, msg, fields) => logs.push(`${level} ${msg} ${fields ? JSON.stringify(fields) : ''}`),
    fetch: fakeFetch(options.answers ?? [new Response(null, { status: 200 })], sent),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 1, // no jitter: delays are the backoff steps
    ...options,
  });
  return { notifier, sent, sleeps, logs };
}

describe('notifier', { timeout: 60_000 }, () => {
  it('tells ntfy, Discord and a generic webhook apart from the URL alone, and sends each its own body', async () => {
    const { notifier, sent } = harness({ urls: ['https://ntfy.sh/solo-alerts', 'https://discord.com/api/webhooks/1234/tok', 'https://example.org/hook', 'ntfy+https://push.example.org/mine'] });
    notifier.notify(event('orphaned'));
    await notifier.idle();
    assert.equal(sent.length, 4);
    const [ntfy, discord, hook, selfHosted] = sent as [Sent, Sent, Sent, Sent];
    assert.equal(ntfy.url, 'https://ntfy.sh/solo-alerts');
    assert.equal(ntfy.headers.title, 'solominer: block 812345 orphaned (main)');
    assert.equal(ntfy.headers.priority, 'high');
    assert.match(ntfy.headers.tags!, /warning/);
    assert.match(ntfy.body, /^Block 812345 \(0{8}abab.*\) orphaned .*3\.12500000 BTC lost unless a reorg brings it back\.$/);
    const content = (JSON.parse(discord.body) as { content: string }).content;
    assert.match(content, /^\*\*solominer: block 812345 orphaned \(main\)\*\*\nBlock 812345/);
    const body = JSON.parse(hook.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['schema', 'version', 'event', 'time', 'network', 'title', 'message', 'block']);
    assert.equal(body.schema, NOTIFICATION_SCHEMA);
    assert.equal(body.event, 'orphaned');
    assert.deepEqual((body.block as { confirmations: number }).confirmations, -1);
    assert.equal(hook.headers['content-type'], 'application/json');
    assert.equal(selfHosted.url, 'https://push.example.org/mine', 'the ntfy+ prefix is a hint, not part of the URL');
    assert.equal(selfHosted.headers['content-type'], 'text/plain; charset=utf-8');
  });

  it('retries with exponential backoff while the failure may pass, honours Retry-After, and stops at the attempt limit', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const { notifier, sent, sleeps, logs } = harness({
      urls: ['https://example.org/hook'],
      answers: [new Response(null, { status: 503 }), refused, new Response(null, { status: 429, headers: { 'retry-after': '7' } }), new Response(null, { status: 204 })],
    });
    notifier.notify(event('found'));
    await notifier.idle();
    assert.equal(sent.length, 4);
    assert.deepEqual(sleeps, [1000, 2000, 7000]);
    assert.deepEqual(notifier.stats, { sent: 1, failed: 0, dropped: 0 });
    assert.equal(logs.filter((l) => l.startsWith('warn')).length, 1, 'one line per notification, not one per retry');

    const capped = harness({ urls: ['https://example.org/hook'], answers: [new Response(null, { status: 500 })], maxAttempts: 5, maxDelayMs: 3000 });
    capped.notifier.notify(event('found'));
    await capped.notifier.idle();
    assert.deepEqual(capped.sleeps, [1000, 2000, 3000, 3000]);
    assert.deepEqual(capped.notifier.stats, { sent: 0, failed: 1, dropped: 0 });
    assert.ok(capped.logs.some((l) => /notification found to webhook https:\/\/example\.org\/hook failed after 5 attempts: HTTP 500/.test(l)), capped.logs.join('\n'));
  });

  it('a 4xx other than 408/429 is final: no retry', async () => {
    const { notifier, sent, sleeps, logs } = harness({ urls: ['https://example.org/hook'], answers: [new Response('bad', { status: 400 })] });
    notifier.notify(event('matured'));
    await notifier.idle();
    assert.equal(sent.length, 1);
    assert.deepEqual(sleeps, []);
    assert.ok(logs.some((l) => /failed: HTTP 400/.test(l)));
  });

  it('notify() returns at once; a queue holds at most queueLimit waiting notifications, dropping the oldest', async () => {
    let release: (r: Response) => void = () => {};
    const blocked = () => new Promise<Response>((resolve) => (release = resolve));
    const { notifier, sent, logs } = harness({ urls: ['https://example.org/hook'], queueLimit: 3, answers: [blocked, new Response(null, { status: 200 })] });
    for (let h = 1; h <= 10; h++) notifier.notify(event('found', h));
    // The first is being sent (its fetch does not answer); nothing waited for it.
    assert.equal(sent.length, 1);
    assert.equal(notifier.pending, 4);
    release(new Response(null, { status: 200 }));
    await notifier.idle();
    const heights = sent.map((s) => (JSON.parse(s.body) as { block: { height: number } }).block.height);
    assert.deepEqual(heights, [1, 8, 9, 10]);
    assert.equal(notifier.stats.dropped, 6);
    assert.equal(logs.filter((l) => /queue full \(3\); dropping the oldest/.test(l)).length, 1, 'said once per overflow');
    assert.ok(logs.some((l) => /6 dropped while the queue was full/.test(l)), logs.join('\n'));
  });

  it("a URL's user, password, query tokens and topic never reach the log; the password goes as basic auth", async () => {
    const url = 'https://alice:s3cr3t-pw@ntfy.example.org/private-topic-xyz?auth=tk_0123456789';
    const leaky = Object.assign(new TypeError('fetch failed'), { cause: { message: `getaddrinfo ENOTFOUND for ${url} (tk_0123456789, s3cr3t-pw)` } });
    const { notifier, sent, logs } = harness({ urls: [url], answers: [leaky], maxAttempts: 2 });
    notifier.notify(event('accepted'));
    notifier.notify(event('node-unreachable'));
    await notifier.idle();
    assert.equal(sent[0]!.url, 'https://ntfy.example.org/private-topic-xyz?auth=tk_0123456789', 'no credentials in the URL fetched');
    assert.equal(sent[0]!.headers.authorization, `Basic ${Buffer.from('alice:s3cr3t-pw').toString('base64')}`);
    const text = logs.join('\n');
    assert.ok(logs.length >= 2, text);
    for (const secret of ['alice', 's3cr3t-pw', 'tk_0123456789', 'private-topic-xyz']) assert.ok(!text.includes(secret), `${secret} in:\n${text}`);
    assert.match(text, /ntfy https:\/\/\*\*\*@ntfy\.example\.org\/\*\*\*\?auth=\*\*\*/);
    assert.equal(notifyTarget('https://discord.com/api/webhooks/99/secret-token').label, 'discord https://discord.com/api/webhooks/99/***');
  });

  it('close() gives queued notifications a grace period, then abandons the rest and says how many', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const never = () => new Promise<Response>(() => {});
    const { notifier, logs } = harness({
      urls: ['https://example.org/hook'],
      fetch: ((_url: string, init?: RequestInit) =>
        new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))))) as typeof fetch,
      answers: [never],
    });
    notifier.notify(event('found'));
    notifier.notify(event('accepted'));
    const closing = notifier.close(5000);
    t.mock.timers.tick(5000);
    await closing;
    assert.ok(logs.some((l) => /notifications: 2 not delivered before shutdown/.test(l)), logs.join('\n'));
    notifier.notify(event('matured'));
    assert.equal(notifier.pending, 0, 'nothing is taken after close');
  });

  it('--on-block runs through /bin/sh with the event in SOLOMINER_* variables and %s as the hash; failures and timeouts are logged', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const out = join(dir, 'events.txt');
      const ok = harness({ onBlock: `echo "$SOLOMINER_EVENT|$SOLOMINER_BLOCK_HEIGHT|$SOLOMINER_VALUE_BTC|$SOLOMINER_CONFIRMATIONS|%s" >> '${out}'` });
      ok.notifier.notify(event('matured'));
      ok.notifier.notify(event('node-back')); // not a block event: not run
      await ok.notifier.idle();
      const hash = event('matured').block!.hash;
      assert.equal(await readFile(out, 'utf8'), `matured|812345|3.12500000|1|${hash}\n`);
      assert.deepEqual(ok.logs, []);

      const failing = harness({ onBlock: 'echo "no route to phone" >&2; exit 3' });
      failing.notifier.notify(event('found'));
      await failing.notifier.idle();
      assert.ok(failing.logs.some((l) => /notification found to --on-block command failed: exit 3: no route to phone/.test(l)), failing.logs.join('\n'));

      const slow = harness({ onBlock: 'sleep 30', commandTimeoutMs: 300 });
      slow.notifier.notify(event('found'));
      await slow.notifier.idle();
      assert.ok(slow.logs.some((l) => /--on-block command failed: killed after 0\.3 s/.test(l)), slow.logs.join('\n'));
      assert.deepEqual(slow.sleeps, [], 'a command is not retried');
    } finally {
      await cleanup();
    }
  });
});
