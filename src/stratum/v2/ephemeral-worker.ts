/**
 * The worker thread of ephemeral-keys.ts: makes fresh handshake keys (a secret and its
 * ElligatorSwift encoding, §4.3.1.1) when asked, a few at a time so that the pool has the first
 * ones quickly. Only key generation happens here; every key is sent once and kept nowhere.
 * @module
 */
import { parentPort } from 'node:worker_threads';

import { generateEllswiftKey, type EllswiftKey } from './noise.js';

/** Keys sent per message: small, so that a pool running dry gets keys within milliseconds. */
const BATCH = 4;

const port = parentPort;
if (port === null) throw new Error('ephemeral-worker: expected to run as a worker thread');
port.on('message', (count: number) => {
  for (let made = 0; made < count; made += BATCH) {
    const keys: EllswiftKey[] = [];
    for (let i = made; i < Math.min(count, made + BATCH); i++) keys.push(generateEllswiftKey());
    port.postMessage(keys);
  }
});
