// HTML with every interpolated value escaped: html`<td>${text}</td>` escapes
// text; a nested html`` fragment (or an array of them) goes in as it is.
// Small enough to read in full, so the report pages need no template engine.

/** Markup that is already safe: made only by html`` or raw(). */
export class SafeHtml {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for element content and for quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function piece(value: unknown): string {
  if (value instanceof SafeHtml) return value.html;
  if (Array.isArray(value)) return value.map(piece).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/** Tagged template: interpolations are escaped unless they are SafeHtml (or arrays of it); null, undefined and false print nothing. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0];
  values.forEach((value, i) => {
    out += piece(value) + strings[i + 1];
  });
  return new SafeHtml(out);
}

/** Trusted markup (inline CSS or JS written in this package): no escaping. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** Data for an inline <script type="application/json">: no `</script>`, no `<!--` can end it early. */
export function jsonScript(id: string, data: unknown): SafeHtml {
  const text = JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return raw(`<script type="application/json" id="${escapeHtml(id)}">${text}</script>`);
}

/**
 * One self-contained page: inline CSS and JS only. The CSP forbids every
 * fetch (scripts, styles, images, fonts, frames, connections) other than the
 * page's own inline code and data: URLs, and the data: icon keeps the browser
 * from asking for /favicon.ico. Links still navigate when followed.
 */
export function page(title: string, css: string, body: SafeHtml, script = ''): string {
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${title}</title>
<style>${raw(css)}</style>
</head>
<body>
${body}
${script ? raw(`<script>${script}</script>`) : ''}
</body>
</html>
`.html;
}

/** Shared look of the report and index pages. */
export const BASE_CSS = `
:root { color-scheme: light; --pass: #1a7f37; --fail: #cf222e; --muted: #57606a; --line: #d0d7de; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; padding: 16px 24px 48px; max-width: 1280px; color: #1f2328; }
h1 { font-size: 22px; margin: 4px 0 8px; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
h2 { font-size: 16px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 16px 0 6px; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
table { border-collapse: collapse; margin: 4px 0; }
th, td { text-align: left; padding: 3px 10px 3px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 12px; color: #fff; font-weight: 700; letter-spacing: .04em; font-size: 13px; }
.verdict.pass { background: var(--pass); } .verdict.fail { background: var(--fail); }
.verdict.none { background: var(--muted); }
.ok { color: var(--pass); } .bad { color: var(--fail); font-weight: 600; } .muted { color: var(--muted); }
tr.mismatch td { background: #ffebe9; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
a { color: #0969da; }
details > summary { cursor: pointer; font-weight: 600; margin: 6px 0; }
`;
