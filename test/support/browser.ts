// Headless Chromium for the browser tests, driven by playwright-core (which never downloads a
// browser of its own: it is always given the executable). The browser is Debian's: the one named
// by $SOLOMINER_CHROMIUM (npm test sets it), else /usr/bin/chromium when installed, else the copy
// scripts/provision-browser.sh unpacked into .cache/browser (npm test provisions it first).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { chromium, type Browser, type Page } from 'playwright-core';

/** The repository root, from dist/test/support/ (compiled) as from test/support/. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PROVISIONED = `${REPO_ROOT}.cache/browser/browser.json`;
const SYSTEM = '/usr/bin/chromium';

/**
 * The flags every start uses: as root Chromium's sandbox cannot start; this machine's network is
 * closed, so background connections (updates, sync, QUIC probes) would only fail, and slowly.
 */
export const HEADLESS_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export class BrowserUnavailableError extends Error {
  override name = 'BrowserUnavailableError';
}

/** The Chromium executable to drive, or a BrowserUnavailableError saying how to get one. */
export function findChromium(): string {
  const named = process.env.SOLOMINER_CHROMIUM;
  if (named) {
    if (existsSync(named)) return named;
    throw new BrowserUnavailableError(`browser: $SOLOMINER_CHROMIUM=${named} does not exist`);
  }
  if (existsSync(SYSTEM)) return SYSTEM;
  if (existsSync(PROVISIONED)) {
    const parsed: unknown = JSON.parse(readFileSync(PROVISIONED, 'utf8'));
    const path = typeof parsed === 'object' && parsed !== null ? (parsed as { executablePath?: unknown }).executablePath : undefined;
    if (typeof path !== 'string') throw new BrowserUnavailableError(`browser: ${PROVISIONED}: expected {"executablePath": string}, got ${JSON.stringify(parsed)}`);
    if (existsSync(path)) return path;
    throw new BrowserUnavailableError(`browser: ${PROVISIONED} names ${path}, which does not exist: run bash scripts/provision-browser.sh`);
  }
  throw new BrowserUnavailableError(
    `browser: no Chromium (${SYSTEM} is not installed and ${PROVISIONED} is missing): run bash scripts/provision-browser.sh, or npm test, which runs it`,
  );
}

/** A launched browser; close() ends its process and removes its profile. */
export interface HeadlessBrowser {
  readonly browser: Browser;
  readonly executablePath: string;
  /** A new page in its own context, recording console errors and uncaught page errors. */
  newPage(): Promise<{ page: Page; errors: string[] }>;
  close(): Promise<void>;
}

/**
 * Starts headless Chromium. Playwright gives every launch a fresh, empty user-data-dir in the
 * temporary folder and removes it on close.
 */
export async function launchBrowser(options: { timeoutMs?: number } = {}): Promise<HeadlessBrowser> {
  const executablePath = findChromium();
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [...HEADLESS_ARGS],
    timeout: options.timeoutMs ?? 30_000,
  });
  return {
    browser,
    executablePath,
    async newPage() {
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`console: ${message.text()}`);
      });
      page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
      return { page, errors };
    },
    close: () => browser.close(),
  };
}
