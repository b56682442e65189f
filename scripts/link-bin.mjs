#!/usr/bin/env node
// Links this package's own `solominer` bin into node_modules/.bin (run by scripts/install.mjs in
// a checkout), for npm scripts and for anyone who puts node_modules/.bin on PATH. npx itself
// runs a checkout's own bin through a link to the folder in its cache (npm 11: a package's own
// bin comes before node_modules/.bin); `npm link` puts it on PATH (README, Install).
import { mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, 'node_modules', '.bin');
const link = join(binDir, 'solominer');
const target = relative(binDir, join(root, 'bin', 'solominer.js'));

mkdirSync(binDir, { recursive: true });
let current;
try {
  current = readlinkSync(link);
} catch {
  current = undefined;
}
if (current !== target) {
  rmSync(link, { force: true });
  symlinkSync(target, link);
}
