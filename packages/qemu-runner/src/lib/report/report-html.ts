// report.html: one self-contained page per run (inline CSS and JS, no
// request leaves it, works from file://). Built from the masked report
// document and the table's bytes with the CHAP secrets zeroed, so a secret
// never reaches the page; the secret bytes show as •• in the dump.
import { ibftFieldMap, MASKED_SECRET, type IbftField, type IbftRegionKind, type IbftTable } from '@ibft-lab/ibft';
import { IPXE_FAILURE_PATTERNS, LINUX_FAILURE_PATTERNS } from '../boot/ipxe-failures';
import { CONSUMER_TITLES, type ConsumerMismatch, type ConsumerResult } from '../consumers';
import { consumerMatrix, type MatrixCell } from './consumer-matrix';
import { chapOf, networkOf, type ReportDocument } from './document';
import { BASE_CSS, html, jsonScript, page, type SafeHtml } from './html';

export interface ReportPageInput {
  document: ReportDocument;
  /** The table's bytes with every CHAP secret zeroed (what ibft.bin holds); null when no table was found. */
  ibftBytes: Uint8Array | null;
  serialLog: string;
  /** Link to the page over all labs (the report folder is <labs>/<lab>/boot-vm: ../../index.html); none when unset. */
  indexHref?: string;
}

const REGION_NAMES: Record<IbftRegionKind | 'gap', string> = {
  'acpi-header': 'ACPI header',
  reserved: 'reserved',
  control: 'control',
  initiator: 'initiator',
  nic: 'NIC',
  target: 'target',
  heap: 'string heap',
  gap: 'padding / NUL',
};

const seconds = (ms: number | null) => (ms === null ? '–' : `${(ms / 1000).toFixed(1)} s`);
const hex2 = (b: number) => b.toString(16).padStart(2, '0');
const hexAddress = (n: number | null) => (n === null ? '–' : `0x${n.toString(16)}`);

/** One entry of the dump's field data (the page's script reads it). */
interface PageField {
  /** Path, name, structure, kind, offset, length, value, raw bytes. */
  p: string;
  n: string;
  s: string;
  k: IbftRegionKind | 'gap';
  o: number;
  l: number;
  v: string;
  r: string;
  /** compareIbft's path, and the mismatch on it. */
  c?: string;
  m?: { expected: string; actual: string };
  x?: true;
}

function slotOf(structure: string): number {
  const match = /\[(\d+)\]/.exec(structure);
  return match ? Number(match[1]) : 0;
}

/** Every byte of the table in exactly one field: the map's fields, and the bytes between them as padding. */
function pageFields(table: IbftTable, bytes: Uint8Array, doc: ReportDocument): PageField[] {
  const length = Math.min(bytes.length, table.header.length || bytes.length);
  const mismatches = new Map(doc.mismatches.map((m) => [m.path, m]));
  const out: PageField[] = [];
  const raw = (o: number, l: number, secret: boolean) =>
    Array.from(bytes.subarray(o, o + l), (b) => (secret ? '••' : hex2(b))).join(' ');
  const gap = (from: number, to: number) => {
    if (to > from) out.push({ p: '(between fields)', n: 'Padding or a string’s NUL terminator', s: '', k: 'gap', o: from, l: to - from, v: '', r: raw(from, to - from, false) });
  };
  let at = 0;
  for (const f of ibftFieldMap(table).fields as IbftField[]) {
    if (f.offset >= length) break;
    gap(at, f.offset);
    const l = Math.min(f.length, length - f.offset);
    const m = f.comparePath ? mismatches.get(f.comparePath) : undefined;
    out.push({
      p: f.path,
      n: f.name,
      s: f.structure,
      k: f.kind,
      o: f.offset,
      l,
      v: f.secret ? MASKED_SECRET : f.value,
      r: raw(f.offset, l, !!f.secret),
      ...(f.comparePath ? { c: f.comparePath } : {}),
      ...(m ? { m: { expected: String(m.expected), actual: String(m.actual ?? '(absent)') } } : {}),
      ...(f.secret ? { x: true as const } : {}),
    });
    at = f.offset + l;
  }
  gap(at, length);
  return out;
}

/**
 * 16 bytes a row, hex and ASCII. Within a row, the bytes of one field are one
 * element (hover or click anywhere on it), coloured by structure.
 */
function hexDump(fields: PageField[], bytes: Uint8Array): SafeHtml {
  const rows: SafeHtml[] = [];
  const total = fields.length ? fields[fields.length - 1].o + fields[fields.length - 1].l : 0;
  const printable = (b: number) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.');
  let fi = 0;
  for (let row = 0; row < total; row += 16) {
    const hexParts: SafeHtml[] = [];
    const asciiParts: SafeHtml[] = [];
    const rowEnd = Math.min(row + 16, total);
    for (let o = row; o < rowEnd; ) {
      while (fields[fi].o + fields[fi].l <= o) fi++;
      const f = fields[fi];
      const to = Math.min(f.o + f.l, rowEnd);
      const run = Array.from(bytes.subarray(o, to));
      const cls = ['f', `r-${f.k}`, slotOf(f.s) % 2 ? 'alt' : '', f.m ? 'mm' : '', f.x ? 'sec' : ''].filter(Boolean).join(' ');
      hexParts.push(html`<span class="${cls}" data-f="${fi}">${f.x ? run.map(() => '••').join(' ') : run.map(hex2).join(' ')}</span>`);
      asciiParts.push(html`<span class="${cls}" data-f="${fi}">${f.x ? '•'.repeat(run.length) : run.map(printable).join('')}</span>`);
      o = to;
    }
    rows.push(
      html`<div class="row"><span class="off">${row.toString(16).padStart(4, '0')}</span><span class="hex">${hexParts.map((p, i) => html`${i ? ' ' : ''}${p}`)}</span><span class="asc">${asciiParts}</span></div>`,
    );
  }
  return html`<div class="dump mono" id="dump">${rows}</div>`;
}

function legend(fields: PageField[]): SafeHtml {
  const seen = new Map<string, PageField>();
  for (const f of fields) {
    const key = f.k === 'nic' || f.k === 'target' ? f.s : f.k;
    if (!seen.has(key)) seen.set(key, f);
  }
  return html`<div class="legend">${[...seen.entries()].map(
    ([key, f]) =>
      html`<span class="key"><span class="${`sw r-${f.k}${slotOf(f.s) % 2 ? ' alt' : ''}`}"></span>${f.k === 'nic' || f.k === 'target' ? `${REGION_NAMES[f.k]} ${slotOf(key)}` : REGION_NAMES[f.k]}</span>`,
  )}<span class="key"><span class="sw mmk"></span>mismatch</span><span class="key"><span class="sw seck">••</span>CHAP secret (masked)</span></div>`;
}

function ibftSection(doc: ReportDocument, bytes: Uint8Array | null): SafeHtml {
  if (!doc.ibft || !bytes) return html`<h2 id="ibft">iBFT</h2><p class="muted">No iBFT was read from guest memory${doc.failure ? ': see the failure above' : ''}.</p>`;
  const fields = pageFields(doc.ibft, bytes, doc);
  const problems = doc.mismatches.filter((m) => !fields.some((f) => f.c === m.path));
  return html`<h2 id="ibft">iBFT: ${doc.ibft.header.length} bytes at ${hexAddress(doc.ibftAddress)}</h2>
<p class="muted">Hover a byte to see its field; click to keep it selected (click again, or Escape, to let go). Fields the lab expected otherwise are outlined in red.</p>
${legend(fields)}
<div class="ibft-view">
${hexDump(fields, bytes)}
<aside id="field-info" class="info" aria-live="polite">
  <div class="muted" id="field-hint">No byte selected.</div>
  <dl class="facts">
    <dt>field</dt><dd id="field-name"></dd>
    <dt>path</dt><dd id="field-path" class="mono"></dd>
    <dt>structure</dt><dd id="field-structure"></dd>
    <dt>bytes</dt><dd id="field-range" class="mono"></dd>
    <dt>raw</dt><dd id="field-raw" class="mono"></dd>
    <dt>value</dt><dd id="field-value" class="mono"></dd>
  </dl>
  <div id="field-mismatch" class="bad"></div>
</aside>
</div>
${problems.length ? html`<p class="bad">Not in the table at all: ${problems.map((m) => m.path).join(', ')}</p>` : ''}
<details id="field-list"><summary>All ${fields.length} fields</summary>
<table><thead><tr><th>offset</th><th>bytes</th><th>path</th><th>field</th><th>value</th></tr></thead><tbody>
${fields.map(
  (f, i) =>
    html`<tr data-f="${i}" class="${f.m ? 'mismatch' : ''}"><td class="mono">${f.o}</td><td class="mono">${f.l}</td><td class="mono"><span class="${`sw r-${f.k}${slotOf(f.s) % 2 ? ' alt' : ''}`}"></span>${f.p}</td><td>${f.n}</td><td class="mono">${f.v}</td></tr>`,
)}
</tbody></table></details>
${jsonScript('ibft-fields', fields)}`;
}

function expectationsSection(doc: ReportDocument): SafeHtml {
  if (!doc.expectations) return html`<h2 id="expected">Expected and found</h2><p class="muted">No expectations were given: the table was decoded but not checked.</p>`;
  if (!doc.ibft) return html`<h2 id="expected">Expected and found</h2><p class="muted">Nothing to compare: no iBFT was found.</p>`;
  const mismatches = new Map(doc.mismatches.map((m) => [m.path, m]));
  const rows = Object.entries(doc.expectations).map(([path, expected]) => ({ path, expected, mismatch: mismatches.get(path) }));
  for (const m of doc.mismatches) if (!(m.path in doc.expectations)) rows.push({ path: m.path, expected: String(m.expected), mismatch: m });
  return html`<h2 id="expected">Expected and found</h2>
<table id="expectations"><thead><tr><th></th><th>field</th><th>expected</th><th>found</th></tr></thead><tbody>
${rows.map(
  (r) =>
    html`<tr class="${r.mismatch ? 'mismatch' : 'match'}" data-path="${r.path}"><td class="${r.mismatch ? 'bad' : 'ok'}">${r.mismatch ? '✗' : '✓'}</td><td class="mono"><a href="#ibft" data-select="${r.path}">${r.path}</a></td><td class="mono">${r.expected}</td><td class="mono">${
      r.mismatch ? String(r.mismatch.actual ?? '(absent)') : /secret/i.test(r.path) ? MASKED_SECRET : r.expected
    }</td></tr>`,
)}
</tbody></table>
<p class="muted">${doc.mismatches.length ? `${doc.mismatches.length} of ${rows.length} fields differ.` : `All ${rows.length} fields as expected.`}</p>`;
}

function probeSection(doc: ReportDocument): SafeHtml {
  const p = doc.probe;
  if (!p) return html`<h2 id="probe">Linux probe</h2><p class="muted" id="probe-verdict">Not run (probe off, or the run ended before it).</p>`;
  return html`<h2 id="probe">Linux probe</h2>
<p id="probe-verdict" class="${p.agrees ? 'ok' : 'bad'}">${
    p.agrees
      ? `Linux (iscsi_ibft, /sys/firmware/ibft) agrees with the host decode on all ${p.lines.length} lines.`
      : p.differences.length
        ? `Linux disagrees on ${p.differences.length} line(s).`
        : 'Linux showed no iBFT.'
  }</p>
${
  p.differences.length
    ? html`<table><thead><tr><th>attribute</th><th>host decode</th><th>Linux</th></tr></thead><tbody>${p.differences.map(
        (d) => html`<tr class="mismatch"><td class="mono">${d.attribute}</td><td class="mono">${d.host ?? '(absent)'}</td><td class="mono">${d.linux ?? '(absent)'}</td></tr>`,
      )}</tbody></table>`
    : ''
}
<details><summary>What Linux showed (${p.lines.length} lines)</summary><pre>${p.lines.join('\n')}</pre></details>`;
}

function bootSection(doc: ReportDocument): SafeHtml {
  const b = doc.boot;
  if (!b) return html``;
  return html`<h2 id="boot">System under test: ${b.kind}</h2>
<p id="boot-verdict" class="${b.verdict === 'pass' ? 'ok' : 'bad'}">${b.verdict === 'pass' ? 'Every expectation matched.' : 'Failed.'}${b.failedOn ? html` Failed on: <code>${b.failedOn}</code>` : ''}</p>
<table><thead><tr><th></th><th>#</th><th>pattern</th><th>within</th><th>matched at</th></tr></thead><tbody>
${b.expectations.map(
  (e, i) =>
    html`<tr class="${e.matched ? '' : 'mismatch'}"><td class="${e.matched ? 'ok' : 'bad'}">${e.matched ? '✓' : '✗'}</td><td>${i + 1}</td><td class="mono">/${e.pattern}/</td><td>${e.withinSeconds} s</td><td>${e.matched ? `${e.atSeconds} s` : '–'}</td></tr>`,
)}
</tbody></table>`;
}

const CELL_CLASS: Record<MatrixCell, string> = { '✓': 'ok', '✗': 'bad', '–': 'muted' };
const fieldText = (value: string | number | null | undefined) => (value === null || value === undefined ? '(absent)' : String(value));
const SOURCE_NAMES: Record<ConsumerMismatch['source'], string> = { lab: 'the lab', table: 'the table', prediction: 'predicted' };

/**
 * The matrix the summary prints (rows: fields; columns: consumers; a column in
 * parentheses is not required, its ✗ are findings), each cell saying in its
 * title what that consumer read; then every disagreement and each consumer's own output.
 */
function consumersSection(doc: ReportDocument): SafeHtml {
  const consumers = doc.consumers;
  if (!consumers?.length) return html``;
  const matrix = consumerMatrix(consumers);
  const byName = new Map(consumers.map((c) => [c.name, c]));
  const title = (name: ConsumerResult['name']) => (byName.get(name)!.required ? CONSUMER_TITLES[name] : `(${CONSUMER_TITLES[name]})`);
  const cell = (name: ConsumerResult['name'], path: string, mark: MatrixCell) => {
    const c = byName.get(name)!;
    const mismatch = c.mismatches.find((m) => m.path === path);
    const read = mismatch ? `${fieldText(mismatch.actual)} (${SOURCE_NAMES[mismatch.source]}: ${fieldText(mismatch.expected)})` : path in c.fields ? fieldText(c.fields[path]) : 'does not read it';
    return html`<td class="${CELL_CLASS[mark]}" title="${`${CONSUMER_TITLES[name]}: ${read}`}">${mark}</td>`;
  };
  const disagreements = consumers.flatMap((c) => c.mismatches.map((m) => ({ c, m })));
  return html`<h2 id="consumers">Consumers of the table</h2>
<p class="muted">✓ read what the lab declared (or, where it declared nothing, what the table holds) · ✗ read something else · – does not read it. A consumer in parentheses is not required: its ✗ are findings, not failures.</p>
<div id="consumer-matrix"><table><thead><tr><th>field</th>${matrix.columns.map((name) => html`<th>${title(name)}</th>`)}</tr></thead><tbody>${matrix.rows.map(
    (row) => html`<tr data-path="${row.path}"><td><code>${row.path}</code></td>${row.cells.map((mark, i) => cell(matrix.columns[i], row.path, mark))}</tr>`,
  )}</tbody></table></div>
${
  disagreements.length
    ? html`<table id="consumer-disagreements"><thead><tr><th></th><th>consumer</th><th>field</th><th>read</th><th>expected</th></tr></thead><tbody>${disagreements.map(
        ({ c, m }) =>
          html`<tr class="${c.required ? 'mismatch' : ''}"><td>${c.required ? html`<span class="bad">✗</span>` : 'finding'}</td><td>${CONSUMER_TITLES[c.name]}</td><td><code>${m.path}</code></td><td>${fieldText(m.actual)}</td><td>${fieldText(m.expected)} <span class="muted">(${SOURCE_NAMES[m.source]})</span></td></tr>`,
      )}</tbody></table>`
    : html`<p class="ok">Every consumer read the table as declared.</p>`
}
${consumers.map(
  (c) =>
    html`<details class="consumer-output" data-consumer="${c.name}"><summary>${CONSUMER_TITLES[c.name]}: ${c.agrees ? html`<span class="ok">agrees</span>` : html`<span class="bad">differs</span>`}${c.exitCode === null ? '' : ` · exit ${c.exitCode}`}${c.notes.length ? ` · ${c.notes.length} note(s)` : ''}</summary>${c.notes.length ? html`<ul>${c.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ''}<pre>${c.output}</pre></details>`,
)}`;
}

/** Phases from the timings, the system under test's matches as marks; seconds from QEMU's start. */
function timeline(doc: ReportDocument): SafeHtml {
  const t = doc.timings;
  const marks = (doc.boot?.expectations ?? []).map((e, i) => ({ i, e })).filter(({ e }) => e.matched && e.atSeconds !== null);
  const end = Math.max(t.totalMs / 1000, ...marks.map(({ e }) => e.atSeconds as number), 0.1);
  const W = 1000;
  const x = (s: number) => Math.round((Math.min(s, end) / end) * (W - 20)) + 10;
  const phases: Array<{ from: number; to: number; label: string; short: string; cls: string }> = [];
  const marker = t.qemuStartToMarkerMs === null ? null : t.qemuStartToMarkerMs / 1000;
  const ibft = t.qemuStartToIbftMs === null ? null : t.qemuStartToIbftMs / 1000;
  if (marker === null) {
    phases.push({ from: 0, to: end, label: `QEMU start → ${doc.verdict === 'fail' ? 'failure' : 'end'} (marker never seen)`, short: 'no marker', cls: 'ph-fail' });
  } else {
    phases.push({ from: 0, to: marker, label: 'firmware: QEMU start → script marker', short: 'firmware → marker', cls: 'ph-fw' });
    if (ibft !== null) phases.push({ from: marker, to: ibft, label: 'iBFT read from guest memory', short: 'iBFT', cls: 'ph-ibft' });
    const after = doc.boot ? `system under test (${doc.boot.kind})` : doc.probe ? 'Linux probe' : 'QEMU stops';
    // Red when the run failed after the table was read (the probe, the system under test), not on the table's contents.
    const failedAfter = doc.verdict === 'fail' && ibft !== null && !doc.mismatches.length;
    phases.push({ from: ibft ?? marker, to: end, label: `${after}${failedAfter ? ' → failure' : ''}`, short: `${after}${failedAfter ? ' ✗' : ''}`, cls: failedAfter ? 'ph-fail' : 'ph-after' });
  }
  const step = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300].find((s) => end / s <= 12) ?? 600;
  const ticks: number[] = [];
  for (let s = 0; s <= end + 1e-9; s += step) ticks.push(s);
  return html`<h2 id="timeline">Timeline</h2>
<svg id="timeline-svg" viewBox="0 0 ${W} 92" width="100%" role="img" aria-label="phases of the run in seconds from QEMU start" xmlns="http://www.w3.org/2000/svg">
${phases.map(
  (p) =>
    html`<g class="phase"><rect class="${p.cls}" x="${x(p.from)}" y="18" width="${Math.max(1, x(p.to) - x(p.from))}" height="26" rx="3"><title>${`${p.label}: ${p.from.toFixed(1)} s → ${p.to.toFixed(1)} s`}</title></rect>${
      // A label only where it fits (about 7 units a character at this size).
      x(p.to) - x(p.from) > p.short.length * 7 + 12 ? html`<text x="${x(p.from) + 6}" y="35" class="pl">${p.short}</text>` : ''
    }</g>`,
)}
${marks.map(
  ({ i, e }) =>
    html`<g class="mark"><line x1="${x(e.atSeconds as number)}" x2="${x(e.atSeconds as number)}" y1="8" y2="50"/><circle cx="${x(e.atSeconds as number)}" cy="9" r="7"/><text x="${x(e.atSeconds as number)}" y="12.5" text-anchor="middle">${i + 1}</text><title>${`expectation ${i + 1}: /${e.pattern}/ at ${e.atSeconds} s`}</title></g>`,
)}
${ticks.map((s) => html`<g class="tick"><line x1="${x(s)}" x2="${x(s)}" y1="48" y2="54"/><text x="${x(s)}" y="68" text-anchor="middle">${`${Number(s.toFixed(1))} s`}</text></g>`)}
</svg>
<ul class="phases">${phases.map((p) => html`<li><span class="${`sw ${p.cls}`}"></span>${p.label}: ${(p.to - p.from).toFixed(1)} s</li>`)}${marks.map(
    ({ i, e }) => html`<li><span class="sw markk"></span>${i + 1}: <code>/${e.pattern}/</code> at ${e.atSeconds} s</li>`,
  )}</ul>
<p class="muted">Seconds from QEMU's start. Total ${seconds(t.totalMs)} (it includes the setup before QEMU starts${doc.boot && doc.probe ? '; with the probe and a system under test, the phases are the second boot’s' : ''}).</p>`;
}

/** Serial lines that failed the run, and iPXE/Linux error lines. */
function serialSection(doc: ReportDocument, serialLog: string): SafeHtml {
  const failureText = [doc.failure ?? '', doc.boot?.failedOn ?? ''].join('\n');
  const lines = serialLog.split('\n');
  let firstFailed = -1;
  const rendered = lines.map((line, i) => {
    const text = line.trim();
    const failed = text.length >= 6 && failureText.includes(text);
    const error = !failed && (/https?:\/\/ipxe\.org\/[0-9a-f]{8}/.test(text) || [...IPXE_FAILURE_PATTERNS, ...LINUX_FAILURE_PATTERNS].some((p) => p.test(text)));
    if (failed && firstFailed < 0) firstFailed = i;
    return html`<span class="${failed ? 'ln failed' : error ? 'ln error' : 'ln'}"${failed && firstFailed === i ? html` id="first-failed"` : ''}>${line}\n</span>`;
  });
  const failedCount = rendered.filter((r) => r.html.includes('ln failed')).length;
  return html`<h2 id="serial-console">Serial console</h2>
<details id="serial"${firstFailed >= 0 ? html` open` : ''}><summary>${lines.length} lines${failedCount ? html` · <span class="bad">${failedCount} failed the run</span>` : ''}</summary>
<p class="muted"><span class="sw lnf"></span>the line that failed the run <span class="sw lne"></span>an iPXE or Linux error line${firstFailed >= 0 ? html` · <a href="#first-failed">go to the failing line</a>` : ''}</p>
<pre class="serial">${rendered}</pre></details>`;
}

const PAGE_CSS = `${BASE_CSS}
.r-acpi-header { background: #b6e3ff; } .r-reserved { background: #d0d7de; } .r-control { background: #fae17d; }
.r-initiator { background: #aceebb; } .r-nic { background: #e8c5ff; } .r-nic.alt { background: #d2a8ff; }
.r-target { background: #ffc2d9; } .r-target.alt { background: #ff9ec3; } .r-heap { background: #ffd8b5; } .r-gap { background: #fff; color: #8c959f; }
.ibft-view { display: flex; gap: 18px; align-items: flex-start; flex-wrap: wrap; }
.dump { line-height: 1.55; user-select: none; }
.dump .row { display: flex; gap: 16px; white-space: pre; }
.dump .off { color: var(--muted); }
.dump .hex { display: inline-block; width: 48ch; }
.dump .f { cursor: pointer; border-radius: 2px; }
.dump .f.mm { outline: 2px solid var(--fail); outline-offset: -1px; color: var(--fail); font-weight: 700; }
.dump .f.sec { color: #6e7781; }
.dump .f.sel { background: #0969da !important; color: #fff !important; }
.info { position: sticky; top: 8px; min-width: 320px; max-width: 460px; flex: 1; border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; background: var(--bg); }
.info dd { word-break: break-all; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 6px 0 10px; }
.sw { display: inline-block; min-width: 14px; height: 12px; border: 1px solid var(--line); margin-right: 5px; vertical-align: -1px; font-size: 9px; line-height: 10px; text-align: center; }
.sw.mmk { outline: 2px solid var(--fail); outline-offset: -2px; } .sw.seck { color: #6e7781; }
#field-list tbody tr { cursor: pointer; } #field-list tbody tr:hover td { background: #ddf4ff; }
svg text { font: 12px system-ui, sans-serif; fill: #1f2328; }
svg .pl { fill: #fff; font-weight: 600; }
.ph-fw, svg rect.ph-fw { fill: #0969da; background: #0969da; } .ph-ibft, svg rect.ph-ibft { fill: #8250df; background: #8250df; }
.ph-after, svg rect.ph-after { fill: #1a7f37; background: #1a7f37; } .ph-fail, svg rect.ph-fail { fill: #cf222e; background: #cf222e; }
svg .mark line { stroke: #bf8700; stroke-width: 2; } svg .mark circle { fill: #bf8700; } svg .mark text { fill: #fff; font-size: 10px; font-weight: 700; }
.markk { background: #bf8700; }
svg .tick line { stroke: #8c959f; } svg .tick text { fill: var(--muted); font-size: 11px; }
ul.phases { list-style: none; padding: 0; margin: 4px 0; display: flex; flex-wrap: wrap; gap: 4px 18px; }
pre.serial { background: #0d1117; color: #e6edf3; padding: 10px; border-radius: 6px; overflow: auto; max-height: 70vh; white-space: pre-wrap; word-break: break-all; }
pre.serial .ln.failed { background: #8e1519; color: #fff; font-weight: 700; display: inline-block; width: 100%; }
pre.serial .ln.error { background: #5a3b00; color: #ffdf5d; display: inline-block; width: 100%; }
.sw.lnf { background: #8e1519; } .sw.lne { background: #5a3b00; }
.failure { background: #ffebe9; border: 1px solid #ff8182; border-radius: 6px; padding: 6px 10px; }
`;

// The dump's behaviour: hover shows a field, click pins it. Reads the fields
// from #ibft-fields; writes only textContent (the table's strings are data).
const PAGE_JS = `
(function () {
  var data = document.getElementById('ibft-fields');
  if (!data) return;
  var fields = JSON.parse(data.textContent);
  var dump = document.getElementById('dump');
  var pinned = -1, shown = -1;
  var byField = {};
  Array.prototype.forEach.call(dump.querySelectorAll('[data-f]'), function (el) {
    (byField[el.dataset.f] = byField[el.dataset.f] || []).push(el);
  });
  function set(id, text) { document.getElementById(id).textContent = text; }
  function show(i, force) {
    if (shown === i && !force) return;
    (byField[shown] || []).forEach(function (el) { el.classList.remove('sel'); });
    shown = i;
    var info = document.getElementById('field-info');
    if (i < 0) { info.dataset.path = ''; set('field-hint', 'No byte selected.'); ['field-name','field-path','field-structure','field-range','field-raw','field-value','field-mismatch'].forEach(function (id) { set(id, ''); }); return; }
    var f = fields[i];
    (byField[i] || []).forEach(function (el) { el.classList.add('sel'); });
    info.dataset.path = f.p;
    set('field-hint', pinned === i ? 'Selected (click again or press Escape to let go).' : 'Hovered.');
    set('field-name', f.n);
    set('field-path', f.p);
    set('field-structure', f.s || '–');
    set('field-range', 'offset ' + f.o + (f.l > 1 ? '–' + (f.o + f.l - 1) : '') + ' (0x' + f.o.toString(16) + '), ' + f.l + ' byte' + (f.l === 1 ? '' : 's'));
    set('field-raw', f.r);
    set('field-value', f.v === '' ? '–' : f.v);
    set('field-mismatch', f.m ? '✗ the lab expected ' + f.m.expected + ', the table has ' + f.m.actual : '');
  }
  function fieldOf(target) { var el = target.closest && target.closest('[data-f]'); return el ? Number(el.dataset.f) : -1; }
  dump.addEventListener('mouseover', function (e) { var i = fieldOf(e.target); if (pinned < 0 && i >= 0) show(i); });
  dump.addEventListener('mouseleave', function () { if (pinned < 0) show(-1); });
  function pin(i) { pinned = pinned === i ? -1 : i; show(i, true); }
  dump.addEventListener('click', function (e) { var i = fieldOf(e.target); if (i >= 0) pin(i); });
  var list = document.getElementById('field-list');
  if (list) list.addEventListener('click', function (e) { var i = fieldOf(e.target); if (i >= 0) { pinned = -1; pin(i); dump.scrollIntoView({ block: 'nearest' }); } });
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') { pinned = -1; show(-1); } });
  Array.prototype.forEach.call(document.querySelectorAll('[data-select]'), function (a) {
    a.addEventListener('click', function () {
      for (var i = 0; i < fields.length; i++) if (fields[i].c === a.dataset.select) { pinned = -1; pin(i); return; }
    });
  });
})();
`;

/** The page for one run. */
export function formatReportHtml(input: ReportPageInput): string {
  const doc = input.document;
  const lab = doc.run.lab ?? doc.run.suite;
  const platform = doc.run.firmware ? { bios: 'BIOS (SeaBIOS)', uefi: 'UEFI (OVMF)' }[doc.run.firmware] : null;
  const romMode = doc.run.romMode === 'built' ? 'built from iPXE source' : doc.run.romMode === 'stock' ? 'stock (distro ROM, script over TFTP)' : null;
  const unknown = html`<span class="muted">unknown</span>`;
  const probe = doc.probe ? (doc.probe.agrees ? html`<span class="ok">agrees</span>` : html`<span class="bad">disagrees</span>`) : html`<span class="muted">not run</span>`;
  const body = html`<header>
<p class="muted">${input.indexHref ? html`<a href="${input.indexHref}" id="index-link">all labs</a> · ` : ''}${doc.run.suite}</p>
<h1><span id="verdict" class="${`verdict ${doc.verdict}`}" data-verdict="${doc.verdict}">${doc.verdict.toUpperCase()}</span><span id="lab">${lab}</span></h1>
${doc.failure ? html`<p class="failure" id="failure">${doc.failure}${doc.ipxeErrorUrl ? html` · iPXE: <a href="${doc.ipxeErrorUrl}">${doc.ipxeErrorUrl}</a>` : ''}</p>` : ''}
</header>
<dl class="facts" id="facts">
<dt>lab</dt><dd>${lab}</dd>
<dt>NIC</dt><dd>${doc.run.nic ?? unknown}</dd>
<dt>platform</dt><dd>${platform ?? unknown}</dd>
<dt>firmware</dt><dd id="rom-mode" data-mode="${doc.run.romMode ?? ''}">${romMode ?? unknown}</dd>
<dt>network</dt><dd>${networkOf(doc) ?? unknown}</dd>
<dt>CHAP</dt><dd>${chapOf(doc) ?? unknown}</dd>
<dt>iBFT</dt><dd>${doc.ibft ? `${doc.ibft.header.length} bytes at ${hexAddress(doc.ibftAddress)}` : html`<span class="bad">not found</span>`}</dd>
<dt>Linux probe</dt><dd>${probe}</dd>
<dt>system under test</dt><dd>${doc.boot ? html`${doc.boot.kind}: <span class="${doc.boot.verdict === 'pass' ? 'ok' : 'bad'}">${doc.boot.verdict}</span>` : html`<span class="muted">none</span>`}</dd>
<dt>timings</dt><dd>QEMU start → marker ${seconds(doc.timings.qemuStartToMarkerMs)}, → iBFT ${seconds(doc.timings.qemuStartToIbftMs)}, total ${seconds(doc.timings.totalMs)}</dd>
</dl>
${timeline(doc)}
${expectationsSection(doc)}
${probeSection(doc)}
${bootSection(doc)}
${consumersSection(doc)}
${ibftSection(doc, input.ibftBytes)}
${serialSection(doc, input.serialLog)}
<h2 id="files">Files</h2>
<p><a href="report.json">report.json</a> · <a href="junit.xml">junit.xml</a> · <a href="serial.log">serial.log</a>${doc.ibft ? html` · <a href="ibft.bin">ibft.bin</a> · <a href="ibft.sysfs.txt">ibft.sysfs.txt</a>` : ''}</p>
<details><summary>QEMU command line</summary><pre>${doc.qemu.join(' \\\n  ')}</pre></details>`;
  return page(`${doc.verdict.toUpperCase()} ${lab} — ibft-lab report`, PAGE_CSS, body, PAGE_JS);
}
