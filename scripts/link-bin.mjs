#!/usr/bin/env node
// Links this package's own `solominer` bin into node_modules/.bin, so `npx solominer` in the
// repository root runs the checkout itself. Without the link, npx would install the folder
// into its own cache (a second build) before every first run.
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
