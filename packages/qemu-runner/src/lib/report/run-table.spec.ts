import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatRunTable, lastOfRunTable, processStartedAtMs } from './run-table';

describe('the run table of nx run-many -t boot-vm', () => {
  let labs: string;
  beforeEach(() => (labs = mkdtempSync(join(tmpdir(), 'ibft-lab-run-table-'))));
  afterEach(() => rmSync(labs, { recursive: true, force: true }));

  const report = (lab: string, verdict: 'pass' | 'fail', totalMs: number, mtimeMs?: number) => {
    const dir = join(labs, lab, 'boot-vm');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'report.json');
    writeFileSync(file, JSON.stringify({ verdict, run: { lab }, probe: verdict === 'pass' ? { agrees: true } : null, timings: { totalMs } }));
    writeFileSync(join(dir, 'report.html'), '');
    if (mtimeMs !== undefined) utimesSync(file, mtimeMs / 1000, mtimeMs / 1000);
  };

  it('is printed by the last lab of the run only, once, with every lab of the run and no other', () => {
    const runStarted = Date.now() - 60_000;
    report('old-lab', 'pass', 1000, runStarted - 3_600_000); // not in this run
    report('a', 'pass', 12_340);
    expect(lastOfRunTable(labs, ['a', 'b'], runStarted)).toBeUndefined(); // b has not finished
    report('b', 'fail', 8_000);
    const table = lastOfRunTable(labs, ['a', 'b'], runStarted);
    expect(table?.split('\n')).toEqual([
      'all labs of this run: 1 of 2 passed',
      '  lab  verdict  probe   seconds  report',
      `  a    PASS     agrees  12.3     ${join(labs, 'a/boot-vm/report.html')}`,
      `  b    FAIL     off     8.0      ${join(labs, 'b/boot-vm/report.html')}`,
    ]);
    expect(lastOfRunTable(labs, ['a', 'b'], runStarted)).toBeUndefined();
  });

  it('a report older than the run (a lab that did not run this time) holds the table back', () => {
    const runStarted = Date.now();
    report('a', 'pass', 1000);
    report('b', 'pass', 1000, runStarted - 600_000);
    expect(lastOfRunTable(labs, ['a', 'b'], runStarted)).toBeUndefined();
  });

  it('knows when this process started', () => {
    const started = processStartedAtMs(process.pid) as number;
    expect(Math.abs(started - (Date.now() - process.uptime() * 1000))).toBeLessThan(3000);
    expect(formatRunTable([], labs)).toBe('all labs of this run: 0 of 0 passed\n  lab  verdict  probe  seconds  report');
  });
});
