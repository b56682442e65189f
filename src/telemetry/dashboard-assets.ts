// The files of the dashboard page, served by the status server from the package itself: the
// HTML and CSS from src/dashboard/, the page's scripts as compiled by tsconfig.dashboard.json
// into dist/web/, and uPlot from node_modules. Nothing comes from a CDN, so the page works offline.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root, from dist/src/telemetry/ (where this file runs compiled). */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PAGE_DIR = join(PACKAGE_ROOT, 'src', 'dashboard');
const SCRIPT_DIR = join(PACKAGE_ROOT, 'dist', 'web');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/** A request path the server does not know, or a file the build did not produce. */
export class AssetMissingError extends Error {
  override readonly name = 'AssetMissingError';
}

function uplotDir(): string {
  // uPlot's package.json has no "exports": its dist/ files are reachable by path.
  return join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
}

/** Where a request path's file is, or undefined when the path is not one the page uses. */
export function assetFile(path: string): string | undefined {
  switch (path) {
    case '/':
    case '/index.html':
      return join(PAGE_DIR, 'index.html');
    case '/login':
      return join(PAGE_DIR, 'login.html');
    case '/dashboard.css':
    case '/favicon.svg':
      return join(PAGE_DIR, path.slice(1));
    case '/vendor/uPlot.iife.min.js':
    case '/vendor/uPlot.min.css':
      return join(uplotDir(), path.slice('/vendor/'.length));
  }
  if (path.startsWith('/app/') && path.endsWith('.js')) {
    // Only files below dist/web: "..", "%2e%2e" and backslashes lead nowhere else.
    const file = normalize(join(SCRIPT_DIR, decodeURIComponent(path.slice('/app/'.length))));
    return file.startsWith(SCRIPT_DIR + sep) && !file.includes('\0') ? file : undefined;
  }
  return undefined;
}

export class DashboardAssets {
  private readonly cache = new Map<string, Asset>();

  /** The asset at a request path; undefined for a path that is not the page's. */
  async get(path: string): Promise<Asset | undefined> {
    let file: string | undefined;
    try {
      file = assetFile(path);
    } catch {
      return undefined; // a malformed %-escape
    }
    if (file === undefined) return undefined;
    const cached = this.cache.get(file);
    if (cached) return cached;
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && path.startsWith('/app/')) return undefined;
      throw new AssetMissingError(`dashboard: cannot read ${file} (${code ?? 'error'}): run npm run build`);
    }
    const asset = { type: TYPES[extname(file)] ?? 'application/octet-stream', body };
    this.cache.set(file, asset);
    return asset;
  }
}
