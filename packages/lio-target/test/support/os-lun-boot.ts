// Boots a Debian whose root is on an iSCSI LUN: the LIO appliance serves an OS
// image copy-on-write as a block backstore, an initiator QEMU boots it with
// Debian's stock virtio iPXE ROM (`sanboot`), and the serial console is read
// step by step (expectSerial). Shared by test/os-lun-boot.spec.ts and
// bench/debian-iscsi-root.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
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

/** LUN 0 on the appliance's first disk (/dev/vda), one ACL with one-way CHAP. */
export function osLunDesiredState(): DesiredStateInput {
  return {
    lab: OS_LAB,
    backstores: [{ kind: 'block', name: 'os', device: applianceDiskDevice(0) }],
    targets: [
      {
        iqn: OS_TARGET_IQN,
        tpgs: [
          {
            attributes: { authentication: true },
            luns: [{ index: 0, backstore: 'os' }],
            acls: [{ initiatorIqn: OS_INITIATOR_IQN, mappedLuns: [{ index: 0, tpgLun: 0 }], chap: OS_CHAP }],
          },
        ],
      },
    ],
  };
}

export async function exportOsLun(appliance: RunningAppliance): Promise<{ transport: Transport; seconds: number }> {
  const transport = await appliance.connect();
  const report = await applyDesiredState(transport, osLunDesiredState());
  return { transport, seconds: report.seconds };
}

/** The iPXE script: DHCP only when the ROM's own DHCP did not happen, CHAP, sanboot; a failed sanboot reboots (-no-reboot ends QEMU). */
export function sanbootScript(portal: { ip: string; port: number }, chap: { userid: string; password: string }): string {
  return [
    '#!ipxe',
    'isset ${net0/ip} || dhcp',
    `set initiator-iqn ${OS_INITIATOR_IQN}`,
    `set username ${chap.userid}`,
    `set password ${chap.password}`,
    'echo ibft-lab: sanboot',
    `sanboot iscsi:${portal.ip}::${portal.port}:0:${OS_TARGET_IQN} || reboot`,
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

export interface OsBootOptions {
  portal: { ip: string; port: number };
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
  writeFileSync(join(tftpDir, 'boot.ipxe'), sanbootScript(options.portal, options.chap ?? OS_CHAP));
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
