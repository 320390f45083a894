// One table of error codes (src/shared/errorCodes.ts): every code the sources throw is in it, and every code in it is
// still thrown somewhere. The compiler checks literal codes already; this also catches codes built at run time that
// reach the constructors through a variable, and entries left behind when the last thrower went.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, isErrorCode } from '../../../src/shared/errorCodes';
import { RouteT2IError } from '../../../src/router/errors';

const ROOT = join(__dirname, '..', '..', '..');
/** The product and the repository's own scripts (they throw the same errors). */
const TREES = ['src', 'scripts', 'bench'].map((d) => join(ROOT, d));
const all = (): string[] => TREES.flatMap(sources);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = join(dir, name);
    if (statSync(file).isDirectory()) return sources(file);
    return /\.(ts|svelte)$/.test(name) ? [file] : [];
  });
}

/** The codes passed as string literals to the error constructors and to helpers that build a BackendError. */
function thrownCodes(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  // `new RouteT2IError('code'`, `new BackendError('code'`, and the backends' `fail('code'`-style helpers that take the
  // code first; also `code: 'x'` where a BackendError's fields are spelled out.
  const pattern = /\b(?:RouteT2IError|BackendError|backendError|failWith)\(\s*'([a-z0-9-]+)'/g;
  for (const file of all()) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(pattern)) {
      const list = found.get(m[1]!) ?? [];
      list.push(file.slice(ROOT.length + 1));
      found.set(m[1]!, list);
    }
  }
  return found;
}

describe('error codes', () => {
  it('every code the sources throw is in the table', () => {
    const thrown = thrownCodes();
    assert.ok(thrown.size > 50, `the scan finds the throwers (${thrown.size} codes)`);
    const missing = [...thrown].filter(([code]) => !isErrorCode(code)).map(([code, files]) => `${code} (${files[0]})`);
    assert.deepEqual(missing, []);
  });

  it('every code in the table is used somewhere in the sources', () => {
    const text = all()
      .filter((f) => !f.endsWith('errorCodes.ts'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const unused = Object.keys(ERROR_CODES).filter((code) => !text.includes(`'${code}'`));
    assert.deepEqual(unused, []);
  });

  it('tells codes from other strings', () => {
    assert.equal(isErrorCode('no-such-file'), true);
    assert.equal(isErrorCode('toString'), false, 'not a property of every object');
    assert.equal(isErrorCode('no-such-code'), false);
    assert.equal(new RouteT2IError('bad-pairs', 'x').code, 'bad-pairs');
  });
});
