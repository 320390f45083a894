import assert from 'node:assert/strict';
import { contentSecurityPolicy, makeNonce, panelHtml, scriptSafeJson } from '../../../src/extension/panel/html';
import { BOOTSTRAP_ID, type Snapshot } from '../../../src/shared/panel/protocol';

const bootstrap: Snapshot = {
  protocol: 1,
  at: 42,
  host: 'panel',
  prompt: null,
  metric: 'verdict',
};

describe('panel HTML', () => {
  it('makes a fresh 16-byte nonce each time', () => {
    const a = makeNonce();
    const b = makeNonce();
    assert.notEqual(a, b);
    assert.equal(Buffer.from(a, 'base64').length, 16);
  });

  it('allows nothing by default, scripts only by nonce, styles and images only from the extension', () => {
    const csp = contentSecurityPolicy("'self' https://*.vscode-cdn.net", 'abc123abc123abc123abc1==');
    assert.equal(
      csp,
      "default-src 'none'; img-src 'self' https://*.vscode-cdn.net; style-src 'self' https://*.vscode-cdn.net; script-src 'nonce-abc123abc123abc123abc1=='; base-uri 'none'; form-action 'none'",
    );
    assert.doesNotMatch(csp, /unsafe-/);
    assert.equal(
      csp.split('; ').find((d) => d.startsWith('script-src')),
      "script-src 'nonce-abc123abc123abc123abc1=='",
    );
  });

  it('loads the bundle by nonce and carries the bootstrap as inert JSON', () => {
    const nonce = makeNonce();
    const html = panelHtml({
      cspSource: 'vscode-resource:',
      nonce,
      scriptUri: 'vscode-resource:/ext/dist/webview/panel.js',
      styleUri: 'vscode-resource:/ext/dist/webview/panel.css',
      bootstrap: { ...bootstrap, metric: '</script><script>alert(1)</script>' },
      title: 'RouteT2I',
    });
    assert.match(
      html,
      new RegExp(
        `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; [^"]*script-src 'nonce-${nonce.replace(/[+/=]/g, '\\$&')}'`,
      ),
    );
    assert.match(html, /<link rel="stylesheet" href="vscode-resource:\/ext\/dist\/webview\/panel\.css">/);
    assert.match(
      html,
      new RegExp(
        `<script nonce="${nonce.replace(/[+/=]/g, '\\$&')}" src="vscode-resource:/ext/dist/webview/panel\\.js"></script>`,
      ),
    );
    // Every script element carries the nonce; the injected closing tag is escaped, not markup.
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    assert.equal(scripts.length, 2);
    for (const s of scripts) assert.ok(s.includes(`nonce="${nonce}"`), s);
    const data = new RegExp(`<script nonce="[^"]+" type="application/json" id="${BOOTSTRAP_ID}">(.*?)</script>`).exec(
      html,
    )![1]!;
    assert.deepEqual(JSON.parse(data), { ...bootstrap, metric: '</script><script>alert(1)</script>' });
    assert.match(html, /<div id="app" data-host="panel"><\/div>/);
    assert.doesNotMatch(html, /style="/);
  });

  it('refuses a nonce that is not base64 of enough random bytes', () => {
    const options = { cspSource: 'x', scriptUri: 'a', styleUri: 'b', bootstrap, title: 't' };
    assert.throws(() => panelHtml({ ...options, nonce: 'short' }), /nonce/);
    assert.throws(() => panelHtml({ ...options, nonce: "abc'; script-src *; '123456789" }), /nonce/);
  });

  it('escapes what could end a script element or a JavaScript string', () => {
    assert.equal(
      scriptSafeJson({ a: '</script>&<!--\u2028\u2029' }),
      '{"a":"\\u003c/script\\u003e\\u0026\\u003c!--\\u2028\\u2029"}',
    );
    assert.deepEqual(JSON.parse(scriptSafeJson({ a: '</script>&<!--\u2028' })), { a: '</script>&<!--\u2028' });
  });
});
