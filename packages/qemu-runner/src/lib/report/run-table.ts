// `nx run-many -t boot-vm` ends with one table over its labs. Nx gives an
// executor no end-of-run hook, but each boot-vm sees the run's task graph: the
// one that finishes last (every lab of the run has a report written since the
// run began) prints the table, once.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { processStartTime } from '@ibft-lab/cache';
import { readReportIndexRows, type ReportIndexRow } from './report-index';

/** When process `pid` started, in ms since the epoch (Linux /proc; undefined elsewhere). */
export function processStartedAtMs(pid: number): number | undefined {
  const ticks = processStartTime(pid);
  if (!ticks) return undefined;
  try {
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1];
    // USER_HZ is 100 on every Linux architecture we run on.
    return btime ? Number(btime) * 1000 + Number(ticks) * 10 : undefined;
  } catch {
    return undefined;
  }
}

export function formatRunTable(rows: ReportIndexRow[], labsDir: string): string {
  const header = ['lab', 'verdict', 'probe', 'seconds', 'report'];
  const body = rows.map((r) => [r.lab, r.verdict.toUpperCase(), r.probe, r.seconds === null ? '–' : r.seconds.toFixed(1), join(labsDir, r.href)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ')}`.trimEnd();
  const passed = rows.filter((r) => r.verdict === 'pass').length;
  return [`all labs of this run: ${passed} of ${rows.length} passed`, line(header), ...body.map(line)].join('\n');
}

/**
 * The table, when every lab in `labs` has a report written at or after
 * `runStartedMs` and no other boot-vm of the run printed it yet; else undefined.
 */
export function lastOfRunTable(labsDir: string, labs: string[], runStartedMs: number): string | undefined {
  const wanted = new Set(labs);
  const fresh = readReportIndexRows(labsDir).filter((row) => {
    if (!wanted.has(row.folder)) return false;
    try {
      // Second-resolution start time: allow for it.
      return statSync(join(labsDir, row.folder, 'boot-vm', 'report.json')).mtimeMs >= runStartedMs - 2000;
    } catch {
      return false;
    }
  });
  if (fresh.length !== wanted.size) return undefined;
  try {
    // One printer per run: the first to create the run's marker.
    mkdirSync(join(labsDir, '.run-tables'), { recursive: true });
    mkdirSync(join(labsDir, '.run-tables', String(Math.floor(runStartedMs / 1000))));
  } catch {
    return undefined;
  }
  return formatRunTable(fresh, labsDir);
}

/** The projects whose task of the running target is in this Nx run (an executor context, read structurally). */
export function projectsInRun(context: { targetName?: string; taskGraph?: { tasks: Record<string, { target: { project: string; target: string } }> } }): string[] {
  return Object.values(context.taskGraph?.tasks ?? {})
    .filter((task) => task.target.target === context.targetName)
    .map((task) => task.target.project);
}
