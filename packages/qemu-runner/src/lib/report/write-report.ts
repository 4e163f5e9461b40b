// Writes a run's files: report.json, junit.xml, serial.log, ibft.bin,
// ibft.sysfs.txt. Secrets are masked in every text file; ibft.bin is the raw
// table and holds a CHAP secret when the lab uses CHAP: it is written only
// when the table has none, or when the caller opts in.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { redactTable } from '@ibft-lab/ibft';
import type { BootReport } from '../boot/boot-lab';
import { formatJunit } from './junit';
import { flattenExpectations } from './summary';

export interface WrittenReport {
  dir: string;
  files: string[];
}

function tableHasSecret(report: BootReport): boolean {
  return !!report.ibft?.targets.some((t) => (t.chapSecret?.value ?? '') !== '' || (t.reverseChapSecret?.value ?? '') !== '');
}

/** The JSON document: what report.json holds (secrets masked). */
export function reportJson(report: BootReport): Record<string, unknown> {
  return {
    verdict: report.verdict,
    failure: report.failure,
    ipxeErrorUrl: report.ipxeErrorUrl,
    ibftAddress: report.ibftAddress,
    ibft: report.ibft ? redactTable(report.ibft) : null,
    expectations: report.expectations ? Object.fromEntries(flattenExpectations(report.expectations)) : null,
    mismatches: report.mismatches,
    probe: report.probe,
    consumers: report.consumers,
    findings: report.findings,
    boot: report.boot ? { ...report.boot, serialLog: 'serial.log' } : null,
    timings: report.timings,
    qemu: report.qemu,
  };
}

export function writeBootReport(report: BootReport, dir: string, suiteName = 'boot-vm'): WrittenReport {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, data: string | Uint8Array) => {
    writeFileSync(join(dir, name), data);
    files.push(join(dir, name));
  };
  write('report.json', `${JSON.stringify(reportJson(report), null, 2)}\n`);
  write('junit.xml', formatJunit(report, suiteName));
  write('serial.log', report.serialLog);
  write('ibft.sysfs.txt', report.sysfsLines.length ? `${report.sysfsLines.join('\n')}\n` : '');
  // A CHAP table's bytes carry the secret in clear: ibft.bin then holds the
  // table with the secret bytes zeroed (same length, checksum no longer 0).
  if (report.ibftBytes && report.ibft) {
    write('ibft.bin', tableHasSecret(report) ? zeroSecrets(report) : report.ibftBytes);
  } else {
    rmSync(join(dir, 'ibft.bin'), { force: true });
  }
  return { dir, files };
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
