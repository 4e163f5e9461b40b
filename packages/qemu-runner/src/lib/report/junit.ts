// JUnit XML for CI: one test case per check the run makes.
import type { BootReport } from '../boot/boot-lab';

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

interface Case {
  name: string;
  failure?: string;
  skipped?: string;
}

export function bootReportCases(report: BootReport): Case[] {
  const cases: Case[] = [];
  const reached = report.timings.qemuStartToMarkerMs !== null;
  cases.push({ name: 'boot reaches the script marker', failure: reached ? undefined : (report.failure ?? 'marker not seen') });
  const found = report.ibft !== null;
  cases.push(
    reached
      ? { name: 'iBFT found and valid in guest memory', failure: found ? undefined : (report.failure ?? 'no iBFT') }
      : { name: 'iBFT found and valid in guest memory', skipped: 'boot did not reach the marker' },
  );
  cases.push(
    !found
      ? { name: 'iBFT matches the expectations', skipped: 'no iBFT' }
      : !report.expectations
        ? { name: 'iBFT matches the expectations', skipped: 'no expectations given' }
        : {
            name: 'iBFT matches the expectations',
            failure: report.mismatches.length
              ? report.mismatches.map((m) => `${m.path}: expected ${m.expected}, found ${m.actual}`).join('\n')
              : undefined,
          },
  );
  if (!report.probe) {
    cases.push({ name: 'Linux probe agrees with the host decode', skipped: found ? 'probe off or did not finish' : 'no iBFT' });
    if (found && report.failure && report.verdict === 'fail' && !report.mismatches.length && !report.boot) {
      cases[cases.length - 1] = { name: 'Linux probe agrees with the host decode', failure: report.failure };
    }
  } else {
    cases.push({
      name: 'Linux probe agrees with the host decode',
      failure: report.probe.agrees
        ? undefined
        : report.probe.differences.map((d) => `${d.attribute}: host ${d.host ?? '(absent)'}, linux ${d.linux ?? '(absent)'}`).join('\n') ||
          'Linux showed no iBFT',
    });
  }
  for (const [i, e] of (report.boot?.expectations ?? []).entries()) {
    const name = `${report.boot!.kind}: /${e.pattern}/ within ${e.withinSeconds} s`;
    const earlierFailed = report.boot!.expectations.slice(0, i).some((x) => !x.matched);
    cases.push(
      e.matched
        ? { name }
        : earlierFailed
          ? { name, skipped: 'an earlier expectation did not match' }
          : { name, failure: report.boot!.failedOn ? `failed on: ${report.boot!.failedOn}` : (report.failure ?? 'did not match') },
    );
  }
  return cases;
}

export function formatJunit(report: BootReport, suiteName: string): string {
  const cases = bootReportCases(report);
  const failures = cases.filter((c) => c.failure).length;
  const skipped = cases.filter((c) => c.skipped).length;
  const seconds = (report.timings.totalMs / 1000).toFixed(3);
  const body = cases
    .map((c) => {
      const inner = c.failure
        ? `<failure message="${xml(c.failure.split('\n')[0])}">${xml(c.failure)}</failure>`
        : c.skipped
          ? `<skipped message="${xml(c.skipped)}"/>`
          : '';
      return `    <testcase classname="${xml(suiteName)}" name="${xml(c.name)}">${inner}</testcase>`;
    })
    .join('\n');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${seconds}">`,
    `  <testsuite name="${xml(suiteName)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${seconds}">`,
    body,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
