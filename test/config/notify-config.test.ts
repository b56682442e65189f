// --notify (a repeatable field) and --on-block through every source: repeated flags (parseArgs
// and commander), a comma- or space-separated variable, a JSON array or a string in the file;
// errors and the start-up description never show a URL's credentials nor the command.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { loadMineConfig } from '../../src/config/load-config.js';
import { describeConfig, MINE_FIELDS } from '../../src/config/mine-config.js';
import { addFieldOptions, fieldValues, newCommand } from '../../src/cli/command-kit.js';
import { ADDRESS, failure, load } from './_support.js';

const A = 'https://ntfy.sh/alerts-one';
const B = 'https://discord.com/api/webhooks/1/tok';
const C = 'http://127.0.0.1:8080/hook';

describe('--notify and --on-block configuration', { timeout: 30_000 }, () => {
  it('takes a list from repeated flags, a separated variable, or an array or string in the file (flags win)', async () => {
    const fromFlags = await load({ argv: ['--address', ADDRESS, '--notify', A, '--notify', B], env: { SOLOMINER_NOTIFY: C }, file: { notify: [C] } });
    assert.deepEqual(fromFlags.notify, [A, B]);
    assert.deepEqual((await load({ argv: ['--address', ADDRESS], env: { SOLOMINER_NOTIFY: `${A}, ${B}  ${C}` } })).notify, [A, B, C]);
    assert.deepEqual((await load({ argv: ['--address', ADDRESS], file: { notify: [B, A, B] } })).notify, [B, A], 'duplicates dropped');
    assert.deepEqual((await load({ argv: ['--address', ADDRESS], file: { notify: `${A},${C}` } })).notify, [A, C]);
    assert.deepEqual((await load({ argv: ['--address', ADDRESS] })).notify, []);
    const onBlock = await load({ argv: ['--address', ADDRESS], env: { SOLOMINER_ON_BLOCK: 'logger -t solominer %s' } });
    assert.equal(onBlock.onBlock, 'logger -t solominer %s');
  });

  it('commander collects repeated --notify flags into the same list', async () => {
    const cmd = newCommand('x', 'test');
    addFieldOptions(cmd, MINE_FIELDS);
    cmd.parse(['--address', ADDRESS, '--notify', A, '--notify', C], { from: 'user' });
    const c = await loadMineConfig({ flags: fieldValues(cmd, MINE_FIELDS), env: {}, cwd: process.cwd() });
    assert.deepEqual(c.notify, [A, C]);
  });

  it('a bad URL is named by its source without echoing what may be a secret', async () => {
    assert.equal(
      await failure({ argv: ['--address', ADDRESS, '--notify', 'ftp://bob:pw-secret@x/'] }),
      '--notify: expected an http:// or https:// URL (ntfy, a Discord webhook or any JSON webhook), got (not a URL)',
    );
    const env = await failure({ argv: ['--address', ADDRESS], env: { SOLOMINER_NOTIFY: 'https://u:pw-secret@ok.example/h?t=tok-secret,smtp:x' } });
    assert.match(env, /^SOLOMINER_NOTIFY: expected .*, got https:\/\/\*\*\*@ok\.example\/h\?t=\*\*\*, \(not a URL\)$/);
    assert.ok(!env.includes('secret'));
    const file = await failure({ argv: ['--address', ADDRESS], file: { notify: [42] } });
    assert.match(file, /^config\.json notify: expected .*, got 42$/);
  });

  it('the start-up description shows the URLs redacted and never the --on-block command', async () => {
    const c = await load({ argv: ['--address', ADDRESS, '--notify', 'https://me:pw-secret@ntfy.example.org/topic-secret?auth=tk-secret', '--on-block', 'curl -H "Authorization: Bearer tk-secret" x'] });
    const line = describeConfig(c);
    assert.ok(line.includes('notify="https://***@ntfy.example.org/***?auth=***"'), line);
    assert.match(line, /onBlock=\*\*\*/);
    assert.ok(!line.includes('secret'), line);
    assert.ok(!describeConfig(await load({ argv: ['--address', ADDRESS] })).includes('notify='), 'an empty list is not listed');
  });
});
