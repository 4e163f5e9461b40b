// Real boots of a system under test after iPXE built the iBFT: QEMU (TCG),
// Debian's stock ROM, a real tgt target on loopback, and a small Linux that
// reads the table the firmware left (built from Debian packages), booted as a
// kernel + initrd by iPXE and as a CD the firmware boots after iPXE exits.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootLab, formatJunit, formatSummary, reportJson, type BootReport, type SystemUnderTest } from '../src';
import { INITIATOR_IQN, realBootSkipReason, startLabFixture, TARGET_IQN, type LabFixture } from './support/lab';
import { qemuProcessesMentioning } from './support/process';
import { buildSutImages, SUT_SAYS, type SutImages } from './support/sut-images';

jest.setTimeout(600_000);

const skip = realBootSkipReason();
if (skip) console.warn(`skipping system-under-test boots: ${skip}`);
const describeBoot = skip ? describe.skip : describe;

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describeBoot('a system under test boots after the iBFT exists, and proves it read it', () => {
  let fixture: LabFixture;
  let images: SutImages;
  let work: string;
  let scriptPath: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ibft-lab-sut-'));
    images = await buildSutImages(work);
    fixture = await startLabFixture();
    scriptPath = fixture.writeScript({
      initiatorIqn: INITIATOR_IQN,
      sanhooks: [{ targets: [{ server: '10.0.2.2', port: fixture.target.port, lun: 1, targetIqn: TARGET_IQN }] }],
    });
  });
  afterAll(async () => {
    await fixture?.close();
    rmSync(work, { recursive: true, force: true });
  });

  async function boot(sut: SystemUnderTest, probe = false): Promise<BootReport> {
    const report = await bootLab({
      scriptPath,
      probe,
      memoryMiB: 512,
      deadlineSeconds: 300,
      expectations: { initiator: { name: INITIATOR_IQN }, targets: [{ name: TARGET_IQN, lun: 1 }] },
      systemUnderTest: sut,
    });
    console.log(formatSummary(report));
    expect(qemuProcessesMentioning(fixture.dir)).toEqual([]);
    return report;
  }

  const readsTable = { pattern: `${SUT_SAYS.replace(/[()]/g, '\\$&')}${INITIATOR_IQN} target=${TARGET_IQN}`, withinSeconds: 120 };

  it('kernel: iPXE boots the given kernel and initrd in the session that built the table; each expectation is timed, JUnit has a case each', async () => {
    const report = await boot({ kind: 'kernel', kernel: images.kernel, initrd: images.initrd, cmdline: 'console=ttyS0 rdinit=/init sut-from=ipxe', expect: [{ pattern: 'sut: booted sut-from=ipxe', withinSeconds: 120 }, readsTable] });
    if (report.verdict !== 'pass') console.error(report.serialLog.slice(-3000));
    expect(report.failure).toBeNull();
    expect(report.verdict).toBe('pass');
    expect(report.mismatches).toEqual([]);
    expect(report.probe).toBeNull();
    expect(report.boot).toMatchObject({ kind: 'kernel', verdict: 'pass', failedOn: null });
    const [first, second] = report.boot!.expectations;
    expect(first.matched && second.matched).toBe(true);
    expect(second.atSeconds!).toBeGreaterThanOrEqual(first.atSeconds!);
    expect(reportJson(report).boot).toMatchObject({ kind: 'kernel', verdict: 'pass', serialLog: 'serial.log' });
    const junit = formatJunit(report, 'sut');
    expect(junit).toMatch(/name="kernel: \/sut: booted sut-from=ipxe\/ within 120 s"><\/testcase>/);
    expect(junit).toMatch(/failures="0"/);
  });

  it('exit + cdrom: iPXE returns to SeaBIOS, which boots the ISO; Linux there still finds the table iPXE built', async () => {
    const before = sha256(images.iso);
    const report = await boot({ kind: 'exit', media: { cdrom: images.iso }, expect: [{ pattern: 'sut: booted sut-from=cdrom', withinSeconds: 120 }, readsTable] });
    if (report.verdict !== 'pass') console.error(report.serialLog.slice(-3000));
    expect(report.verdict).toBe('pass');
    expect(report.boot?.expectations.every((e) => e.matched)).toBe(true);
    expect(report.serialLog).toMatch(/Booting from DVD\/CD/);
    expect(sha256(images.iso)).toBe(before);
  });

  it('a fail pattern ends the run at once, naming the line; later expectations stay unmatched and JUnit skips them', async () => {
    const started = Date.now();
    const report = await boot({
      kind: 'kernel',
      kernel: images.kernel,
      initrd: images.initrd,
      cmdline: 'console=ttyS0 rdinit=/no-such-init panic=-1',
      expect: [{ pattern: 'sut: booted', withinSeconds: 200 }, readsTable],
    });
    expect(report.verdict).toBe('fail');
    expect(report.boot?.failedOn).toMatch(/Kernel panic|No working init found|can't run/);
    expect(report.failure).toMatch(/^kernel: expectation 1 \/sut: booted\/ did not match within 200 s: boot failed: /);
    expect(report.boot?.expectations.map((e) => e.matched)).toEqual([false, false]);
    expect(Date.now() - started).toBeLessThan(150_000);
    expect(formatJunit(report, 'sut')).toMatch(/<skipped message="an earlier expectation did not match"\/>/);
  });

  it('with probe: true the Linux probe boots first on its own, then the system under test', async () => {
    const report = await boot({ kind: 'kernel', kernel: images.kernel, initrd: images.initrd, cmdline: 'console=ttyS0 rdinit=/init sut-from=ipxe', expect: [readsTable] }, true);
    expect(report.verdict).toBe('pass');
    expect(report.probe?.agrees).toBe(true);
    expect(report.boot?.verdict).toBe('pass');
    expect(report.serialLog).toContain('--- ibft-lab: the probe boot ends; the system under test boots ---');
  });
});
