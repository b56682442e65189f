#!/usr/bin/env node
// `npm pack` / `npm publish`, before the tarball is made (package.json "prepack"; "prepare"
// compiles the TypeScript right after): builds the prebuilt addons (scripts/prebuild.mjs, every
// target unless $SOLOMINER_PREBUILD_TARGETS narrows them) and empties dist/src and dist/web, so
// that the compile that follows leaves no file of a source that no longer exists in the package.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { PrebuildError, prebuildAll, requestedTargets } from './prebuild.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
try {
  prebuildAll(requestedTargets([]), { only: true });
} catch (err) {
  if (!(err instanceof PrebuildError)) throw err;
  console.error(`prepack: ${err.message}`);
  console.error('prepack: SOLOMINER_PREBUILD_TARGETS=linux-x64 npm pack makes a package with only the targets this machine can build');
  process.exit(1);
}
for (const dir of ['src', 'web']) rmSync(join(ROOT, 'dist', dir), { recursive: true, force: true });
