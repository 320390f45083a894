// The panel's HTML: a strict content security policy, the bundle by a fresh nonce, and the bootstrap state as a JSON
// data block. Pure (no `vscode`): the host passes the webview's CSP source and resource URIs in.
import { randomBytes } from 'node:crypto';
import { BOOTSTRAP_ID, type Snapshot } from '../../shared/panel/protocol';

/** A fresh nonce: 16 random bytes, base64 (what CSP's nonce-source expects). */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

export interface PanelHtmlOptions {
  /** `webview.cspSource`: the origin of the extension's own resources. */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  bootstrap: Snapshot;
  title: string;
}

/**
 * `default-src 'none'`: nothing loads unless named. Scripts run only with the nonce (no inline handlers, no eval);
 * styles and images come only from the extension's resource origin (the bundle and the generated-images folder, as
 * `localResourceRoots` allows). No fonts, frames, workers or network connections.
 */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource}`,
    `style-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

const escapeAttribute = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** JSON that is safe inside a `<script>` element: no `</script>`, no `<!--`, no line separators that end a string. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function panelHtml(options: PanelHtmlOptions): string {
  const { cspSource, nonce, scriptUri, styleUri, bootstrap, title } = options;
  if (!/^[A-Za-z0-9+/=]{16,}$/.test(nonce))
    throw new Error('the panel nonce must be base64 of at least 12 random bytes');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(contentSecurityPolicy(cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeAttribute(title)}</title>
<link rel="stylesheet" href="${escapeAttribute(styleUri)}">
</head>
<body>
<div id="app" data-host="${bootstrap.host}"></div>
<script nonce="${nonce}" type="application/json" id="${BOOTSTRAP_ID}">${scriptSafeJson(bootstrap)}</script>
<script nonce="${nonce}" src="${escapeAttribute(scriptUri)}"></script>
</body>
</html>`;
}
