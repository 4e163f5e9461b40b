// The differential test of the replay corpus (packages/ibft/corpus): every table goes through the real
// kernel (Debian's cloud kernel in the probe guest, the table handed over with QEMU -acpitable) and
// through @ibft-lab/ibft's decoder. Linux must accept exactly the tables the decoder accepts and show
// exactly the /sys/firmware/ibft lines formatSysfs predicts (the kernel is the reference), and every
// consumer must read what the entry's readings.json records: fields, and where it differs from the table.
// IBFT_LAB_CORPUS_WRITE=1 writes readings.json from the run instead (review the diff before committing).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSummary, replayTable, type BootReport } from '../src';
import { corpusEntries, type ConsumerReading, type CorpusReadings } from '../../ibft/test/support/corpus';
import { qemuProcessesMentioning } from './support/process';

const DEADLINE_SECONDS = 480; // a cold cache builds the consumer probe first; TCG on 2 shared cores
jest.setTimeout((DEADLINE_SECONDS + 60) * 1000);

const skip = existsSync('/usr/bin/qemu-system-x86_64') ? undefined : 'qemu-system-x86_64 is not installed (tools/setup)';
if (skip) console.warn(`skipping the replay corpus test: ${skip}`);
const describeBoot = skip ? describe.skip : describe;
const WRITE = process.env.IBFT_LAB_CORPUS_WRITE === '1';

function readingOf(report: BootReport, name: string): ConsumerReading {
  const c = report.consumers?.find((x) => x.name === name);
  if (!c) throw new Error(`no ${name} in report.consumers (${report.failure})`);
  return { fields: c.fields, mismatches: c.mismatches, notes: c.notes, exitCode: c.exitCode };
}

describeBoot('the replay corpus through the real kernel and every consumer', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ibft-lab-corpus-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(corpusEntries().map((e) => [e.name, e] as const))('%s', async (name, entry) => {
    const tablePath = join(dir, `${name}.bin`);
    writeFileSync(tablePath, entry.bytes);
    const accepted = WRITE ? undefined : entry.readings?.accepted;
    if (!WRITE && !entry.readings) throw new Error(`${name}: no readings.json; run with IBFT_LAB_CORPUS_WRITE=1 and review it`);
    // Only the kernel must agree with the table: the other consumers' disagreements are what the corpus records.
    const report = await replayTable({ tablePath, consumers: ['kernel'], otherConsumers: 'report', invalidTable: 'boot', deadlineSeconds: DEADLINE_SECONDS });
    console.log(formatSummary(report, `corpus ${name}`));
    expect(qemuProcessesMentioning(tablePath)).toEqual([]);
    expect(report.probe).not.toBeNull();
    // The differential check: Linux's sysfs lines are the host's prediction (none for a rejected table).
    expect(report.probe!.differences).toEqual([]);
    expect(report.verdict).toBe('pass');
    const hostAccepts = report.consumers !== null;
    if (WRITE) {
      const readings: CorpusReadings = hostAccepts
        ? { accepted: true, consumers: Object.fromEntries((report.consumers ?? []).map((c) => [c.name, readingOf(report, c.name)])) }
        : { accepted: false };
      writeFileSync(join(entry.dir, 'readings.json'), `${JSON.stringify(readings, null, 2)}\n`);
      return;
    }
    expect(hostAccepts).toBe(accepted);
    if (!accepted) {
      expect(report.probe!.lines).toEqual([]);
      return;
    }
    expect(report.probe!.lines.length).toBeGreaterThan(0);
    const expected = (entry.readings as Extract<CorpusReadings, { accepted: true }>).consumers;
    expect(report.consumers!.map((c) => c.name)).toEqual(Object.keys(expected));
    for (const consumer of Object.keys(expected)) expect({ consumer, ...readingOf(report, consumer) }).toEqual({ consumer, ...expected[consumer] });
  });
});
