// Boots a Debian whose root is on an iSCSI LUN: the LIO appliance serves an OS
// image copy-on-write as a block backstore, an initiator QEMU boots it with
// Debian's stock virtio iPXE ROM (`sanboot`), and the serial console is read
// step by step (expectSerial). Shared by test/os-lun-boot.spec.ts and
// bench/debian-iscsi-root.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DRACUT_REPORT_PREFIX,
  expectSerial,
  GRUB_MARKERS,
  PROOF_PREFIX,
  registerTempDir,
  startQemu,
  stockRomPath,
  type Firmware,
  type SerialExpectation,
  type SerialExpectationResult,
} from '@ibft-lab/qemu-runner';
import { applianceDiskDevice, applyDesiredState, type DesiredStateInput, type RunningAppliance, type Transport } from '../../src';

export const OS_LAB = 'oslun';
export const OS_TARGET_IQN = 'iqn.2024-01.org.ibft-lab:oslun';
export const OS_INITIATOR_IQN = 'iqn.2010-04.org.ipxe:oslun-initiator';
export const OS_CHAP = { userid: 'oslun-user', password: 'oslun-secret-01' };
export const OS_MAC = '52:54:00:12:34:60';

/** One OS image exported as LUN 0 of its own target: the appliance's disk `disk` (0: /dev/vda). */
export interface OsLun {
  backstore: string;
  targetIqn: string;
  disk: number;
}

/** debian-iscsi-root's LUN: the appliance's first disk. */
export const DEBIAN_OS_LUN: OsLun = { backstore: 'os', targetIqn: OS_TARGET_IQN, disk: 0 };

/** Each OS image as LUN 0 of its own target, each with one ACL and one-way CHAP. */
export function osLunDesiredState(luns: OsLun[] = [DEBIAN_OS_LUN]): DesiredStateInput {
  return {
    lab: OS_LAB,
    backstores: luns.map((l) => ({ kind: 'block', name: l.backstore, device: applianceDiskDevice(l.disk) })),
    targets: luns.map((l) => ({
      iqn: l.targetIqn,
      tpgs: [
        {
          attributes: { authentication: true },
          luns: [{ index: 0, backstore: l.backstore }],
          acls: [{ initiatorIqn: OS_INITIATOR_IQN, mappedLuns: [{ index: 0, tpgLun: 0 }], chap: OS_CHAP }],
        },
      ],
    })),
  };
}

export async function exportOsLun(appliance: RunningAppliance, luns?: OsLun[]): Promise<{ transport: Transport; seconds: number }> {
  const transport = await appliance.connect();
  const report = await applyDesiredState(transport, osLunDesiredState(luns));
  return { transport, seconds: report.seconds };
}

/** The iPXE script: DHCP only when the ROM's own DHCP did not happen, CHAP, sanboot; a failed sanboot reboots (-no-reboot ends QEMU). */
export function sanbootScript(portal: { ip: string; port: number }, chap: { userid: string; password: string }, targetIqn = OS_TARGET_IQN): string {
  return [
    '#!ipxe',
    'isset ${net0/ip} || dhcp',
    `set initiator-iqn ${OS_INITIATOR_IQN}`,
    `set username ${chap.userid}`,
    `set password ${chap.password}`,
    'echo ibft-lab: sanboot',
    `sanboot iscsi:${portal.ip}::${portal.port}:0:${targetIqn} || reboot`,
    '',
  ].join('\n');
}

/** Lines that end a boot of the OS image at once. */
export const OS_BOOT_FAIL_PATTERNS: RegExp[] = [
  /Kernel panic/,
  /Unable to find (?:root|LVM|a medium)/,
  /Gave up waiting for root/,
  /^\(initramfs\)/m,
  /Could not open SAN device/,
  /Could not boot/,
  /Operation not permitted/,
  /grub rescue>/,
  /^error: /m,
  /No bootable device/,
  /UEFI Interactive Shell/,
];

/** The boot's steps, in order, each with its own deadline (TCG, 2 shared cores). */
export function osBootExpectations(): SerialExpectation[] {
  return [
    { name: 'iPXE', pattern: /iPXE \d/, withinSeconds: 30 },
    { name: 'sanboot', pattern: 'ibft-lab: sanboot', withinSeconds: 30 },
    { name: 'GRUB reads the kernel', pattern: GRUB_MARKERS.loadingKernel, withinSeconds: 30 },
    { name: 'GRUB reads the initrd', pattern: GRUB_MARKERS.loadingInitrd, withinSeconds: 60 },
    { name: 'GRUB boots', pattern: GRUB_MARKERS.booting, withinSeconds: 60 },
    { name: 'kernel', pattern: /Linux version \d/, withinSeconds: 30 },
    { name: 'initramfs', pattern: /Run \/init as init process/, withinSeconds: 30 },
    { name: 'iSCSI login', pattern: /Attached SCSI disk/, withinSeconds: 60 },
    { name: 'root mounted', pattern: /EXT4-fs \(sd[a-z]2\): mounted filesystem/, withinSeconds: 30 },
    { name: 'systemd', pattern: /Welcome to .*Debian/, withinSeconds: 30 },
    { name: 'proof: root', pattern: new RegExp(`${PROOF_PREFIX} root=`), withinSeconds: 90 },
    { name: 'proof: session', pattern: new RegExp(`${PROOF_PREFIX} session target=`), withinSeconds: 10 },
    { name: 'proof: done', pattern: `${PROOF_PREFIX} done`, withinSeconds: 10 },
    { name: 'power off', pattern: /reboot: Power down/, withinSeconds: 60 },
  ];
}

/**
 * A dracut initramfs's boot (dracut-iscsi-root): its systemd comes up in the
 * initramfs first, 95iscsi's initqueue logs in from the iBFT, the image's own
 * pre-mount hook says which session that made (DRACUT_REPORT_PREFIX), and
 * only then the root's systemd starts.
 */
export function dracutBootExpectations(targetIqn: string): SerialExpectation[] {
  const iqn = targetIqn.replace(/\./g, '\\.');
  return [
    { name: 'iPXE', pattern: /iPXE \d/, withinSeconds: 30 },
    { name: 'sanboot', pattern: 'ibft-lab: sanboot', withinSeconds: 30 },
    { name: 'GRUB reads the kernel', pattern: GRUB_MARKERS.loadingKernel, withinSeconds: 30 },
    { name: 'GRUB reads the initrd', pattern: GRUB_MARKERS.loadingInitrd, withinSeconds: 60 },
    { name: 'GRUB boots', pattern: GRUB_MARKERS.booting, withinSeconds: 90 },
    { name: 'kernel', pattern: /Linux version \d/, withinSeconds: 30 },
    // The kernel unpacks a 25 MB initramfs (debian-iscsi-root's is 7 MB): over 30 s once at load average 30.
    { name: 'initramfs', pattern: /Run \/init as init process/, withinSeconds: 90 },
    { name: "dracut's systemd", pattern: /Welcome to .*\(Initramfs\)/, withinSeconds: 30 },
    { name: 'iSCSI disk', pattern: /Attached SCSI disk/, withinSeconds: 180 },
    { name: 'dracut: firmware login', pattern: new RegExp(`${DRACUT_REPORT_PREFIX} session\\d+ target=${iqn} portal=\\S+ by=95iscsi firmware login`), withinSeconds: 120 },
    { name: 'root mounted', pattern: /EXT4-fs \(sd[a-z]2\): mounted filesystem/, withinSeconds: 120 },
    { name: 'systemd', pattern: /Welcome to (?!.*Initramfs).*Debian/, withinSeconds: 60 },
    // systemd → proof took 50 s, and more than 90 s once, under load averages of 24 and 25 (2 cores shared with
    // other engineers' VMs); debian-iscsi-root's took 39 s in the same run. Why the dracut root is slower
    // there is not established (the proof unit and its ordering are the same).
    { name: 'proof: root', pattern: new RegExp(`${PROOF_PREFIX} root=`), withinSeconds: 180 },
    { name: 'proof: session', pattern: new RegExp(`${PROOF_PREFIX} session target=`), withinSeconds: 10 },
    { name: 'proof: done', pattern: `${PROOF_PREFIX} done`, withinSeconds: 10 },
    // dracut's shutdown (dracut-shutdown.service unpacks the 25 MB initramfs into /run/initramfs on stop, and
    // the machine returns into it to log out) took 80 s under load average 24.
    { name: 'power off', pattern: /reboot: Power down/, withinSeconds: 150 },
  ];
}

/** Lines that end a dracut boot at once: the initramfs-tools ones, and dracut's own ways of giving up. */
export const DRACUT_BOOT_FAIL_PATTERNS: RegExp[] = [
  ...OS_BOOT_FAIL_PATTERNS,
  /Entering emergency mode/,
  /dracut-initqueue\[\d+\]: Warning: dracut-initqueue: timeout/,
  /dracut Warning: Could not boot/,
  /Warning: \/dev\/\S+ does not exist/,
  /iscsiadm: Could not get list of targets from firmware/,
  // Not "iscsiadm: Log-in to iscsi target failed": 95iscsi's initqueue runs its firmware login more than once
  // (online, settled), and a second one finds the session present and says that too.
];

export interface OsBootOptions {
  portal: { ip: string; port: number };
  /** The target the script sanboots (its LUN 0); default debian-iscsi-root's. */
  targetIqn?: string;
  chap?: { userid: string; password: string };
  firmware?: Firmware;
  expectations?: SerialExpectation[];
  failOn?: RegExp[];
  /** Whole-run bound: QEMU is stopped when it passes, whatever the steps say. */
  deadlineSeconds?: number;
  log?: (line: string) => void;
}

export interface OsBootResult {
  steps: SerialExpectationResult[];
  serial: string;
  argv: string[];
  /** QEMU's exit: the guest powered itself off (-no-reboot turns a reboot into an exit too). */
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  totalSeconds: number;
}

export async function bootOsFromLun(options: OsBootOptions): Promise<OsBootResult> {
  const firmware = options.firmware ?? 'bios';
  const tftpDir = mkdtempSync(join(tmpdir(), 'ibft-lab-tftp-'));
  const release = registerTempDir(tftpDir);
  writeFileSync(join(tftpDir, 'boot.ipxe'), sanbootScript(options.portal, options.chap ?? OS_CHAP, options.targetIqn));
  const deadlineMs = (options.deadlineSeconds ?? 300) * 1000;
  const vm = await startQemu(
    {
      accel: 'tcg',
      memoryMiB: 512,
      firmware,
      machine: firmware === 'uefi' ? 'q35' : undefined,
      nics: [
        {
          model: 'virtio-net-pci',
          // Debian's virtio ROMs are built for the modern device (1af4:1041).
          properties: { 'disable-legacy': 'on' },
          romfile: stockRomPath('virtio-net-pci', firmware),
          mac: OS_MAC,
          netdev: { kind: 'user', tftpDir, bootfile: 'boot.ipxe' },
        },
      ],
      extraArgs: ['-no-reboot'],
    },
    { log: options.log, serialPrefix: `[os-${firmware}] `, deadlineMs },
  );
  try {
    const steps = await expectSerial(vm, options.expectations ?? osBootExpectations(), { failOn: options.failOn ?? OS_BOOT_FAIL_PATTERNS });
    // After the last step the guest powers off by itself; give it a moment, then stop it anyway.
    const exit = await Promise.race([vm.exited, new Promise<null>((r) => setTimeout(() => r(null), 15_000).unref())]);
    return { steps, serial: vm.serialText(), argv: vm.argv, exit, totalSeconds: (Date.now() - vm.startedAt) / 1000 };
  } finally {
    await vm.stop();
    release();
  }
}
