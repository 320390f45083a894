import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  changedKeys,
  effectiveValue,
  readSettings,
  RESTRICTED_KEYS,
  SECTION,
  SETTING_KEYS,
  SPECS,
  type Inspected,
  type SettingKey,
} from '../../../src/extension/settings/settings';

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
const properties = manifest.contributes.configuration.properties as Record<
  string,
  { default: unknown; enum?: unknown[] }
>;

function read(values: Partial<Record<SettingKey, Inspected>>, restricted = false) {
  return readSettings((key) => values[key], restricted);
}

describe('settings', () => {
  it('declares in the manifest exactly the keys it reads, with the same defaults', () => {
    assert.deepEqual(Object.keys(properties).sort(), SETTING_KEYS.map((k) => `${SECTION}.${k}`).sort());
    for (const key of SETTING_KEYS) {
      const manifestDefault = properties[`${SECTION}.${key}`]!.default;
      const ours = SPECS[key].default;
      // The manifest says "" for "no backend"; the guard reads "" as null.
      assert.deepEqual(key.startsWith('backends.') && manifestDefault === '' ? null : manifestDefault, ours, key);
      // The default passes its own guard.
      assert.ok(SPECS[key].guard(manifestDefault).ok, `${key}'s manifest default passes its guard`);
    }
  });

  it('lists the restricted keys in the manifest for untrusted workspaces', () => {
    assert.deepEqual(
      [...manifest.capabilities.untrustedWorkspaces.restrictedConfigurations].sort(),
      RESTRICTED_KEYS.map((k) => `${SECTION}.${k}`).sort(),
    );
    for (const k of [
      'model.path',
      'backends.settings',
      'backends.cloud',
      'policy.monthlyCap',
      'policy.cloudShare',
      'generation.outputFolder',
    ])
      assert.ok(RESTRICTED_KEYS.includes(k as SettingKey), k);
    assert.ok(!RESTRICTED_KEYS.includes('heat.metric'));
  });

  it('gives the defaults when nothing is set', () => {
    const { settings, problems } = read({});
    assert.deepEqual(problems, []);
    assert.equal(settings.heat.metric, 'verdict');
    assert.equal(settings.policy.cloudShare, 0.3);
    assert.equal(settings.backends.edge, null);
    assert.equal(settings.generation.outputFolder, 'generated');
  });

  it('falls back from a bad value with a message that names the setting, what it must be and what is used', () => {
    const { settings, problems } = read({
      'policy.cloudShare': { globalValue: 2 },
      'heat.metric': { workspaceValue: 'Not A Metric!' },
      'backends.edge': { globalValue: 'dalle' },
      'diagnostics.severity': { globalValue: 'loud' },
      'heat.debounceMs': { globalValue: 12.5 },
    });
    assert.equal(settings.policy.cloudShare, 0.3);
    assert.equal(settings.heat.metric, 'verdict');
    assert.equal(settings.backends.edge, null);
    assert.equal(settings.diagnostics.severity, 'information');
    assert.equal(settings.heat.debounceMs, 120);
    assert.equal(problems.length, 5);
    const share = problems.find((p) => p.key === 'routet2i.policy.cloudShare')!;
    assert.equal(
      share.message,
      'Setting "routet2i.policy.cloudShare" (user settings) must be a number from 0 to 1; got 2. Using 0.3 instead.',
    );
    assert.match(
      problems.find((p) => p.key === 'routet2i.heat.metric')!.message,
      /\(workspace settings\) must be "verdict" or a metric id/,
    );
    assert.match(problems.find((p) => p.key === 'routet2i.backends.edge')!.message, /one of comfyui, a1111/);
  });

  it('refuses keys among backend settings and unknown backends, and takes the rest as given', () => {
    const good = read({ 'backends.settings': { globalValue: { a1111: { url: 'http://127.0.0.1:7860' } } } });
    assert.deepEqual(good.settings.backends.settings, { a1111: { url: 'http://127.0.0.1:7860' } });
    const key = read({ 'backends.settings': { globalValue: { openai: { apiKey: 'sk-secret' } } } });
    assert.deepEqual(key.settings.backends.settings, {});
    assert.match(key.problems[0]!.message, /"openai.apiKey" belongs in the secret store/);
    assert.doesNotMatch(key.problems[0]!.message, /sk-secret/, 'the message never repeats a secret');
    assert.match(
      read({ 'backends.settings': { globalValue: { midjourney: {} } } }).problems[0]!.message,
      /not "midjourney"/,
    );
    assert.match(
      read({ 'policy.prices': { globalValue: { openai: -1 } } }).problems[0]!.message,
      /price from 0 to 1000 USD for "openai"/,
    );
  });

  it('in Restricted Mode ignores the workspace value of restricted keys, and says which', () => {
    const values: Partial<Record<SettingKey, Inspected>> = {
      'backends.settings': {
        globalValue: { a1111: { url: 'http://127.0.0.1:7860' } },
        workspaceValue: { a1111: { url: 'http://evil.example:80' } },
      },
      'policy.monthlyCap': { workspaceValue: 10000 },
      'model.path': { workspaceFolderValue: '../elsewhere' },
      'heat.metric': { workspaceValue: 'quality' },
    };
    const trusted = read(values, false);
    assert.equal(trusted.settings.backends.settings.a1111!.url, 'http://evil.example:80');
    assert.equal(trusted.settings.policy.monthlyCap, 10000);
    assert.deepEqual(trusted.ignored, []);
    const restricted = read(values, true);
    assert.equal(restricted.settings.backends.settings.a1111!.url, 'http://127.0.0.1:7860');
    assert.equal(restricted.settings.policy.monthlyCap, null);
    assert.equal(restricted.settings.model.path, '');
    assert.equal(restricted.settings.heat.metric, 'quality', 'unrestricted keys still come from the workspace');
    assert.deepEqual(restricted.ignored.sort(), ['backends.settings', 'model.path', 'policy.monthlyCap']);
    assert.deepEqual(effectiveValue('model.path', { workspaceValue: 'x', globalValue: 'y' }, true), {
      value: 'y',
      from: 'user',
    });
  });

  it('takes the gateway address from user settings only in Restricted Mode, and refuses one holding a password', () => {
    const values: Partial<Record<SettingKey, Inspected>> = {
      'gateway.url': { globalValue: 'https://routet2i.team.example', workspaceValue: 'http://127.0.0.1:9999' },
    };
    assert.equal(read(values, false).settings.gateway.url, 'http://127.0.0.1:9999');
    const restricted = read(values, true);
    assert.equal(restricted.settings.gateway.url, 'https://routet2i.team.example');
    assert.deepEqual(restricted.ignored, ['gateway.url']);
    assert.equal(read({}, false).settings.gateway.url, '');
    const withPassword = read({ 'gateway.url': { globalValue: 'https://me:hunter22@gw.example' } }, false);
    assert.equal(withPassword.settings.gateway.url, '');
    assert.match(withPassword.problems[0]!.message, /routet2i\.gateway\.url.*without a user or password/);
    assert.ok(!withPassword.problems[0]!.message.includes('hunter22'), 'the value is never repeated');
    assert.match(read({ 'gateway.url': { globalValue: 'ftp://gw' } }, false).problems[0]!.message, /http\(s\)/);
  });

  it('says which parts a configuration change touches', () => {
    const affects = (keys: string[]) => (k: string) => keys.some((x) => x === k || x.startsWith(`${k}.`));
    assert.deepEqual(changedKeys(affects(['editor.fontSize'])), { any: false, engine: false, keys: [] });
    const heat = changedKeys(affects(['routet2i.heat.metric']));
    assert.deepEqual(heat, { any: true, engine: false, keys: ['heat.metric'] });
    assert.equal(changedKeys(affects(['routet2i.model.path'])).engine, true);
  });
});
