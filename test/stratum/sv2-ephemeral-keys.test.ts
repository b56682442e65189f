// Stratum V2 handshake keys made ahead on a worker thread (src/stratum/v2/ephemeral-keys.ts):
// each a valid key pair (its ElligatorSwift encoding decodes to the secret's x-only key, §4.3.1.1),
// never two alike, handed out once; with none ready, or the thread stopped, a key is made on the
// spot; the thread starts at the first use; keys not handed out are zeroed at close. A pool's handshake with such a key completes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ServerIdentity } from '../../src/stratum/v2/authority.js';
import { EphemeralKeys } from '../../src/stratum/v2/ephemeral-keys.js';
import { decodeEllswift, NoiseInitiator, xOnlyPublicKey } from '../../src/stratum/v2/noise.js';

describe('Stratum V2 ephemeral keys made ahead', { timeout: 60_000 }, () => {
  it('valid, distinct keys from the thread; made on the spot when none is ready; zeroed at close', async () => {
    const keys = new EphemeralKeys(8);
    assert.equal(keys.running, false, 'no thread before the first handshake asks for a key');
    try {
      await keys.whenReady(8);
      assert.equal(keys.running, true);
      assert.equal(keys.available, 8);
      const taken = Array.from({ length: 12 }, () => keys.take());
      assert.ok(keys.madeInline >= 4, `${keys.madeInline} keys made on the spot once the 8 ready were taken`);
      const secrets = new Set(taken.map((k) => Buffer.from(k.secret).toString('hex')));
      assert.equal(secrets.size, taken.length, 'never the same key twice');
      for (const k of taken) assert.deepEqual(Buffer.from(decodeEllswift(k.ellswift)), Buffer.from(xOnlyPublicKey(k.secret)));
      // Taking refilled the pool from the thread.
      await keys.whenReady(4);
      const held = keys.take();
      assert.equal(held.secret.length, 32);
    } finally {
      await keys.close();
    }
    assert.equal(keys.available, 0, 'what was not handed out is gone');
    assert.equal(keys.running, false);
    const after = keys.take();
    assert.deepEqual(Buffer.from(decodeEllswift(after.ellswift)), Buffer.from(xOnlyPublicKey(after.secret)), 'a key is still made after close');
  });

  it('a handshake with a key made ahead: the miner gets the session and the server identity', async () => {
    const keys = new EphemeralKeys(4);
    try {
      await keys.whenReady(1);
      const identity = new ServerIdentity({ authoritySecret: Uint8Array.from({ length: 32 }, (_, i) => i + 7) });
      const miner = new NoiseInitiator();
      const ephemeral = keys.take();
      const { reply, session } = identity.responder(() => ephemeral).respond(miner.start());
      assert.deepEqual(reply.subarray(0, 64), Buffer.from(ephemeral.ellswift), "act 2 starts with the key made ahead");
      const { session: mine } = miner.finish(reply);
      assert.equal(session.recv.decryptWithAd(new Uint8Array(0), mine.send.encryptWithAd(new Uint8Array(0), Buffer.from('hi'))).toString(), 'hi');
    } finally {
      await keys.close();
    }
  });
});
