#!/usr/bin/env node
// The package's install script (package.json "install"); docs/install.md tells the whole story.
//
// In a checkout (a .git beside package.json): builds the addon from source, as a developer
// expects after changing native/, and links the `solominer` bin into node_modules/.bin. When
// `npx solominer` links a checkout into npx's cache before `npm install` (no dependencies yet),
// it says what to do in one line and succeeds: a failure would leave npx's cache entry half-made
// and every later `npx solominer` in the folder failing until the entry is removed.
//
// In an installed package: checks the prebuilt addon for this platform in a child process (it
// loads, and its back ends pass their self-test against the scalar reference) and prints one
// line. Where none fits (another OS, architecture or C library, too old a glibc, a corrupted
// file), it says why in one line and builds from source; a missing compiler is one more line
// naming what to install. SOLOMINER_BUILD_FROM_SOURCE=1 or `npm install --build-from-source`
// builds from source even where a prebuilt fits.
//
// Nothing here is needed for a prebuilt to work: the addon loader picks the prebuilt at run time
// (src/native/addon-loader.ts), so an install whose scripts npm did not run (--ignore-scripts,
// or an allowScripts policy that does not name solominer) still mines.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const say = (line) => console.error(`solominer: ${line}`);

function run(script, extraEnv = {}) {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', script)], { stdio: 'inherit', env: { ...process.env, ...extraEnv } });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/** Loads the prebuilt in a child process (a crash there cannot take the install down): its origin and back ends, or why not. */
function checkPrebuilt() {
  const loader = pathToFileURL(join(ROOT, 'dist', 'src', 'native', 'addon.js')).href;
  const script = `
    const m = await import(${JSON.stringify(loader)});
    try {
      const a = m.nativeAddon('prebuilt');
      const usable = a.backends().filter((b) => b.usable).map((b) => b.description);
      console.log(JSON.stringify({ ok: true, origin: m.nativeAddonOrigin(), usable }));
    } catch (err) {
      console.log(JSON.stringify({ ok: false, why: err.message }));
    }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last);
  } catch {
    const why = r.signal ? `the check was killed by ${r.signal}` : (r.stderr ?? '').trim().split('\n').pop() || `exit ${r.status}`;
    return { ok: false, why };
  }
}

const checkout = existsSync(join(ROOT, '.git'));
const fromSource = process.env.SOLOMINER_BUILD_FROM_SOURCE === '1' || process.env.npm_config_build_from_source === 'true';

if (checkout && process.env.npm_command === 'exec' && !existsSync(join(ROOT, 'node_modules', 'cmake-js'))) {
  say(`not installed yet: run npm install in ${ROOT}, then npx solominer runs this checkout`);
} else if (checkout) {
  run('build-native.mjs');
  run('link-bin.mjs');
} else if (fromSource) {
  say('building the native engine from source, as asked (SOLOMINER_BUILD_FROM_SOURCE or --build-from-source)');
  run('build-native.mjs', { SOLOMINER_BUILD_REASON: 'asked for' });
} else if (!existsSync(join(ROOT, 'prebuilds', 'manifest.json')) || !existsSync(join(ROOT, 'dist', 'src', 'native', 'addon.js'))) {
  // A copy of the sources without .git (an archive of the repository): nothing prebuilt here.
  say('native engine: no prebuilt addons in this copy; building it from source');
  run('build-native.mjs', { SOLOMINER_BUILD_REASON: 'no prebuilt addons in this copy' });
} else {
  const check = checkPrebuilt();
  if (check.ok) {
    say(`native engine: the prebuilt for ${check.origin.target} loads here; back ends ${check.usable.join(', ')}`);
    for (const note of check.origin.notes) say(note);
  } else {
    // "the native engine is not available for linux-x64: <why>; build it ..." → the why.
    const why = String(check.why).replace(/^the native engine is not available for [^:]+: /, '').replace(/; build it from source.*$/, '');
    say(`native engine: no prebuilt fits this system (${why}); building it from source`);
    run('build-native.mjs', { SOLOMINER_BUILD_REASON: 'no prebuilt fits this system' });
  }
}
