// The status port made safe to expose: loopback unless a token is given (the config refuses,
// `mine` exits 2 with one line), the token by header or by the login form's cookie, 401 without,
// a per-address token bucket (injected clock), read-only, a Content-Security-Policy, and the token
// never in a log line or an error message. `status --status-token` reads such a port.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { ConfigError, loadMineConfig } from '../../src/config/load-config.js';
import { describeConfig } from '../../src/config/mine-config.js';
import { TokenBucketLimiter } from '../../src/telemetry/rate-limit.js';
import { Recorder } from '../../src/telemetry/recorder.js';
import { bearerToken, cookieValue, isLoopbackHost, SESSION_COOKIE, StatusAuth } from '../../src/telemetry/status-auth.js';
import { CONTENT_SECURITY_POLICY, MetricsListenError, StatusServer, type StatusServerOptions } from '../../src/telemetry/status-server.js';
import { ADDRESS } from '../config/_support.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/files.js';

const TOKEN = 'tok-3f9a1c07d5e2b8a4-secret';
/** The environment without the SOLOMINER_* variables of whoever runs the tests. */
const CLEAN_ENV: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOLOMINER_')));

describe('loopback or a token', { timeout: 60_000 }, () => {
  it('knows which hosts keep the port on this machine', () => {
    for (const h of ['127.0.0.1', '127.8.9.10', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(h), true, h);
    for (const h of ['0.0.0.0', '::', '192.168.1.20', '10.0.0.1', 'miner.lan', '128.0.0.1', '::2', '127.0.0.1.example.com']) assert.equal(isLoopbackHost(h), false, h);
  });

  it('the config refuses a status port beyond loopback without a token, and names the fix', async () => {
    const base = ['--network', 'regtest', '--address', ADDRESS, '--rpc-cookie', '/nonexistent/.cookie'];
    await assert.rejects(
      loadMineConfig({ argv: [...base, '--metrics-port', '9464', '--metrics-host', '0.0.0.0'], env: {}, cwd: '/' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message === '--metrics-host: 0.0.0.0 is beyond loopback: the status port needs a token there (--status-token, SOLOMINER_STATUS_TOKEN or config.json statusToken), or listen on 127.0.0.1',
    );
    await assert.rejects(loadMineConfig({ argv: [...base, '--metrics-port', '9464'], env: { SOLOMINER_METRICS_HOST: '192.168.1.5' }, cwd: '/' }), /^ConfigError: SOLOMINER_METRICS_HOST: 192\.168\.1\.5 is beyond loopback/);
    // No port, nothing served: the host alone is harmless.
    await loadMineConfig({ argv: [...base, '--metrics-host', '0.0.0.0'], env: {}, cwd: '/' });
    const withToken = await loadMineConfig({ argv: [...base, '--metrics-port', '9464', '--metrics-host', '0.0.0.0'], env: { SOLOMINER_STATUS_TOKEN: TOKEN }, cwd: '/' });
    assert.equal(withToken.statusToken, TOKEN);
    assert.doesNotMatch(describeConfig(withToken), new RegExp(TOKEN));
    assert.match(describeConfig(withToken), /statusToken=\*\*\*/);
  });

  it('a token too short or with spaces is refused without being echoed', async () => {
    for (const bad of ['short-token', 'has a space in the middle!']) {
      await assert.rejects(
        loadMineConfig({ argv: ['--network', 'regtest', '--address', ADDRESS, '--rpc-cookie', '/x', '--status-token', bad], env: {}, cwd: '/' }),
        (err: unknown) => err instanceof ConfigError && /^--status-token: expected a token of at least 16 printable characters/.test(err.message) && !err.message.includes(bad),
      );
    }
  });

  it('`mine` beyond loopback without a token: one line, exit 2, before anything starts', async () => {
    const r = await runCli(['mine', '--network', 'regtest', '--address', ADDRESS, '--rpc-cookie', '/nonexistent/.cookie', '--metrics-port', '0', '--metrics-host', '0.0.0.0'], { env: CLEAN_ENV });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^solominer mine: --metrics-host: 0\.0\.0\.0 is beyond loopback: the status port needs a token there/);
  });

  it('the server itself refuses too, should a caller skip the config', async () => {
    await assert.rejects(
      StatusServer.listen({ host: '0.0.0.0', port: 0, metrics: async () => ({ contentType: 'text/plain', body: '' }), status: () => ({}) }),
      (err: unknown) => err instanceof MetricsListenError && /^--metrics-host: 0\.0\.0\.0 is beyond loopback: give --status-token/.test(err.message),
    );
  });
});

describe('token and cookie', { timeout: 10_000 }, () => {
  it('reads a Bearer header and a cookie', () => {
    assert.equal(bearerToken(`Bearer ${TOKEN}`), TOKEN);
    assert.equal(bearerToken(`bearer   ${TOKEN} `), TOKEN);
    assert.equal(bearerToken(`Basic ${TOKEN}`), undefined);
    assert.equal(bearerToken('Bearer'), undefined);
    assert.equal(bearerToken(undefined), undefined);
    assert.equal(cookieValue('a=1; solominer_session=xyz; b=2', SESSION_COOKIE), 'xyz');
    assert.equal(cookieValue('xsolominer_session=1', SESSION_COOKIE), undefined);
  });

  it('allows the token or the session cookie, and nothing close to them', () => {
    const auth = new StatusAuth(TOKEN);
    assert.equal(auth.matches(TOKEN), true);
    for (const guess of ['', TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase()]) assert.equal(auth.matches(guess), false, guess);
    assert.equal(auth.allows({ authorization: `Bearer ${TOKEN}` }), true);
    assert.equal(auth.allows({ authorization: `Bearer ${TOKEN}0` }), false);
    assert.equal(auth.allows({}), false);
    const setCookie = auth.sessionCookie();
    assert.match(setCookie, /^solominer_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=604800$/);
    assert.ok(!setCookie.includes(TOKEN), 'the cookie is not the token');
    const value = setCookie.split(';')[0]!.split('=')[1]!;
    assert.equal(auth.allows({ cookie: `theme=dark; ${SESSION_COOKIE}=${value}` }), true);
    assert.equal(auth.allows({ cookie: `${SESSION_COOKIE}=${value.slice(1)}` }), false);
    assert.equal(new StatusAuth(`${TOKEN}-other`).allows({ cookie: `${SESSION_COOKIE}=${value}` }), false, 'another token, another session');
  });
});

describe('rate limiter (token bucket)', { timeout: 10_000 }, () => {
  it('allows a burst, then the refill rate; says when to retry', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter({ capacity: 5, refillPerSecond: 2, now: () => now });
    for (let i = 0; i < 5; i++) assert.equal(limiter.take('a').allowed, true, `request ${i}`);
    assert.deepEqual(limiter.take('a'), { allowed: false, retryAfterSeconds: 1 });
    assert.equal(limiter.take('b').allowed, true, 'another address has its own bucket');
    now += 499;
    assert.equal(limiter.take('a').allowed, false, '0.998 tokens are not one');
    now += 1;
    assert.equal(limiter.take('a').allowed, true);
    now += 60_000;
    for (let i = 0; i < 5; i++) assert.equal(limiter.take('a').allowed, true, 'refilled to the burst, not beyond');
    assert.equal(limiter.take('a').allowed, false);
  });

  it('a charge empties the bucket without refusing; a big cost waits for its tokens', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter({ capacity: 10, refillPerSecond: 1, now: () => now });
    limiter.charge('a', 25);
    assert.deepEqual(limiter.take('a'), { allowed: false, retryAfterSeconds: 1 });
    assert.deepEqual(limiter.take('a', 4), { allowed: false, retryAfterSeconds: 4 });
    now += 4000;
    assert.equal(limiter.take('a', 4).allowed, true);
  });

  it('remembers a bounded number of addresses, forgetting refilled ones first', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter({ capacity: 2, refillPerSecond: 1, now: () => now, maxKeys: 3 });
    limiter.take('a');
    limiter.take('b');
    now += 5000;
    limiter.take('c');
    limiter.take('d'); // a and b are full again: forgotten
    assert.equal(limiter.size, 2);
    limiter.take('c');
    limiter.take('e');
    limiter.take('f'); // none refilled: the least recently seen (d) goes
    assert.equal(limiter.size, 3);
  });

  it('refuses a nonsensical configuration', () => {
    assert.throws(() => new TokenBucketLimiter({ capacity: 0, refillPerSecond: 1 }), RangeError);
    assert.throws(() => new TokenBucketLimiter({ capacity: 1, refillPerSecond: 0 }), RangeError);
  });
});

async function server(extra: Partial<StatusServerOptions> = {}): Promise<StatusServer> {
  return StatusServer.listen({
    host: '127.0.0.1',
    port: 0,
    metrics: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'solominer_uptime_seconds 1\n' }),
    status: () => ({ version: 1, ok: true }),
    ...extra,
  });
}

describe('the status port over HTTP', { timeout: 60_000 }, () => {
  it('with a token: 401 on every path without it, 200 with the Bearer header', async () => {
    // A burst large enough for every failure below (each costs extra).
    const s = await server({ host: '0.0.0.0', token: TOKEN, rateLimit: { capacity: 1000, refillPerSecond: 1 } });
    const base = s.url.replace('0.0.0.0', '127.0.0.1');
    try {
      for (const path of ['/', '/status', '/metrics', '/events', '/dashboard.css', '/app/dashboard/app.js', '/vendor/uPlot.iife.min.js', '/nope']) {
        const res = await fetch(base + path);
        assert.equal(res.status, 401, path);
        assert.equal(res.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY, path);
        const body = await res.text();
        assert.ok(!body.includes(TOKEN), `${path} does not show the token`);
        if (path === '/') assert.match(body, /<form method="post" action="\/login">/, 'a browser gets the login form');
        else assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="solominer"', path);
      }
      const ok = await fetch(`${base}/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { version: 1, ok: true });
      assert.equal((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
      assert.equal((await fetch(`${base}/status`, { headers: { authorization: `Bearer ${TOKEN.slice(1)}` } })).status, 401);
    } finally {
      await s.close();
    }
  });

  it('the login form sets an HttpOnly cookie that then opens every path; a wrong token does not', async () => {
    const s = await server({ token: TOKEN });
    try {
      const form = (token: string) => fetch(`${s.url}/login`, { method: 'POST', body: new URLSearchParams({ token }), redirect: 'manual' });
      const wrong = await form('not-the-token-at-all');
      assert.equal(wrong.status, 401);
      assert.equal(wrong.headers.get('set-cookie'), null);
      assert.match(await wrong.text(), /That is not the token this miner was started with/);
      const right = await form(TOKEN);
      assert.equal(right.status, 303);
      assert.equal(right.headers.get('location'), '/');
      const cookie = right.headers.get('set-cookie')!;
      assert.match(cookie, /HttpOnly; SameSite=Strict/);
      const session = cookie.split(';')[0]!;
      const page = await fetch(`${s.url}/`, { headers: { cookie: session } });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<script type="module" src="\/app\/dashboard\/app\.js"><\/script>/);
      assert.equal((await fetch(`${s.url}/status`, { headers: { cookie: session } })).status, 200);
      assert.equal((await fetch(`${s.url}/login`)).status, 200, 'the form itself needs no token');
    } finally {
      await s.close();
    }
  });

  it('read-only: anything but GET and HEAD is 405 (the one POST is the login form)', async () => {
    const s = await server();
    try {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        const res = await fetch(`${s.url}/status`, { method });
        assert.equal(res.status, 405, method);
        assert.equal(res.headers.get('allow'), 'GET, HEAD');
      }
      assert.equal((await fetch(`${s.url}/login`, { method: 'POST', body: 'token=x' })).status, 405, 'no token, no login');
      const head = await fetch(`${s.url}/status`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), '');
    } finally {
      await s.close();
    }
  });

  it('serves the page with a Content-Security-Policy, uPlot from the package, and nothing outside dist/web', async () => {
    const s = await server();
    try {
      const page = await fetch(`${s.url}/`);
      assert.equal(page.status, 200);
      assert.equal(page.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
      assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval|\*/);
      const html = await page.text();
      assert.doesNotMatch(html, /<script>|<script [^>]*>[^<]|<style|style=|https?:\/\//, 'no inline script or style, nothing from elsewhere');
      for (const [path, type] of [
        ['/vendor/uPlot.iife.min.js', /^text\/javascript/],
        ['/vendor/uPlot.min.css', /^text\/css/],
        ['/app/dashboard/app.js', /^text\/javascript/],
        ['/app/telemetry/format.js', /^text\/javascript/],
        ['/dashboard.css', /^text\/css/],
        ['/favicon.svg', /^image\/svg\+xml/],
      ] as const) {
        const res = await fetch(s.url + path);
        assert.equal(res.status, 200, path);
        assert.match(res.headers.get('content-type')!, type, path);
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      }
      for (const path of ['/app/../../package.json', '/app/%2e%2e/%2e%2e/package.json', '/app/..%2f..%2fpackage.json', '/app/dashboard/app.ts', '/app/%E0%A4%A.js', '/vendor/uPlot.esm.js']) {
        assert.equal((await fetch(s.url + path)).status, 404, path);
      }
    } finally {
      await s.close();
    }
  });

  it('rate-limits per client address with the injected clock: 429 and Retry-After, then served again', async () => {
    let now = 0;
    const s = await server({ rateLimit: { capacity: 3, refillPerSecond: 1 }, now: () => now });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await fetch(`${s.url}/status`)).status, 200);
      const limited = await fetch(`${s.url}/status`);
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('retry-after'), '1');
      now += 1000;
      assert.equal((await fetch(`${s.url}/status`)).status, 200);
    } finally {
      await s.close();
    }
  });

  it('a wrong token costs more than a request: guessing is slowed to a crawl', async () => {
    let now = 0;
    const s = await server({ token: TOKEN, rateLimit: { capacity: 20, refillPerSecond: 1 }, now: () => now });
    try {
      assert.equal((await fetch(`${s.url}/status`, { headers: { authorization: 'Bearer guess-number-one-xx' } })).status, 401);
      assert.equal((await fetch(`${s.url}/status`, { headers: { authorization: 'Bearer guess-number-two-xx' } })).status, 401);
      // 2 requests + 2 × 10 for the failures: the bucket of 20 is empty.
      assert.equal((await fetch(`${s.url}/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 429);
      now += 1000;
      assert.equal((await fetch(`${s.url}/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
    } finally {
      await s.close();
    }
  });
});

describe('a token-protected miner, its log, and `status`', { timeout: 60_000 }, () => {
  it('logs the dashboard URL but never the token; `status` needs --status-token or its variable', async () => {
    const { dir, cleanup } = await tempDir();
    const lines: string[] = [];
    const rec = await Recorder.start({
      config: { network: 'regtest', reportDir: join(dir, 'reports'), metricsPort: 0, metricsHost: '0.0.0.0', statusToken: TOKEN, logFormat: 'json' },
      log: (level, msg, fields) => lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`),
    });
    try {
      const url = rec.metricsUrl!.replace('0.0.0.0', '127.0.0.1');
      assert.ok(lines.some((l) => /dashboard on http:\/\/0\.0\.0\.0:\d+\/ \(token required\)/.test(l)), lines.join('\n'));
      const env = CLEAN_ENV;
      const without = await runCli(['status', '--url', url], { env });
      assert.equal(without.code, 2);
      assert.match(without.stderr, /^solominer status: http:\/\/127\.0\.0\.1:\d+\/status: 401 unauthorized: this status port needs its token \(--status-token or SOLOMINER_STATUS_TOKEN\)\n$/);
      const wrong = await runCli(['status', '--url', url, '--status-token', 'wrong-token-wrong-token'], { env });
      assert.equal(wrong.code, 2);
      assert.ok(!wrong.stderr.includes('wrong-token-wrong-token'), 'the token given is not echoed');
      const byFlag = await runCli(['status', '--json', '--url', url, '--status-token', TOKEN], { env });
      assert.equal(byFlag.code, 0, byFlag.stderr);
      assert.equal((JSON.parse(byFlag.stdout) as { network: string }).network, 'regtest');
      const byEnv = await runCli(['status', '--url', url], { env: { ...env, SOLOMINER_STATUS_TOKEN: TOKEN } });
      assert.equal(byEnv.code, 0, byEnv.stderr);
      assert.match(byEnv.stdout, /^regtest miner up/);
      rec.error('node-warning', 'warning', 'something', 'kept mining');
    } finally {
      await rec.close();
      await cleanup();
    }
    assert.ok(lines.length > 0);
    for (const l of lines) assert.ok(!l.includes(TOKEN), `a log line holds the token: ${l}`);
  });
});
