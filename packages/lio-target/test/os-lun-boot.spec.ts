// A real Debian root on an iSCSI LUN, booted from the iBFT, end to end: the
// OS image is built (ensureOsImage: mmdebstrap, root), the LIO appliance
// serves it copy-on-write as a block backstore on /dev/vda, and an initiator
// QEMU with Debian's stock virtio iPXE ROM `sanboot`s it with CHAP. GRUB on
// the LUN loads Debian's kernel and initramfs, whose open-iscsi logs in from
// the iBFT and mounts the root; the system prints where its root came from
// and powers off. A wrong CHAP secret fails fast; UEFI (q35, OVMF) too.
// The same appliance serves dracut-iscsi-root on its second disk: there
// dracut's initramfs (rd.iscsi.firmware=1) does the login, and the console
// shows that it did.
// Needs root, QEMU, ipxe-qemu, ovmf and the image tools (tools/setup), and the
// network for the first image build (about 90 s; cached afterwards).
import { existsSync } from 'node:fs';
import {
  DRACUT_REPORT_PREFIX,
  ensureOsImage,
  osImageBuildUnavailable,
  parseProofLines,
  PROOF_PREFIX,
  sha256File,
  workspaceCacheDir,
  type OsImage,
} from '@ibft-lab/qemu-runner';
import { applyDesiredState, readLiveState, startAppliance, targetcliSession, teardownLab, type RunningAppliance, type Transport } from '../src';
import {
  bootOsFromLun,
  DEBIAN_OS_LUN,
  DRACUT_BOOT_FAIL_PATTERNS,
  dracutBootExpectations,
  exportOsLun,
  OS_CHAP,
  OS_INITIATOR_IQN,
  OS_LAB,
  OS_TARGET_IQN,
  osLunDesiredState,
  type OsBootResult,
  type OsLun,
} from './support/os-lun-boot';

jest.setTimeout(900_000);

const skipReason = !existsSync('/usr/bin/qemu-system-x86_64')
  ? 'qemu-system-x86_64 is missing (tools/setup installs it)'
  : !existsSync('/usr/lib/ipxe/qemu/pxe-virtio.rom')
    ? 'Debian ipxe-qemu ROMs are missing (tools/setup installs them)'
    : osImageBuildUnavailable();
if (skipReason) console.log(`OS-on-a-LUN boot tests skipped: ${skipReason}`);
const describeBoot = skipReason ? describe.skip : describe;

/** dracut-iscsi-root, on the appliance's second disk (/dev/vdb), LUN 0 of a target of its own. */
const DRACUT_TARGET_IQN = 'iqn.2024-01.org.ibft-lab:oslun-dracut';
const DRACUT_OS_LUN: OsLun = { backstore: 'dracut', targetIqn: DRACUT_TARGET_IQN, disk: 1 };
const OS_LUNS = [DEBIAN_OS_LUN, DRACUT_OS_LUN];

function summary(result: OsBootResult): string {
  return result.steps.map((s) => `${s.matched ? '✓' : '✗'} ${s.name} ${s.atSeconds === null ? '' : `${s.atSeconds.toFixed(1)} s`}${s.failure ? ` (${s.failure})` : ''}`).join('\n');
}

describeBoot('a Debian root on an iSCSI LUN, booted from the iBFT', () => {
  let image: OsImage;
  let shaBefore: string;
  let dracutImage: OsImage;
  let dracutShaBefore: string;
  let appliance: RunningAppliance | undefined;
  let transport: Transport;
  let portal: { ip: string; port: number };
  const log = process.env.IBFT_LAB_VERBOSE ? (line: string) => console.log(line) : undefined;

  beforeAll(async () => {
    image = await ensureOsImage({ cacheDir: workspaceCacheDir(), recipe: 'debian-iscsi-root', log: (line) => console.log(line) });
    shaBefore = await sha256File(image.path);
    expect(shaBefore).toBe(image.sha256);
    dracutImage = await ensureOsImage({ cacheDir: workspaceCacheDir(), recipe: 'dracut-iscsi-root', log: (line) => console.log(line) });
    dracutShaBefore = await sha256File(dracutImage.path);
    expect(dracutShaBefore).toBe(dracutImage.sha256);
    // One appliance serves both images, each copy-on-write on its own virtio disk.
    appliance = await startAppliance({ disks: [{ path: image.path, format: 'raw' }, { path: dracutImage.path, format: 'raw' }], readyDeadlineMs: 300_000 });
    ({ transport } = await exportOsLun(appliance, OS_LUNS));
    // The fast path: QEMU's host address and the appliance's published iSCSI port (hostfwd), not the
    // 10.0.2.4 guestfwd relay, which reads whole disks about 25 times slower (facts.md).
    portal = { ip: '10.0.2.2', port: appliance.endpoint.iscsiPort };
  }, 900_000);

  afterAll(async () => {
    try {
      if (appliance) await teardownLab(transport, OS_LAB);
    } finally {
      await appliance?.stop();
    }
    // The appliance opened the image copy-on-write: not one byte of it changed.
    if (image) expect(await sha256File(image.path)).toBe(shaBefore);
    if (dracutImage) expect(await sha256File(dracutImage.path)).toBe(dracutShaBefore);
  });

  it('serves the image as a block backstore on /dev/vda: whole, copy-on-write, and a no-op re-apply', async () => {
    expect(appliance!.vm.argv.join(' ')).toContain(`file=${image.path},if=virtio,format=raw,snapshot=on`);
    const size = await transport.run(['blockdev', '--getsize64', '/dev/vda']);
    expect(size.stdout.trim()).toBe(String(image.sizeBytes));
    const live = await readLiveState(targetcliSession(transport));
    expect(live.storage_objects.find((o) => o.name === `ibftlab_${OS_LAB}_os`)).toMatchObject({ plugin: 'block', dev: '/dev/vda' });
    const lun = live.targets.find((t) => t.wwn === OS_TARGET_IQN)?.tpgs[0].luns.find((l) => l.index === 0);
    expect(lun?.storage_object).toBe(`/backstores/block/ibftlab_${OS_LAB}_os`);
    const again = await applyDesiredState(transport, osLunDesiredState(OS_LUNS));
    expect(again.commandsRun).toBe(0);
  });

  it('BIOS: iPXE sanboot → GRUB on the LUN → Debian\'s initramfs logs in from the iBFT with CHAP → root from the LUN → proof → power off', async () => {
    const result = await bootOsFromLun({ portal, firmware: 'bios', log, deadlineSeconds: 420 });
    console.log(`BIOS boot:\n${summary(result)}\nQEMU exit ${JSON.stringify(result.exit)} after ${result.totalSeconds.toFixed(1)} s`);
    expect(result.steps.filter((s) => !s.matched).map((s) => `${s.name}: ${s.failure ?? 'not reached'}`)).toEqual([]);
    const proof = parseProofLines(result.serial);
    console.log(proof.lines.map((l) => `${PROOF_PREFIX} ${l}`).join('\n'));
    expect(proof.root).toMatchObject({ source: '/dev/sda2', fstype: 'ext4', label: 'root', disk: 'sda' });
    expect(proof.root?.session).toMatch(/^session\d+$/);
    expect(proof.root?.detail).toContain('LIO-ORG');
    expect(proof.sessions).toEqual([{ target: OS_TARGET_IQN, portal: `${portal.ip}:${portal.port}`, transport: 'tcp', via: 'iscsiadm -m session' }]);
    expect(proof.ibft).toEqual({ initiator: OS_INITIATOR_IQN, target: OS_TARGET_IQN, portal: `${portal.ip}:${portal.port}` });
    expect(proof.os).toBe('Debian GNU/Linux 12 (bookworm)');
    expect(proof.done).toBe(true);
    // The initramfs, not a kernel command line, logged in: iscsistart read the iBFT.
    expect(result.serial).toMatch(new RegExp(`iscsistart: Logging into ${OS_TARGET_IQN} ${portal.ip.replace(/\./g, '\\.')}:${portal.port}`));
    expect(result.serial).toMatch(/Command line: \S+ root=LABEL=root ro console=ttyS0,115200\n/);
    // The guest powered itself off (QEMU exits 0 on ACPI power off; -no-reboot would end a reboot too, but the steps say it was a power off).
    expect(result.exit).toEqual({ code: 0, signal: null });
    expect(result.serial).not.toContain(OS_CHAP.password);
  });

  it('BIOS, dracut-iscsi-root: dracut\'s initramfs (rd.iscsi.firmware=1) logs in from the iBFT with CHAP → root from the LUN → proof → power off', async () => {
    const result = await bootOsFromLun({
      portal,
      targetIqn: DRACUT_TARGET_IQN,
      firmware: 'bios',
      expectations: dracutBootExpectations(DRACUT_TARGET_IQN),
      failOn: DRACUT_BOOT_FAIL_PATTERNS,
      log,
      deadlineSeconds: 600,
    });
    console.log(`BIOS dracut boot:\n${summary(result)}\nQEMU exit ${JSON.stringify(result.exit)} after ${result.totalSeconds.toFixed(1)} s`);
    expect(result.steps.filter((s) => !s.matched).map((s) => `${s.name}: ${s.failure ?? 'not reached'}`)).toEqual([]);
    const proof = parseProofLines(result.serial);
    console.log(proof.lines.map((l) => `${PROOF_PREFIX} ${l}`).join('\n'));
    // label= is empty here: lsblk reads it from udev's database, which systemd's initrd empties before the
    // switch to the root (initrd-udevadm-cleanup-db), and the proof runs before the root's udev has probed
    // the disk again. That the root was found by its label on the iSCSI disk, dracut's systemd says itself
    // ("Found device dev-disk-by\x2dlabel-root.device - <LIO's model> <label>", cut short on an 80-column console).
    expect(proof.root).toMatchObject({ source: '/dev/sda2', fstype: 'ext4', disk: 'sda' });
    expect(result.serial).toMatch(/Found device dev-disk-by.* - ibftlab_oslun_d root\./);
    expect(proof.root?.session).toMatch(/^session\d+$/);
    expect(proof.sessions).toEqual([{ target: DRACUT_TARGET_IQN, portal: `${portal.ip}:${portal.port}`, transport: 'tcp', via: 'iscsiadm -m session' }]);
    expect(proof.ibft).toEqual({ initiator: OS_INITIATOR_IQN, target: DRACUT_TARGET_IQN, portal: `${portal.ip}:${portal.port}` });
    expect(proof.os).toBe('Debian GNU/Linux 12 (bookworm)');
    expect(proof.done).toBe(true);
    // dracut logged in, from the table: the kernel command line names no target, no portal and no
    // credentials, only rd.iscsi.firmware/rd.iscsi.ibft; dracut's initramfs ran, its 95iscsi firmware login
    // made the session the root is on (the image's pre-mount hook, from sysfs and 95iscsi's own marker
    // /tmp/iscsistarted-firmware), and initramfs-tools' iscsistart never ran.
    const cmdline = /Command line: (.*)\n/.exec(result.serial)?.[1] ?? '';
    expect(cmdline).toMatch(/ root=LABEL=root ro console=ttyS0,115200 rd\.iscsi\.firmware=1 rd\.iscsi\.ibft=1$/);
    expect(cmdline).not.toMatch(/iqn\.|netroot|iscsi_target|rd\.iscsi\.(?:username|password|initiator)|ip=/);
    expect(result.serial).toMatch(/Welcome to .*dracut-\d+.*\(Initramfs\)/);
    const report = result.serial.split('\n').filter((l) => l.includes(DRACUT_REPORT_PREFIX));
    console.log(report.join('\n'));
    expect(report).toHaveLength(1);
    expect(report[0]).toMatch(new RegExp(`${DRACUT_REPORT_PREFIX} session${proof.root!.session!.replace('session', '')} target=${DRACUT_TARGET_IQN.replace(/\./g, '\\.')} portal=${portal.ip.replace(/\./g, '\\.')}:${portal.port} by=95iscsi firmware login`));
    expect(result.serial).not.toMatch(/iscsistart: Logging into/);
    expect(result.exit).toEqual({ code: 0, signal: null });
    expect(result.serial).not.toContain(OS_CHAP.password);
  });

  it('a wrong CHAP secret fails fast with iPXE\'s "Operation not permitted"', async () => {
    const started = Date.now();
    const result = await bootOsFromLun({
      portal,
      chap: { userid: OS_CHAP.userid, password: 'wrong-secret-0001' },
      expectations: [
        { name: 'sanboot', pattern: 'ibft-lab: sanboot', withinSeconds: 60 },
        { name: 'refused', pattern: 'Operation not permitted', withinSeconds: 30 },
      ],
      failOn: [/Booting from SAN device/, /Welcome to GRUB/],
      log,
      deadlineSeconds: 120,
    });
    console.log(`wrong CHAP:\n${summary(result)}\nQEMU exit ${JSON.stringify(result.exit)} after ${result.totalSeconds.toFixed(1)} s`);
    expect(result.steps.map((s) => [s.name, s.matched])).toEqual([
      ['sanboot', true],
      ['refused', true],
    ]);
    // iPXE's error URL (the closing parenthesis may still sit in the emulated UART when -no-reboot ends QEMU).
    expect(result.serial).toMatch(/Could not open SAN device: Operation not permitted \(http:\/\/ipxe\.org\/410d613c/);
    // `|| reboot` with -no-reboot: QEMU ends by itself, seconds after the refusal.
    expect(result.exit).not.toBeNull();
    expect(result.steps[1].atSeconds! - result.steps[0].atSeconds!).toBeLessThan(10);
    expect((Date.now() - started) / 1000).toBeLessThan(60);
    expect(result.serial).not.toMatch(/Linux version/);
  });

  it('UEFI (q35, OVMF, efi-virtio.rom): the same image boots through BOOTX64.EFI on its ESP', async () => {
    const result = await bootOsFromLun({ portal, firmware: 'uefi', log, deadlineSeconds: 420 });
    console.log(`UEFI boot:\n${summary(result)}\nQEMU exit ${JSON.stringify(result.exit)} after ${result.totalSeconds.toFixed(1)} s`);
    expect(result.steps.filter((s) => !s.matched).map((s) => `${s.name}: ${s.failure ?? 'not reached'}`)).toEqual([]);
    const proof = parseProofLines(result.serial);
    expect(proof.root).toMatchObject({ source: '/dev/sda2', label: 'root' });
    expect(proof.sessions.map((s) => [s.target, s.portal])).toEqual([[OS_TARGET_IQN, `${portal.ip}:${portal.port}`]]);
    expect(proof.ibft?.target).toBe(OS_TARGET_IQN);
    expect(result.serial).toMatch(/efi: EFI v/);
    expect(result.exit).toEqual({ code: 0, signal: null });
  });
});
