// Real boots: QEMU (TCG) + Debian's stock iPXE ROMs + a real tgt target on
// loopback + the Linux probe guest (Debian cloud kernel, built and cached on
// first use). Each run's iBFT is decoded on the host and read by Linux.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootLab, formatSummary, writeBootReport, type BootLabOptions, type BootReport } from '../src';
import { INITIATOR_IQN, realBootSkipReason, startLabFixture, TARGET_IQN, type LabFixture } from './support/lab';
import { qemuProcessesMentioning } from './support/process';

const DEADLINE_SECONDS = 420; // first run builds the probe guest; TCG on 2 shared cores
jest.setTimeout((DEADLINE_SECONDS + 60) * 1000);

const skip = realBootSkipReason();
if (skip) console.warn(`skipping real boot tests: ${skip}`);
const describeBoot = skip ? describe.skip : describe;

/** These tests are the kernel probe's: the other consumers have test/consumers.spec.ts. */
const KERNEL_ONLY = { consumers: ['kernel'], otherConsumers: 'skip' } as const;

async function boot(fixture: LabFixture, options: Omit<BootLabOptions, 'deadlineSeconds'>): Promise<BootReport> {
  const report = await bootLab({ deadlineSeconds: DEADLINE_SECONDS, ...KERNEL_ONLY, ...options });
  writeBootReport(report, join(fixture.dir, 'out'));
  console.log(formatSummary(report));
  expect(qemuProcessesMentioning(fixture.dir)).toEqual([]);
  return report;
}

function expectNoFailure(report: BootReport): void {
  if (report.verdict !== 'pass') console.error(report.failure, report.serialLog.slice(-3000));
  expect(report.failure).toBeNull();
  expect(report.verdict).toBe('pass');
}

function expectPass(report: BootReport): void {
  if (report.verdict !== 'pass') console.error(report.failure, report.probe?.differences, report.serialLog.slice(-3000));
  expect(report.failure).toBeNull();
  expect(report.verdict).toBe('pass');
  expect(report.probe?.agrees).toBe(true);
  expect(report.probe?.differences).toEqual([]);
  // Host decode and Linux agree on every line, not just on the expected fields.
  expect(report.probe?.lines).toEqual(report.sysfsLines);
}

describeBoot('bootLab with stock iPXE ROMs against a real tgt target', () => {
  let fixture: LabFixture | undefined;
  afterEach(async () => {
    await fixture?.close();
    fixture = undefined;
  });

  it('BIOS + DHCP: host decode and Linux probe agree, expectations met, report files written', async () => {
    fixture = await startLabFixture();
    const { port } = fixture.target;
    const scriptPath = fixture.writeScript({
      initiatorIqn: INITIATOR_IQN,
      sanhooks: [{ targets: [{ server: '10.0.2.2', port, lun: 1, targetIqn: TARGET_IQN }] }],
    });
    const report = await boot(fixture, {
      scriptPath,
      probe: true,
      expectations: {
        initiator: { name: INITIATOR_IQN },
        nics: [{ ip: '10.0.2.15', prefix: 24, gateway: '10.0.2.2', dns: '10.0.2.3', origin: 'dhcp', mac: '52:54:00:12:34:56' }],
        targets: [{ ip: '10.0.2.2', port, lun: 1, name: TARGET_IQN, chapType: 'none' }],
      },
    });
    expectPass(report);
    expect(report.mismatches).toEqual([]);
    expect(report.timings.qemuStartToMarkerMs).toBeGreaterThan(0);
    expect(report.timings.qemuStartToIbftMs).toBeGreaterThanOrEqual(report.timings.qemuStartToMarkerMs as number);
    const out = join(fixture.dir, 'out');
    for (const file of ['report.json', 'junit.xml', 'serial.log', 'ibft.bin', 'ibft.sysfs.txt']) expect(existsSync(join(out, file))).toBe(true);
    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(json).toMatchObject({ verdict: 'pass', mismatches: [], probe: { agrees: true, differences: [] } });
    expect(json.qemu[0]).toBe('qemu-system-x86_64');
    expect(Object.keys(json.timings)).toEqual(['qemuStartToMarkerMs', 'qemuStartToIbftMs', 'markerToProbeEndMs', 'totalMs']);
    expect(json.consumers.map((c: { name: string }) => c.name)).toEqual(['kernel']);
    expect(readFileSync(join(out, 'ibft.sysfs.txt'), 'utf8')).toContain(`initiator/initiator-name=${INITIATOR_IQN}`);
    expect(readFileSync(join(out, 'junit.xml'), 'utf8')).toMatch(/tests="4" failures="0"/);
    expect(readFileSync(join(out, 'serial.log'), 'utf8')).toContain('== config done ==');
  });

  it('keepFirmwareLease skips the second DHCP and the iBFT stays the same; a wrong expectation (another initiator IQN) fails naming the field', async () => {
    fixture = await startLabFixture();
    const { port } = fixture.target;
    const script = (keepFirmwareLease: boolean) =>
      fixture!.writeScript({
        network: { mode: 'dhcp', keepFirmwareLease },
        initiatorIqn: INITIATOR_IQN,
        sanhooks: [{ targets: [{ server: '10.0.2.2', port, lun: 1, targetIqn: TARGET_IQN }] }],
      });
    const dhcpRuns = (report: BootReport) => report.serialLog.split('Configuring (net0').length - 1;
    const kept = await boot(fixture, { scriptPath: script(true), probe: false, expectations: { initiator: { name: INITIATOR_IQN } } });
    expectNoFailure(kept);
    expect(kept.serialLog).not.toMatch(/isset.*(error|not found)/i);
    // The stock ROM's own DHCP (for the TFTP script) is the only one.
    expect(dhcpRuns(kept)).toBe(1);

    const report = await boot(fixture, {
      scriptPath: script(false),
      probe: false,
      expectations: { initiator: { name: 'iqn.2010-04.org.example:someone-else' } },
    });
    expect(dhcpRuns(report)).toBe(2);
    expect(kept.ibft).toEqual(report.ibft);
    expect(kept.sysfsLines).toEqual(report.sysfsLines);
    expect(report.verdict).toBe('fail');
    expect(report.mismatches).toEqual([
      { path: 'initiator.name', expected: 'iqn.2010-04.org.example:someone-else', actual: INITIATOR_IQN },
    ]);
    expect(report.failure).toMatch(/initiator\.name/);
    expect(formatSummary(report)).toMatch(/✗ initiator\.name/);
    expect(readFileSync(join(fixture.dir, 'out', 'junit.xml'), 'utf8')).toMatch(/failures="1"[\s\S]*initiator\.name: expected/);
  });

  it("the quick ProxyDHCP responder answers the stock ROM's DHCPDISCOVER, and the iBFT is byte for byte the one of a boot without it", async () => {
    fixture = await startLabFixture();
    const { port } = fixture.target;
    const scriptPath = fixture.writeScript({ initiatorIqn: INITIATOR_IQN, sanhooks: [{ targets: [{ server: '10.0.2.2', port, lun: 1, targetIqn: TARGET_IQN }] }] });
    const quick = await boot(fixture, { scriptPath, probe: false, quickProxyDhcp: true });
    expectNoFailure(quick);
    expect(quick.proxyDhcpOffers).toBeGreaterThanOrEqual(1);
    const plain = await boot(fixture, { scriptPath, probe: false });
    expectNoFailure(plain);
    expect(plain.proxyDhcpOffers).toBeUndefined();
    expect(Buffer.from(quick.ibftBytes!).toString('hex')).toBe(Buffer.from(plain.ibftBytes!).toString('hex'));
    expect(quick.sysfsLines).toEqual(plain.sysfsLines);
    expect(quick.ibft?.nics[0]).toMatchObject({ dhcp: { address: '10.0.2.2' } });
  });

  it('an unreachable target fails fast with the iPXE line and its ipxe.org URL, well before the deadline', async () => {
    fixture = await startLabFixture();
    const closedPort = fixture.target.port;
    await fixture.target.stop(); // nothing listens there any more
    const scriptPath = fixture.writeScript({
      initiatorIqn: INITIATOR_IQN,
      sanhooks: [{ targets: [{ server: '10.0.2.2', port: closedPort, lun: 1, targetIqn: TARGET_IQN }] }],
    });
    const report = await boot(fixture, { scriptPath, probe: false });
    expect(report.verdict).toBe('fail');
    expect(report.failure).toMatch(/Could not open SAN device|Connection refused/);
    expect(report.ipxeErrorUrl).toMatch(/^https?:\/\/ipxe\.org\/[0-9a-f]{8}$/);
    expect(report.timings.qemuStartToMarkerMs).toBeNull();
    expect(report.timings.totalMs).toBeLessThan(120_000);
    expect(formatSummary(report)).toContain(report.ipxeErrorUrl as string);
  });

  it('BIOS + static IP: origin manual, addresses as configured, probe agrees', async () => {
    fixture = await startLabFixture();
    const { port } = fixture.target;
    const scriptPath = fixture.writeScript({
      network: { mode: 'static', ip: '10.0.2.77', prefix: 24, gateway: '10.0.2.2', dns: ['10.0.2.3'] },
      initiatorIqn: INITIATOR_IQN,
      sanhooks: [{ targets: [{ server: '10.0.2.2', port, lun: 1, targetIqn: TARGET_IQN }] }],
    });
    const report = await boot(fixture, {
      scriptPath,
      probe: true,
      expectations: {
        initiator: { name: INITIATOR_IQN },
        nics: [{ ip: '10.0.2.77', prefix: 24, gateway: '10.0.2.2', dns: '10.0.2.3', origin: 'manual' }],
        targets: [{ ip: '10.0.2.2', port, lun: 1, name: TARGET_IQN }],
      },
    });
    expectPass(report);
  });

  it('BIOS + CHAP: chap fields agree (secret compared as a salted hash), and no secret in any file or the summary', async () => {
    const chap = { username: 'labuser', password: 'Secr3tChapPw16' };
    fixture = await startLabFixture({ chap });
    const { port } = fixture.target;
    const scriptPath = fixture.writeScript({
      initiatorIqn: INITIATOR_IQN,
      sanhooks: [{ targets: [{ server: '10.0.2.2', port, lun: 1, targetIqn: TARGET_IQN }], chap }],
    });
    const lines: string[] = [];
    const report = await boot(fixture, {
      scriptPath,
      probe: true,
      log: (line) => lines.push(line),
      expectations: {
        initiator: { name: INITIATOR_IQN },
        targets: [{ port, lun: 1, name: TARGET_IQN, chapType: 'chap', chapName: chap.username, chapSecret: chap.password }],
      },
    });
    expectPass(report);
    expect(report.sysfsLines).toContain('target0/chap-name=labuser');
    const written = fixture.allText(join(fixture.dir, 'out'));
    for (const text of [written, formatSummary(report), lines.join('\n'), report.serialLog]) {
      expect(text).not.toContain(chap.password);
      expect(text).not.toMatch(/salted-sha256/);
    }
  });

  it('UEFI (OVMF, efi-rtl8139.rom) + DHCP: iBFT found through ACPI, probe agrees; the consumer probe (a 13 MB initrd the EFI stub loads) too', async () => {
    if (!existsSync('/usr/share/OVMF/OVMF_CODE_4M.fd') && !existsSync('/usr/share/OVMF/OVMF_CODE.fd')) {
      console.warn('skipping UEFI boot: OVMF is not installed (Debian package ovmf, tools/setup)');
      return;
    }
    fixture = await startLabFixture();
    const { port } = fixture.target;
    const scriptPath = fixture.writeScript({
      initiatorIqn: INITIATOR_IQN,
      sanhooks: [{ targets: [{ server: '10.0.2.2', port, lun: 1, targetIqn: TARGET_IQN }] }],
    });
    const report = await boot(fixture, {
      scriptPath,
      firmware: 'uefi',
      probe: true,
      consumers: ['kernel', 'open-iscsi', 'dracut', 'networkmanager'],
      otherConsumers: 'report',
      expectations: { initiator: { name: INITIATOR_IQN }, targets: [{ port, lun: 1, name: TARGET_IQN }] },
    });
    expectPass(report);
    expect(report.ibftAddress).toBeGreaterThan(0x100000);
    expect(report.consumers?.map((c) => [c.name, c.agrees])).toEqual(['kernel', 'iscsiadm', 'iscsistart', 'dracut', 'networkmanager'].map((n) => [n, true]));
  });
});
