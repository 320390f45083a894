import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RouteT2IError } from '../../src/router/errors';
import { PairsLog } from '../../src/router/pairsLog';
import { tempDirs } from '../support/tmp';

const pair = (id: string) => ({ id, prompt: `prompt ${id}`, edge: { a: 0.25 }, cloud: { a: 0.75 } });
const line = (id: string) => JSON.stringify(pair(id));

describe('PairsLog', () => {
  const tmp = tempDirs();

  it('creates the file (and its folder) and appends whole lines', () => {
    const file = path.join(tmp(), 'sub', 'pairs.jsonl');
    const { log, existing } = PairsLog.open(file);
    assert.equal(existing.done.size, 0);
    log.append(pair('a'));
    log.append(pair('b'));
    log.close();
    assert.equal(fs.readFileSync(file, 'utf8'), `${line('a')}\n${line('b')}\n`);
    const again = PairsLog.open(file);
    again.log.close();
    assert.deepEqual([...again.existing.done.keys()], ['a', 'b']);
    assert.deepEqual(again.existing.metrics, ['a']);
  });

  it('cuts a torn tail, but keeps a complete last line that only lacks its newline', () => {
    const file = path.join(tmp(), 'p.jsonl');
    fs.writeFileSync(file, `${line('a')}\n${line('b').slice(0, 17)}`);
    const torn = PairsLog.open(file);
    assert.equal(torn.existing.repaired, 17);
    torn.log.append(pair('b'));
    torn.log.close();
    assert.equal(fs.readFileSync(file, 'utf8'), `${line('a')}\n${line('b')}\n`);

    fs.writeFileSync(file, `${line('a')}\n${line('b')}`);
    const edited = PairsLog.open(file);
    assert.equal(edited.existing.repaired, 0);
    edited.log.append(pair('c'));
    edited.log.close();
    assert.equal(fs.readFileSync(file, 'utf8'), `${line('a')}\n${line('b')}\n${line('c')}\n`);
  });

  it('refuses a damaged line in the middle, a non-pair and a repeated id, naming the line', () => {
    const dir = tmp();
    const cases: Array<[string, RegExp]> = [
      [`${line('a')}\n{oops\n${line('b')}\n`, /p\.jsonl line 2 is not JSON/],
      [`${line('a')}\n{"id":"x"}\n`, /line 2 is not a labelled pair/],
      [`${line('a')}\n${line('a')}\n`, /line 2 repeats id "a"/],
    ];
    for (const [text, message] of cases) {
      const file = path.join(dir, 'p.jsonl');
      fs.writeFileSync(file, text);
      assert.throws(
        () => PairsLog.open(file),
        (e: unknown) => e instanceof RouteT2IError && message.test(e.message),
      );
      assert.equal(fs.readFileSync(file, 'utf8'), text, 'a refused file is left as it was');
    }
  });
});
