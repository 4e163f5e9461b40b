// Writes a run's files: report.json, report.html, junit.xml, serial.log,
// ibft.bin, ibft.sysfs.txt. Secrets are masked in every text file; a CHAP
// table's ibft.bin has its secret bytes zeroed.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { MASKED_SECRET, redactTable } from '@ibft-lab/ibft';
import type { BootReport } from '../boot/boot-lab';
import type { ReportDocument, ReportRun } from './document';
import { escapeHtml } from './html';
import { formatJunit } from './junit';
import { formatReportHtml } from './report-html';
import { flattenExpectations } from './summary';

export interface WrittenReport {
  dir: string;
  files: string[];
}

function tableHasSecret(report: BootReport): boolean {
  return !!report.ibft?.targets.some((t) => (t.chapSecret?.value ?? '') !== '' || (t.reverseChapSecret?.value ?? '') !== '');
}

const consumersOf = (report: BootReport) => (report as BootReport & { consumers?: unknown }).consumers;

/** The JSON document: what report.json holds (secrets masked). */
export function reportJson(report: BootReport, run: ReportRun = {}, suiteName = 'boot-vm'): ReportDocument {
  return {
    verdict: report.verdict,
    run: { suite: suiteName, ...run },
    failure: report.failure,
    ipxeErrorUrl: report.ipxeErrorUrl,
    ibftAddress: report.ibftAddress,
    ibft: report.ibft ? redactTable(report.ibft) : null,
    expectations: report.expectations ? Object.fromEntries(flattenExpectations(report.expectations)) : null,
    mismatches: report.mismatches,
    probe: report.probe,
    boot: report.boot ? { ...report.boot, serialLog: 'serial.log' } : null,
    timings: report.timings,
    qemu: report.qemu,
    // The consumer probe's matrix, when a report carries one (BootReport does not yet): passed through for the page.
    ...(consumersOf(report) !== undefined ? { consumers: consumersOf(report) } : {}),
  };
}

/**
 * Writes the report folder. `run` says what the boot itself does not know
 * (the lab, NIC, platform, ROM mode); it goes into report.json and the pages.
 * Each file appears whole (temp file, then rename): an index built while
 * other labs still run never reads half a report.json.
 */
export function writeBootReport(report: BootReport, dir: string, suiteName = 'boot-vm', run: ReportRun = {}): WrittenReport {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, data: string | Uint8Array) => {
    const temp = join(dir, `.${name}.${process.pid}.tmp`);
    try {
      writeFileSync(temp, data);
      renameSync(temp, join(dir, name));
    } finally {
      rmSync(temp, { force: true });
    }
    files.push(join(dir, name));
  };
  const document = reportJson(report, run, suiteName);
  // A CHAP table's bytes carry the secret in clear: ibft.bin then holds the
  // table with the secret bytes zeroed (same length, checksum no longer 0).
  const tableBytes = report.ibftBytes && report.ibft ? (tableHasSecret(report) ? zeroSecrets(report) : report.ibftBytes) : null;
  write('junit.xml', formatJunit(report, suiteName));
  write('serial.log', report.serialLog);
  write('ibft.sysfs.txt', report.sysfsLines.length ? `${report.sysfsLines.join('\n')}\n` : '');
  if (tableBytes) write('ibft.bin', tableBytes);
  else rmSync(join(dir, 'ibft.bin'), { force: true });
  const page = formatReportHtml({
    document,
    ibftBytes: tableBytes,
    serialLog: report.serialLog,
    // Under <labs>/<lab>/boot-vm (boot-vm's layout) the page links to the labs' index.
    ...(basename(dir) === 'boot-vm' ? { indexHref: '../../index.html' } : {}),
  });
  write('report.html', withoutSecrets(page, report));
  // Last: the index takes a folder with report.json for a finished report (another lab's run may be reading it now).
  write('report.json', `${JSON.stringify(document, null, 2)}\n`);
  return { dir, files };
}

/**
 * The page is built from masked data only; this is the second lock: should a
 * secret have reached it anyway (say, echoed on the serial console), it is
 * masked there too, raw or HTML-escaped.
 */
function withoutSecrets(text: string, report: BootReport): string {
  const secrets = new Set<string>();
  for (const t of report.ibft?.targets ?? []) for (const s of [t.chapSecret, t.reverseChapSecret]) if (s?.value) secrets.add(s.value);
  for (const t of report.expectations?.targets ?? []) for (const s of [t.chapSecret, t.reverseChapSecret]) if (s) secrets.add(s);
  let out = text;
  // (A secret of 1-3 characters could match markup; the schemas ask for 12-16.)
  for (const secret of [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join(MASKED_SECRET).split(escapeHtml(secret)).join(MASKED_SECRET);
  }
  return out;
}

function zeroSecrets(report: BootReport): Uint8Array {
  const bytes = Uint8Array.from(report.ibftBytes as Uint8Array);
  for (const target of report.ibft?.targets ?? []) {
    for (const secret of [target.chapSecret, target.reverseChapSecret]) {
      if (secret && secret.length > 0) bytes.fill(0, secret.offset, secret.offset + secret.length);
    }
  }
  return bytes;
}
