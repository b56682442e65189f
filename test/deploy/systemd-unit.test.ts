// contrib/systemd/solominer.service: hardened like Bitcoin Core's unit, but without what kills
// V8, and with a bad configuration (exit 2) not restarted in a loop; verified by systemd itself
// where systemd-analyze exists.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const UNIT = join(ROOT, 'contrib/systemd/solominer.service');

function directives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

describe('systemd unit', { timeout: 30_000 }, () => {
  const text = readFileSync(UNIT, 'utf8');
  const d = directives(text);

  it('runs mine through bin/solominer.js, stops with SIGTERM, never restarts a bad configuration', () => {
    assert.match(d.get('ExecStart')?.[0] ?? '', /bin\/solominer\.js mine /);
    assert.deepEqual(d.get('KillSignal'), ['SIGTERM']);
    assert.deepEqual(d.get('Restart'), ['on-failure']);
    assert.deepEqual(d.get('RestartPreventExitStatus'), ['2']);
    // solominer stop finds the miner through its pid file, in the runtime folder systemd makes.
    assert.match(d.get('ExecStart')?.[0] ?? '', / --pid-file \/run\/solominer\/solominer\.pid( |$)/);
    assert.deepEqual(d.get('RuntimeDirectory'), ['solominer']);
  });

  it('is hardened, but without MemoryDenyWriteExecute (V8 writes machine code)', () => {
    assert.equal(d.has('MemoryDenyWriteExecute'), false);
    for (const key of ['NoNewPrivileges', 'PrivateTmp', 'ProtectHome', 'ProtectKernelTunables', 'RestrictSUIDSGID', 'LockPersonality']) {
      assert.deepEqual(d.get(key), ['true'], key);
    }
    assert.deepEqual(d.get('User'), ['solominer']);
  });

  it('passes systemd-analyze verify', (t) => {
    const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (probe.error) {
      t.skip('systemd-analyze is not on this machine');
      return;
    }
    // verify checks that ExecStart's program exists: point it at this checkout and this node.
    const dir = mkdtempSync(join(tmpdir(), 'solominer-unit-'));
    try {
      const local = join(dir, 'solominer.service');
      writeFileSync(local, text.replace('/usr/bin/node', process.execPath).replaceAll('/opt/solominer/', ROOT));
      const r = spawnSync('systemd-analyze', ['verify', local], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      // A directive systemd could not parse is only a warning on stderr: none may be there.
      const ours = r.stderr.split('\n').filter((l) => l.includes(local));
      assert.deepEqual(ours, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
