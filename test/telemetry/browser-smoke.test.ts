// The headless browser the dashboard tests will use works end to end: a page served by a local
// node:http server loads in Chromium, its script runs (it fetches JSON from the same server and
// writes it into the DOM), the DOM text reads back, nothing logs an error, and a screenshot is
// written as a PNG into test-output/.
import assert from 'node:assert/strict';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import { launchBrowser, REPO_ROOT, type HeadlessBrowser } from '../support/browser.js';

const OUTPUT_DIR = `${REPO_ROOT}test-output`;
const SCREENSHOT = `${OUTPUT_DIR}/browser-smoke.png`;
// A value the page can only show if its script ran and its fetch reached the server.
const TOKEN = `hashes-${process.pid}-${Date.now()}`;

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>solominer browser smoke</title>
<link rel="icon" href="data:,">
<style>body { font: 16px sans-serif; margin: 16px } #status { color: #064 }</style></head>
<body><h1>solominer</h1><p id="status">loading</p>
<script>
fetch('/data.json').then((r) => r.json()).then((d) => {
  document.getElementById('status').textContent = 'token ' + d.token + ', sum ' + d.values.reduce((a, b) => a + b, 0);
});
</script></body></html>`;

function serve(): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    } else if (req.url === '/data.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: TOKEN, values: [1, 2, 39] }));
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}/`, requests });
    });
  });
}

describe('headless browser (test/support/browser.ts)', { timeout: 90_000 }, () => {
  let browser: HeadlessBrowser;
  let site: Awaited<ReturnType<typeof serve>>;

  before(async () => {
    site = await serve();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (site ? site.server.close(() => resolve()) : resolve()));
  });

  it('loads a local page, runs its script, reads the DOM and writes a screenshot', async () => {
    const { page, errors } = await browser.newPage();
    await page.setViewportSize({ width: 640, height: 240 });
    const response = await page.goto(site.url, { waitUntil: 'load' });
    assert.equal(response?.status(), 200);
    assert.equal(await page.title(), 'solominer browser smoke');

    // The script's fetch answers after load: wait for its text rather than for time.
    const status = page.locator('#status');
    await status.filter({ hasText: TOKEN }).waitFor({ timeout: 15_000 });
    assert.equal(await status.textContent(), `token ${TOKEN}, sum 42`);
    assert.equal(await page.locator('h1').textContent(), 'solominer');
    assert.deepEqual(site.requests.slice(0, 2), ['/', '/data.json']);
    assert.deepEqual(errors, [], 'the page logged no error');

    await mkdir(OUTPUT_DIR, { recursive: true });
    await rm(SCREENSHOT, { force: true });
    await page.screenshot({ path: SCREENSHOT });
    const png = await readFile(SCREENSHOT);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
    // IHDR: width and height of the viewport
    assert.equal(png.readUInt32BE(16), 640);
    assert.equal(png.readUInt32BE(20), 240);
  });

  it('reports a console error the page logs', async () => {
    // The error check above could pass by never listening: prove it hears one.
    const { page, errors } = await browser.newPage();
    const logged = page.waitForEvent('console', { predicate: (message) => message.type() === 'error' });
    await page.setContent('<script>console.error("deliberate " + (40 + 2))</script>');
    await logged;
    assert.deepEqual(errors, ['console: deliberate 42']);
  });
});
