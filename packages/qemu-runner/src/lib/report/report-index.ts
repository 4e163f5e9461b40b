// index.html over every lab's report: <labs>/<lab>/boot-vm/report.json → one
// row per lab, a NIC × platform matrix above the table. Labs run in parallel
// and each rewrites the page when it ends, so the page is written to a temp
// file and renamed, and rewritten when a report changed while it was built.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chapOf, networkOf, type ReportDocument } from './document';
import { BASE_CSS, html, page, type SafeHtml } from './html';

export interface ReportIndexRow {
  /** The lab's folder under the labs folder. */
  folder: string;
  lab: string;
  nic: string | null;
  platform: 'bios' | 'uefi' | null;
  network: string | null;
  chap: string | null;
  romMode: 'built' | 'stock' | null;
  /** `unreadable` when report.json is not a report. */
  verdict: 'pass' | 'fail' | 'unreadable';
  probe: 'agrees' | 'disagrees' | 'off';
  /** The system under test: `kernel: pass`, or null without one. */
  boot: string | null;
  seconds: number | null;
  /** The lab's page relative to the labs folder (report.html, or report.json for reports written before it). */
  href: string;
}

const REPORT_DIR = 'boot-vm';

function reportFiles(labsDir: string): string[] {
  if (!existsSync(labsDir)) return [];
  return readdirSync(labsDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(labsDir, e.name, REPORT_DIR, 'report.json')))
    .map((e) => e.name)
    .sort();
}

function rowOf(labsDir: string, folder: string): ReportIndexRow {
  const dir = join(labsDir, folder, REPORT_DIR);
  const link = (file: string) => `${encodeURIComponent(folder)}/${REPORT_DIR}/${file}`;
  const href = existsSync(join(dir, 'report.html')) ? link('report.html') : link('report.json');
  let doc: Partial<ReportDocument>;
  try {
    doc = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    if (doc.verdict !== 'pass' && doc.verdict !== 'fail') throw new Error('no verdict');
  } catch {
    return { folder, lab: folder, nic: null, platform: null, network: null, chap: null, romMode: null, verdict: 'unreadable', probe: 'off', boot: null, seconds: null, href: link('report.json') };
  }
  const run = doc.run ?? ({} as Partial<ReportDocument['run']>);
  const facts = { expectations: doc.expectations ?? null, ibft: doc.ibft ?? null };
  return {
    folder,
    lab: run.lab ?? folder,
    nic: run.nic ?? null,
    platform: run.firmware ?? null,
    network: networkOf(facts),
    chap: chapOf(facts),
    romMode: run.romMode ?? null,
    verdict: doc.verdict,
    probe: doc.probe ? (doc.probe.agrees ? 'agrees' : 'disagrees') : 'off',
    boot: doc.boot ? `${doc.boot.kind}: ${doc.boot.verdict}` : null,
    seconds: typeof doc.timings?.totalMs === 'number' ? Math.round(doc.timings.totalMs / 100) / 10 : null,
    href,
  };
}

/** One row per `<labsDir>/<lab>/boot-vm/report.json`, by lab folder name. */
export function readReportIndexRows(labsDir: string): ReportIndexRow[] {
  return reportFiles(labsDir).map((folder) => rowOf(labsDir, folder));
}

const PLATFORM_NAMES: Record<string, string> = { bios: 'BIOS', uefi: 'UEFI' };
const platformName = (p: string | null) => (p ? (PLATFORM_NAMES[p] ?? p) : 'platform unknown');
const dash = html`<span class="muted">–</span>`;
const byText = (a: string | null, b: string | null) => (a ?? '\uffff').localeCompare(b ?? '\uffff');

function verdictBadge(verdict: ReportIndexRow['verdict']): SafeHtml {
  return html`<span class="${`verdict ${verdict === 'unreadable' ? 'none' : verdict}`}">${verdict.toUpperCase()}</span>`;
}

/** NIC down, platform across; each cell the labs of that pair. */
function matrix(rows: ReportIndexRow[]): SafeHtml {
  const platforms = [...new Set(rows.map((r) => r.platform))].sort(byText);
  const nics = [...new Set(rows.map((r) => r.nic))].sort(byText);
  return html`<table id="matrix" class="matrix"><thead><tr><th>NIC \\ platform</th>${platforms.map((p) => html`<th>${platformName(p)}</th>`)}</tr></thead><tbody>
${nics.map(
  (nic) =>
    html`<tr><th class="mono">${nic ?? 'unknown'}</th>${platforms.map((p) => {
      const labs = rows.filter((r) => r.nic === nic && r.platform === p);
      return html`<td>${labs.length ? labs.map((r) => html`<div class="cell"><a href="${r.href}">${r.lab}</a> ${verdictBadge(r.verdict)}</div>`) : dash}</td>`;
    })}</tr>`,
)}
</tbody></table>`;
}

const COLUMNS = ['lab', 'NIC', 'platform', 'network', 'CHAP', 'ROM', 'verdict', 'Linux probe', 'system under test', 'seconds', 'report'];

function labRow(r: ReportIndexRow): SafeHtml {
  const probe = r.probe === 'agrees' ? html`<span class="ok">agrees</span>` : r.probe === 'disagrees' ? html`<span class="bad">disagrees</span>` : html`<span class="muted">off</span>`;
  const boot = r.boot ? html`<span class="${r.boot.endsWith('pass') ? 'ok' : 'bad'}">${r.boot}</span>` : dash;
  return html`<tr class="${`lab ${r.verdict}`}" data-lab="${r.lab}" data-verdict="${r.verdict}">
<td><a href="${r.href}">${r.lab}</a></td><td class="mono">${r.nic ?? dash}</td><td>${r.platform ? platformName(r.platform) : dash}</td><td>${r.network ?? dash}</td><td>${r.chap ?? dash}</td><td>${r.romMode ?? dash}</td>
<td>${verdictBadge(r.verdict)}</td><td>${probe}</td><td>${boot}</td><td class="num">${r.seconds === null ? dash : r.seconds.toFixed(1)}</td><td><a href="${r.href}" class="report-link">${r.href.endsWith('.html') ? 'report.html' : 'report.json'}</a></td></tr>`;
}

export function formatReportIndex(rows: ReportIndexRow[]): string {
  const sorted = [...rows].sort(
    (a, b) => byText(a.platform, b.platform) || byText(a.nic, b.nic) || byText(a.network, b.network) || byText(a.chap, b.chap) || byText(a.romMode, b.romMode) || a.lab.localeCompare(b.lab),
  );
  const groups = [...new Set(sorted.map((r) => r.platform))];
  const passed = rows.filter((r) => r.verdict === 'pass').length;
  const body = html`<h1>ibft-lab: ${rows.length} lab${rows.length === 1 ? '' : 's'}</h1>
<p id="totals">${rows.length ? html`<span class="ok">${passed} passed</span>, <span class="${rows.length - passed ? 'bad' : 'muted'}">${rows.length - passed} failed</span>` : html`<span class="muted">No lab reports yet: run <code>nx run-many -t boot-vm</code>.</span>`}</p>
${rows.length ? html`<h2>NIC × platform</h2>${matrix(rows)}
<h2>Every lab</h2>
<table id="labs"><thead><tr>${COLUMNS.map((c) => html`<th>${c}</th>`)}</tr></thead>
${groups.map((g) => {
  const inGroup = sorted.filter((r) => r.platform === g);
  const failed = inGroup.filter((r) => r.verdict !== 'pass').length;
  return html`<tbody class="group"><tr class="group-head"><th colspan="${COLUMNS.length}">${platformName(g)} · ${inGroup.length} lab${inGroup.length === 1 ? '' : 's'}${failed ? html` · <span class="bad">${failed} failed</span>` : ''}</th></tr>
${inGroup.map(labRow)}</tbody>`;
})}
</table>` : ''}
<p class="muted">Built from <code>*/boot-vm/report.json</code> in this folder; each boot-vm run rewrites it when it ends.</p>`;
  const css = `${BASE_CSS}
table.matrix td, table.matrix th { min-width: 140px; }
table.matrix .cell { white-space: nowrap; margin: 2px 0; }
tr.group-head th { background: #eaeef2; font-size: 13px; padding-top: 8px; }
tr.lab.fail td { background: #fff5f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { font-size: 11px; padding: 1px 8px; }
`;
  return page(`ibft-lab: ${rows.length} labs, ${passed} passed`, css, body);
}

/** What index.html is built from: each report.json's name, size and time. */
function signature(labsDir: string): string {
  return reportFiles(labsDir)
    .map((folder) => {
      const s = statSync(join(labsDir, folder, REPORT_DIR, 'report.json'), { throwIfNoEntry: false });
      return `${folder}:${s?.size}:${s?.mtimeMs}`;
    })
    .join('\n');
}

/**
 * Writes `<labsDir>/index.html` from the report folders in it. Safe for labs
 * ending at once: the page appears whole (temp file, then rename), and a run
 * that saw the reports change while it worked writes the page again.
 */
export function writeReportIndex(labsDir: string, options: { afterRead?: () => void } = {}): { file: string; rows: ReportIndexRow[] } {
  const file = join(labsDir, 'index.html');
  for (let attempt = 0; ; attempt++) {
    const before = signature(labsDir);
    const rows = readReportIndexRows(labsDir);
    // For tests: another lab finishing right here is the race the loop is for.
    options.afterRead?.();
    const temp = join(labsDir, `.index.html.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      writeFileSync(temp, formatReportIndex(rows));
      renameSync(temp, file);
    } finally {
      rmSync(temp, { force: true });
    }
    if (attempt >= 4 || signature(labsDir) === before) return { file, rows };
  }
}
