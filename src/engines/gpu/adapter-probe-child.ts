// Run by gpu/adapter-probe.ts as a child process: loads Dawn, asks for adapters and prints how
// many it found as one JSON line on stdout. Whatever Dawn prints to stderr goes to the parent,
// which keeps it off the terminal.
import { listAdapters, openWebGpu } from './adapters.js';

const { gpu } = await openWebGpu();
const adapters = await listAdapters(gpu);
process.stdout.write(`${JSON.stringify({ adapters: adapters.map((a) => a.info.name) })}\n`);
// The GPU instance would keep the process alive (the binding holds it): leave at once.
process.exit(0);
