// Runs the real `solominer` entry point as a user would, capturing output and exit code.
import { fileURLToPath } from 'node:url';

import { runNode } from './node-child.js';

export const BIN = fileURLToPath(new URL('../../../bin/solominer.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return runNode([BIN, ...args], options);
}
