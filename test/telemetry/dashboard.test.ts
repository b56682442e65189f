// The dashboard in a real browser (headless Chromium, test/support/browser.ts) against a real
// miner on regtest: the page loads with no console error (a Content-Security-Policy violation
// would be one), the hash rate it shows matches /status within the sampling, the chart's canvas
// has drawn the hash-rate line, a block found while the page is open appears without a reload,
// and a screenshot is written to test-output/. Exposed with a token: 401 without it, the login
// form's cookie opens the page.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { Page } from 'playwright-core';

import { createEngine } from '../../src/engines/create-engine.js';
import type { FoundBlock, Miner } from '../../src/miner/miner.js';
import { runMineService, type ServiceSummary } from '../../src/miner/service.js';
import { formatRate } from '../../src/telemetry/format.js';
import { RateColumns } from '../../src/telemetry/rate-history.js';
import { Recorder } from '../../src/telemetry/recorder.js';
import { sseFrame, SseHub } from '../../src/telemetry/sse.js';
import type { MinerStatus } from '../../src/telemetry/status-document.js';
import { CONTENT_SECURITY_POLICY, StatusServer } from '../../src/telemetry/status-server.js';
import { launchBrowser, REPO_ROOT, type HeadlessBrowser } from '../support/browser.js';
import { BIN } from '../support/cli.js';
import { nextEvent, within } from '../support/events.js';
import { tempDir } from '../support/files.js';
import { WithheldEngine } from '../support/gated-engine.js';
import { openSse } from '../support/sse.js';
import { collectingLogger, mineConfig, scratchDir } from '../support/mining.js';
import { createWallet, newAddress, startRegtest, type LocalNode } from '../support/regtest.js';

const OUTPUT_DIR = `${REPO_ROOT}test-output`;
const SCREENSHOT = `${OUTPUT_DIR}/dashboard.png`;
const PHONE_SCREENSHOT = `${OUTPUT_DIR}/dashboard-phone.png`;
const WORKERS_SCREENSHOT = `${OUTPUT_DIR}/dashboard-workers.png`;
const TOKEN = 'dashboard-test-token-5c1e9a7b';
const UNITS: Readonly<Record<string, number>> = { 'H/s': 1, 'kH/s': 1e3, 'MH/s': 1e6, 'GH/s': 1e9, 'TH/s': 1e12 };

/** "12.34 MH/s" → 12340000. */
function parseRate(text: string): { value: number } {
  const m = /^([\d.]+) ([kMGT]?H\/s)$/.exec(text.trim());
  assert.ok(m, `a hash rate as formatRate writes it, got ${JSON.stringify(text)}`);
  return { value: Number(m[1]) * UNITS[m[2]!]! };
}

async function status(url: string): Promise<MinerStatus> {
  const res = await fetch(`${url}/status`);
  assert.equal(res.status, 200);
  return (await res.json()) as MinerStatus;
}

/** The little of the DOM the page-side checks use (the tests compile without the DOM's types). */
interface PageGlobals {
  readonly document: {
    querySelector(selector: string): {
      readonly width: number;
      readonly height: number;
      getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { readonly data: ArrayLike<number> } } | null;
    } | null;
    readonly documentElement: { readonly scrollWidth: number };
  };
}

/**
 * Whether the chart's canvas holds at least `min` pixels in a saturated colour: the series lines
 * (axes, grid and text are grey). Runs in the page, passed as a function: the page's CSP forbids
 * evaluating strings.
 */
function chartPixelsAtLeast(min: number): boolean {
  const canvas = (globalThis as unknown as PageGlobals).document.querySelector('#chart canvas');
  const data = canvas && canvas.width > 0 ? canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data : undefined;
  let n = 0;
  for (let i = 0; data && i < data.length; i += 4) {
    const [r, g, b, a] = [data[i]!, data[i + 1]!, data[i + 2]!, data[i + 3]!];
    if (a > 200 && Math.max(r, g, b) - Math.min(r, g, b) > 100) n++;
  }
  return n >= min;
}

async function screenshotTo(page: Page, path: string, width: number): Promise<void> {
  await mkdir(OUTPUT_DIR, { recursive: true });
  await rm(path, { force: true });
  await page.screenshot({ path, fullPage: true });
  const png = await readFile(path);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.equal(png.readUInt32BE(16), width, 'PNG width: the viewport');
}

describe('dashboard in a browser, on a live regtest miner', { timeout: 240_000 }, () => {
  let node: LocalNode;
  let browser: HeadlessBrowser;
  let engine: WithheldEngine;
  let miner: Miner;
  let url: string;
  const stop = new AbortController();
  let service: Promise<ServiceSummary>;
  const collected = collectingLogger();

  before(async () => {
    node = await startRegtest();
    const wallet = await createWallet(node, 'dash');
    const address = await newAddress(node, wallet, 'bech32');
    const config = await mineConfig(node, address, await scratchDir(), ['--metrics-port', '0']);
    // One thread: the browser and the node need the other core.
    engine = new WithheldEngine(await createEngine({ kind: 'cpu', threads: 1 }));
    let started: (m: Miner, u: string) => void = () => {};
    const live = new Promise<void>((resolve) => {
      started = (m, u) => {
        miner = m;
        url = u;
        resolve();
      };
    });
    service = runMineService({
      config,
      log: collected.log,
      engines: [engine],
      signal: stop.signal,
      // A history point and a status push every second, so the chart has a line within seconds.
      telemetry: { historyIntervalMs: 1000, statusPushIntervalMs: 1000 },
      onStarted: ({ miner: m, recorder }) => started(m, recorder.metricsUrl!),
    });
    await within('the miner to start', Promise.race([live, service.then(() => assert.fail('the service ended early'))]), 60_000);
    await nextEvent(miner, 'hashes', () => true, 30_000);
    browser = await launchBrowser();
  });

  after(async () => {
    stop.abort();
    await service?.catch(() => undefined);
    await browser?.close();
    await node?.stop();
  });

  it('loads without a console error, shows /status\'s hash rate, draws the chart, shows a found block without a reload', async () => {
    assert.match(collected.lines.join('\n'), /info dashboard on http:\/\/127\.0\.0\.1:\d+\/; Prometheus http:\/\/127\.0\.0\.1:\d+\/metrics/, 'mine prints the URL');
    const { page, errors } = await browser.newPage();
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations++;
    });
    await page.setViewportSize({ width: 1280, height: 900 });
    const response = await page.goto(`${url}/`, { waitUntil: 'load' });
    assert.equal(response?.status(), 200);
    assert.equal(response?.headers()['content-security-policy'], CONTENT_SECURITY_POLICY);
    assert.equal(await page.title(), 'solominer');
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 15_000 });
    await page.locator('#network', { hasText: 'regtest' }).waitFor({ timeout: 15_000 });

    // The chart: the hash-rate line drawn on its canvas (two points at least, a second apart).
    // Without a point the canvas holds only grey axes and grid: no coloured pixel at all.
    await page.waitForFunction(chartPixelsAtLeast, 200, { timeout: 30_000, polling: 250 });

    // The rate shown is that of a /status document the server pushed: the test listens to the
    // same feed, and the page's text must be one of the documents sent to both (the page may be
    // a push ahead of the test's stream, so the test waits for the next one then).
    const feed = await openSse(`${url}/events`);
    let shownText = '';
    let pushed: number[] = [];
    try {
      await feed.next((e) => e.event === 'status');
      for (let attempt = 0; attempt < 5; attempt++) {
        const seen = feed.events.length;
        shownText = ((await page.locator('#rate').textContent()) ?? '').trim();
        pushed = feed.events.filter((e) => e.event === 'status').map((e) => (JSON.parse(e.data) as MinerStatus).hashesPerSecond);
        if (pushed.some((hps) => formatRate(hps) === shownText)) break;
        await feed.next((e) => e.event === 'status', 5_000, seen);
      }
    } finally {
      feed.close();
    }
    const shown = parseRate(shownText);
    assert.ok(shown.value > 0);
    assert.ok(pushed.some((hps) => formatRate(hps) === shownText), `shown ${shownText}; pushed ${pushed.map(formatRate).join(', ')}`);
    const before = await status(url);
    assert.ok(before.hashesPerSecond > 0);
    const engineLine = await page.locator('#engines li').first().textContent();
    assert.match(engineLine ?? '', /^cpu\/\S+ [\d.]+ [kMGT]?H\/s$/);
    assert.equal(await page.locator('#job-height').textContent(), String(before.job!.height));
    assert.equal(await page.locator('#node-state').textContent(), 'reachable');

    // No block yet: the engine finds nothing until it is released.
    assert.equal(before.blocks.found, 0);
    await page.locator('#blocks tbody', { hasText: 'no block found yet' }).waitFor({ timeout: 5_000 });
    const found = nextEvent<[FoundBlock]>(miner, 'block', () => true, 30_000);
    await engine.release();
    const [block] = await found;
    // The block tracker's status: accepted, then confirmed at the next tip (the page shows what blocks shows).
    const row = page.locator('#blocks tbody tr', { hasText: /accepted|confirmed/ }).first();
    await row.waitFor({ timeout: 30_000 });
    assert.equal(navigations, 1, 'the page was not reloaded');
    assert.equal(await row.locator('td.hash').textContent(), block.block.hash);
    assert.equal(await row.locator('td').nth(1).textContent(), String(block.job.height));
    const header = await node.rpc.call<{ confirmations: number }>('getblockheader', block.block.hash);
    assert.ok(header.confirmations >= 1, 'the block shown is in the node\'s chain');
    await page.locator('#block-counts', { hasText: /found 1 · accepted 1/ }).waitFor({ timeout: 10_000 });
    // The next job (on top of the block) shows too.
    await page.locator('#job-height', { hasText: String(block.job.height + 1) }).waitFor({ timeout: 15_000 });

    await screenshotTo(page, SCREENSHOT, 1280);
    assert.deepEqual(errors, [], 'the page logged no error');

    // Readable on a phone: one column, nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth <= 390, undefined, { timeout: 10_000 });
    await screenshotTo(page, PHONE_SCREENSHOT, 390);
    assert.deepEqual(errors, []);
  });
});

describe('dashboard exposed with a token, in a browser', { timeout: 120_000 }, () => {
  it('401 without the token; the login form sets the cookie that opens the live page', async () => {
    const { dir, cleanup } = await tempDir();
    const rec = await Recorder.start({
      config: { network: 'regtest', reportDir: join(dir, 'reports'), metricsPort: 0, metricsHost: '0.0.0.0', statusToken: TOKEN, logFormat: 'json' },
      log: () => undefined,
      timing: { historyIntervalMs: 1000, statusPushIntervalMs: 1000 },
    });
    const browser = await launchBrowser();
    try {
      rec.hashes('cpu', 'scalar', 1000);
      const base = rec.metricsUrl!.replace('0.0.0.0', '127.0.0.1');
      const { page, errors } = await browser.newPage();
      const denied = await page.goto(`${base}/`);
      assert.equal(denied?.status(), 401);
      for (const path of ['/status', '/metrics', '/events']) {
        const code = await page.evaluate(async (p) => (await fetch(p)).status, path);
        assert.equal(code, 401, path);
      }
      await page.fill('#token', 'a-wrong-token-for-this-miner');
      await Promise.all([page.waitForURL(`${base}/login`), page.click('button[type="submit"]')]);
      assert.match((await page.textContent('body')) ?? '', /That is not the token this miner was started with/);
      await page.fill('#token', TOKEN);
      const [signedIn] = await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname === '/' && r.status() === 200), page.click('button[type="submit"]')]);
      assert.equal(signedIn.status(), 200);
      await page.locator('#connection[data-state="live"]').waitFor({ timeout: 15_000 });
      await page.locator('#network', { hasText: 'regtest' }).waitFor({ timeout: 15_000 });
      const cookies = await page.context().cookies();
      assert.deepEqual(cookies.map((c) => [c.name, c.httpOnly, c.sameSite]), [['solominer_session', true, 'Strict']]);
      assert.ok(!cookies[0]!.value.includes(TOKEN));
      // The only errors: the 401s this test asked for, reported by the browser as failed loads.
      const unexpected = errors.filter((e) => !/status of 401 \(Unauthorized\)/.test(e));
      assert.deepEqual(unexpected, []);
    } finally {
      await browser.close();
      await rec.close();
      await cleanup();
    }
  });
});

describe('dashboard with Stratum workers in /status', { timeout: 120_000 }, () => {
  it('renders the workers table and their series when the document has them, names as text only', async () => {
    // The pool fills `workers`; until it lands, a status server fed a recorder's document plus workers.
    const { dir, cleanup } = await tempDir();
    const rec = await Recorder.start({ config: { network: 'main', reportDir: join(dir, 'reports'), metricsHost: '127.0.0.1', logFormat: 'json' }, log: () => undefined });
    const hostile = '<img src=x id=injected>rig-1';
    const now = Date.now();
    const doc: MinerStatus = {
      ...rec.status(),
      hashesPerSecond: 1.5e12,
      pool: {
        url: 'stratum+tcp://0.0.0.0:3333',
        connections: 2,
        connectionsByProtocol: { v1: 1, v2: 1 },
        sv2: { url: 'stratum2+tcp://0.0.0.0:3336/9bXiEd8boQVhq7WddEcERUL5tyyJVFYdU8th3HfbNXK3Yw6GRXh', host: '0.0.0.0', port: 3336, authorityKey: '9bXiEd8boQVhq7WddEcERUL5tyyJVFYdU8th3HfbNXK3Yw6GRXh' },
        sharesAccepted: 1234,
        sharesRejected: { stale: 2, 'low-difficulty': 1 },
      },
      workers: [
        { name: hostile, worker: hostile, hashesPerSecond: 1.2e12, address: 'bc1qexample', userAgent: 'bitaxe/BM1370', connections: 1, protocols: ['v2'], connectedSince: new Date(now - 3_600_000).toISOString(), difficulty: 4096, sharesAccepted: 1234, sharesRejected: { stale: 2, 'low-difficulty': 1 }, bestShare: { run: 2.5e9, allTime: 7.1e10 }, lastShareAt: new Date(now - 4000).toISOString(), blocksFound: 0 },
        { name: 'nerdqaxe', worker: 'nerdqaxe', hashesPerSecond: 3e11, address: 'bc1qoperator', userAgent: null, connections: 1, connectedSince: null, difficulty: null, sharesAccepted: 0, sharesRejected: {}, bestShare: { run: null, allTime: null }, lastShareAt: null, blocksFound: 0 },
      ],
      foundBlocks: [{ time: new Date(now - 60_000).toISOString(), height: 900_000, hash: '00'.repeat(32), engine: 'stratum', backend: 'pool', worker: 'nerdqaxe', outcome: 'orphaned', confirmations: -1 }],
    };
    const history = RateColumns.fromSamples(
      [0, 1, 2, 3].map((i) => ({ t: now - (3 - i) * 10_000, total: 1.5e12, engines: {}, workers: { [hostile]: 1.2e12, nerdqaxe: 3e11 } })),
      10,
    );
    const hub = new SseHub();
    const server = await StatusServer.listen({
      host: '127.0.0.1',
      port: 0,
      metrics: async () => ({ contentType: 'text/plain', body: '' }),
      status: () => doc,
      events: { hub, greeting: () => sseFrame('history', JSON.stringify(history)) + sseFrame('status', JSON.stringify(doc)) },
    });
    const browser = await launchBrowser();
    try {
      const { page, errors } = await browser.newPage();
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.goto(`${server.url}/`);
      await page.locator('#workers-card:not([hidden])').waitFor({ timeout: 15_000 });
      const rows = page.locator('#workers tbody tr');
      assert.equal(await rows.count(), 2);
      assert.deepEqual(await rows.first().locator('td').allTextContents(), [
        hostile,
        '1.20 TH/s',
        '1,234',
        '3 (stale 2, low-difficulty 1)',
        '2.500e+9 (ever 7.100e+10)',
        await rows.first().locator('td').nth(5).textContent(),
        '0',
        await rows.first().locator('td').nth(7).textContent(),
      ]);
      assert.deepEqual(await rows.nth(1).locator('td').allTextContents(), ['nerdqaxe', '300.00 GH/s', '0', '0', '–', '–', '0', await rows.nth(1).locator('td').nth(7).textContent()]);
      assert.equal(await page.locator('#injected').count(), 0, 'a worker name never becomes markup');
      // Where miners connect: ESP-Miner's three Stratum V2 settings and the URL.
      assert.equal(
        await page.locator('#pool-endpoints').textContent(),
        'Stratum V1: stratum+tcp://0.0.0.0:3333 · Stratum V2: host 0.0.0.0, port 3336, authority key 9bXiEd8boQVhq7WddEcERUL5tyyJVFYdU8th3HfbNXK3Yw6GRXh — stratum2+tcp://0.0.0.0:3336/9bXiEd8boQVhq7WddEcERUL5tyyJVFYdU8th3HfbNXK3Yw6GRXh',
      );
      const block = page.locator('#blocks tbody tr').first();
      assert.deepEqual((await block.locator('td').allTextContents()).slice(1, 5), ['900000', 'orphaned', '-1', 'nerdqaxe']);
      assert.equal(await block.locator('td').nth(2).getAttribute('class'), 'bad');
      // uPlot's legend names a series per worker.
      const legend = await page.locator('.u-legend').textContent();
      assert.match(legend ?? '', /worker <img src=x id=injected>rig-1/);
      assert.match(legend ?? '', /worker nerdqaxe/);
      await screenshotTo(page, WORKERS_SCREENSHOT, 1280);
      // A pool without an operator address: the page says what to log in as.
      hub.broadcast('status', { ...doc, pool: { ...doc.pool!, sv2: null, login: 'address' } });
      await page.locator('#pool-endpoints', { hasText: 'user name' }).waitFor({ timeout: 15_000 });
      assert.equal(
        await page.locator('#pool-endpoints').textContent(),
        'Stratum V1: stratum+tcp://0.0.0.0:3333 · user name: your main payout address, <address>[.<worker>] (no other logins: this pool has no operator address)',
      );
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      hub.close();
      await server.close();
      await rec.close();
      await cleanup();
    }
  });
});

describe('demo --dashboard', { timeout: 240_000 }, () => {
  it('after the demo keeps mining on its private signet and serves the page until Ctrl-C, then cleans up', async () => {
    const tmp = await scratchDir('solominer-demo-dash-tmp-');
    // A process group of its own: Ctrl-C reaches the whole group (bin/solominer.js may run the CLI as its child).
    const child = spawn(process.execPath, [BIN, 'demo', '--engines', 'cpu', '--blocks', '1', '--dashboard'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, TMPDIR: tmp },
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const url = await within(
        'the dashboard line',
        new Promise<string>((resolve, reject) => {
          child.stdout.on('data', (d: Buffer) => {
            stdout += d.toString();
            const m = /^dashboard: (http:\/\/127\.0\.0\.1:\d+)\/ \(mining on the private signet with cpu; Ctrl-C to stop\)$/m.exec(stdout);
            if (m) resolve(m[1]!);
          });
          void closed.then((code) => reject(new Error(`demo ended (${code}) before serving: ${stdout}${stderr}`)));
        }),
        180_000,
      );
      assert.match(stdout, /^private signet/m);
      const page = await fetch(`${url}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<title>solominer<\/title>/);
      // The page's own feed: a status that shows the CPU engine hashing on the signet.
      const feed = await openSse(`${url}/events`);
      try {
        const live = await feed.next((e) => e.event === 'status' && (JSON.parse(e.data) as MinerStatus).hashesPerSecond > 0, 60_000);
        const s = JSON.parse(live.data) as MinerStatus;
        assert.equal(s.network, 'signet');
        assert.deepEqual(s.engines.map((e) => e.engine), ['cpu']);
      } finally {
        feed.close();
      }
    } finally {
      process.kill(-child.pid!, 'SIGINT');
    }
    assert.equal(await within('the demo to stop', closed, 60_000), 0, stdout + stderr);
    assert.match(stdout, /stopping the miner and the node, cleaning up/);
    assert.deepEqual(await readdir(tmp), [], 'the node data and the demo folder are removed');
  });
});
