// The one-screen terminal summary: verdict, expected vs found, probe, timings.
import { MASKED_SECRET, type IbftExpectation, type Mismatch } from '@ibft-lab/ibft';
import type { BootReport } from '../boot/boot-lab';

/** Expectations flattened to `path → value` in compareIbft's path names, secrets masked. */
export function flattenExpectations(expectations: IbftExpectation): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  const add = (prefix: string, object: Record<string, unknown> | undefined) => {
    for (const [key, value] of Object.entries(object ?? {})) {
      if (value === undefined) continue;
      rows.push([`${prefix}.${key}`, /secret/i.test(key) ? MASKED_SECRET : String(value)]);
    }
  };
  add('initiator', expectations.initiator);
  expectations.nics?.forEach((nic, i) => add(`nic[${i}]`, nic as Record<string, unknown>));
  expectations.targets?.forEach((target, i) => add(`target[${i}]`, target as Record<string, unknown>));
  return rows;
}

function pad(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}

export function formatSummary(report: BootReport, title = 'boot-vm'): string {
  const out: string[] = [];
  out.push(`${title}: ${report.verdict.toUpperCase()}${report.failure ? ` (${report.failure})` : ''}`);
  if (report.ipxeErrorUrl) out.push(`  iPXE error: ${report.ipxeErrorUrl}`);
  if (report.ibft) {
    out.push(`  iBFT at 0x${(report.ibftAddress ?? 0).toString(16)}, ${report.ibftBytes?.length ?? 0} bytes`);
  }
  if (report.expectations && report.ibft) {
    const mismatches = new Map<string, Mismatch>(report.mismatches.map((m) => [m.path, m]));
    out.push(`  ${pad('field', 24)} ${pad('expected', 36)} ${pad('found', 36)}`);
    for (const [path, expected] of flattenExpectations(report.expectations)) {
      const mismatch = mismatches.get(path);
      const found = mismatch ? String(mismatch.actual ?? '(absent)') : /secret/i.test(path) ? MASKED_SECRET : expected;
      out.push(`${mismatch ? '✗' : '✓'} ${pad(path, 24)} ${pad(expected, 36)} ${pad(found, 36)}`);
    }
    for (const m of report.mismatches) {
      if (!flattenExpectations(report.expectations).some(([p]) => p === m.path)) {
        out.push(`✗ ${pad(m.path, 24)} ${pad(String(m.expected), 36)} ${pad(String(m.actual ?? '(absent)'), 36)}`);
      }
    }
  } else if (report.ibft) {
    for (const line of report.sysfsLines.slice(0, 12)) out.push(`    ${line}`);
  }
  if (report.probe) {
    out.push(
      report.probe.agrees
        ? `  Linux probe: agrees on all ${report.probe.lines.length} /sys/firmware/ibft lines`
        : `  Linux probe: DISAGREES${report.probe.differences.length ? '' : ' (no iBFT in Linux)'}`,
    );
    for (const d of report.probe.differences.slice(0, 10)) {
      out.push(`    ${d.attribute}: host ${d.host ?? '(absent)'} | linux ${d.linux ?? '(absent)'}`);
    }
  }
  if (report.boot) {
    out.push(`  ${report.boot.kind}: ${report.boot.verdict === 'pass' ? 'every expectation matched' : 'FAILED'}`);
    for (const e of report.boot.expectations) {
      out.push(`${e.matched ? '✓' : '✗'} /${e.pattern}/ ${e.matched ? `at ${e.atSeconds} s` : `not within ${e.withinSeconds} s`}`);
    }
    if (report.boot.failedOn) out.push(`  failed on: ${report.boot.failedOn}`);
  }
  const t = report.timings;
  const s = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);
  out.push(`  timings: QEMU start→marker ${s(t.qemuStartToMarkerMs)}, →iBFT ${s(t.qemuStartToIbftMs)}, total ${s(t.totalMs)}`);
  return out.join('\n');
}
