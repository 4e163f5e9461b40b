// The one-screen terminal summary: verdict, expected vs found, probe, timings.
import { MASKED_SECRET, type IbftExpectation, type Mismatch } from '@ibft-lab/ibft';
import type { BootReport } from '../boot/boot-lab';
import { CONSUMER_TITLES } from '../consumers';
import { formatConsumerMatrix } from './consumer-matrix';

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
    const where = report.ibftAddress === null ? 'replayed to the guest as an ACPI table' : `at 0x${report.ibftAddress.toString(16)}`;
    out.push(`  iBFT ${where}, ${report.ibftBytes?.length ?? 0} bytes`);
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
  if (report.consumers && report.consumers.length > 1) out.push(...formatConsumers(report));
  if (report.boot) {
    out.push(`  ${report.boot.kind}: ${report.boot.verdict === 'pass' ? 'every expectation matched' : 'FAILED'}`);
    for (const e of report.boot.expectations) {
      out.push(`${e.matched ? '✓' : '✗'} /${e.pattern}/ ${e.matched ? `at ${e.atSeconds} s` : `not within ${e.withinSeconds} s`}`);
    }
    if (report.boot.failedOn) out.push(`  failed on: ${report.boot.failedOn}`);
  }
  const t = report.timings;
  const s = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);
  out.push(
    `  timings: QEMU start→marker ${s(t.qemuStartToMarkerMs)}, →iBFT ${s(t.qemuStartToIbftMs)}${t.markerToProbeEndMs !== null ? `, marker→probe end ${s(t.markerToProbeEndMs)}` : ''}, total ${s(t.totalMs)}`,
  );
  return out.join('\n');
}

function shown(value: string | number | null): string {
  return value === null ? '(absent)' : String(value);
}

/** The consumer matrix, then each disagreement (a finding when the consumer is not required) and each note. */
export function formatConsumers(report: BootReport): string[] {
  const consumers = report.consumers ?? [];
  const out = [`  consumers (✓ agrees, ✗ differs, – does not read it; (name): not required, its ✗ are findings):`];
  out.push(...formatConsumerMatrix(consumers));
  const lines: string[] = [];
  for (const c of consumers) {
    for (const m of c.mismatches) {
      const from = m.source === 'lab' ? 'the lab' : m.source === 'table' ? 'the table' : 'predicted';
      lines.push(`${c.required ? '✗' : 'finding:'} ${CONSUMER_TITLES[c.name]} ${m.path}: ${shown(m.actual)} (${from}: ${shown(m.expected)})`);
    }
  }
  for (const line of lines.slice(0, 20)) out.push(`  ${line}`);
  if (lines.length > 20) out.push(`  … ${lines.length - 20} more in report.json`);
  for (const c of consumers) for (const note of c.notes.slice(0, 3)) out.push(`  note: ${CONSUMER_TITLES[c.name]}: ${note}`);
  return out;
}
