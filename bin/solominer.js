#!/usr/bin/env node
// `npx solominer <command>`: runs the compiled CLI (npm install compiles it into dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const entry = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(entry)) {
  process.stderr.write('solominer: not built yet: run npm install in the repository root\n');
  process.exit(1);
}
const { main } = await import(pathToFileURL(entry).href);
const code = await main(process.argv.slice(2));
// Sockets a command opened (a longpoll in flight, ZMQ) must not keep a finished command alive.
process.exit(code);
