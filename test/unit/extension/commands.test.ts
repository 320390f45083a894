import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { COMMANDS } from '../../../src/shared/commands';

describe('command ids', () => {
  it('are exactly the commands package.json contributes', () => {
    const pkg = JSON.parse(readFileSync(resolve(__dirname, '../../../package.json'), 'utf8')) as {
      contributes: { commands: Array<{ command: string }> };
    };
    assert.deepEqual(Object.values(COMMANDS).sort(), pkg.contributes.commands.map((c) => c.command).sort());
  });
});
