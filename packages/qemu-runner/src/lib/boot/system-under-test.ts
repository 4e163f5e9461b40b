// What boots after the firmware has built the iBFT: the user's kernel and
// initramfs, the SAN disk iPXE hooked (sanboot), or the firmware's next boot
// device (exit: an installer ISO, a disk). The run proves it used the table by
// serial expectations: ordered patterns, each within its own deadline, and
// patterns that fail the run at once.
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { expectSerial, type DriveSpec, type QemuVm } from '../vm';
import { IPXE_FAILURE_PATTERNS, LINUX_FAILURE_PATTERNS } from './ipxe-failures';

export interface BootExpectation {
  /** A regular expression (JavaScript syntax) matched on the plain serial text. */
  pattern: string;
  /** Counted from the previous expectation's match (the first: from the script's marker). */
  withinSeconds: number;
}

export interface KernelUnderTest {
  kind: 'kernel';
  kernel: string;
  initrd?: string;
  cmdline?: string;
}

export interface ExitUnderTest {
  kind: 'exit';
  media?: { cdrom?: string; disk?: string };
}

/** iPXE boots the SAN disk the script hooked (LUN 0, drive 0x80), as production iSCSI boot does. */
export interface SanbootUnderTest {
  kind: 'sanboot';
}

export type SystemUnderTest = (KernelUnderTest | SanbootUnderTest | ExitUnderTest) & {
  expect: BootExpectation[];
  /** Patterns that fail the run as soon as they appear; default DEFAULT_FAIL_ON. */
  failOn?: string[];
};

/** Lines after which no system we boot goes on to use its root: panics, initramfs rescue shells. */
export const DEFAULT_FAIL_ON = [
  'Kernel panic',
  'Unable to find root',
  'Gave up waiting for root',
  // initramfs-tools drops to "(initramfs) " and dracut to its emergency shell when root is missing.
  '\\(initramfs\\) ',
  'dracut-initqueue.*timeout',
  'Entering emergency mode',
  'emergency shell',
  // open-iscsi refused by the target's CHAP: final (initramfs-tools runs `iscsistart -b` once; no retry makes a
  // wrong secret right), and without this the run would wait out the initramfs' root delay for "Gave up".
  '(?:iscsistart|iscsiadm): .*(?:login failed due to authorization failure|Login authentication failed|Login failed to authenticate)',
];

export interface ExpectationResult {
  pattern: string;
  withinSeconds: number;
  matched: boolean;
  /** Seconds after QEMU started when it matched. */
  atSeconds: number | null;
}

export interface SystemUnderTestResult {
  kind: SystemUnderTest['kind'];
  verdict: 'pass' | 'fail';
  expectations: ExpectationResult[];
  /** The line that failed the run (a failOn match or an iPXE error), if one did. */
  failedOn: string | null;
}

/** Bad input, named by field, before any VM starts. */
export function checkSystemUnderTest(sut: SystemUnderTest, field = 'systemUnderTest'): void {
  const files: Array<[string, string | undefined]> =
    sut.kind === 'kernel'
      ? [
          ['kernel', sut.kernel],
          ['initrd', sut.initrd],
        ]
      : sut.kind === 'exit'
        ? [
            ['media.cdrom', sut.media?.cdrom],
            ['media.disk', sut.media?.disk],
          ]
        : [];
  for (const [name, path] of files) {
    if (path !== undefined && !existsSync(path)) throw new Error(`${field}.${name}: ${path} does not exist; give the path of a readable file`);
  }
  if (sut.kind === 'kernel' && !sut.kernel) throw new Error(`${field}.kernel: is required for kind "kernel"`);
  if (sut.kind === 'exit' && !sut.media?.cdrom && !sut.media?.disk) {
    throw new Error(`${field}.media: kind "exit" needs a cdrom or a disk for the firmware to boot next`);
  }
  if (sut.kind === 'exit' && sut.media?.cdrom && sut.media?.disk) {
    throw new Error(`${field}.media: give either cdrom or disk, not both (the firmware boots one next)`);
  }
  if (sut.expect.length === 0) throw new Error(`${field}.expect: list at least one serial pattern that proves the system used the iBFT`);
  for (const [i, e] of sut.expect.entries()) compilePattern(e.pattern, `${field}.expect[${i}].pattern`);
  for (const [i, p] of (sut.failOn ?? []).entries()) compilePattern(p, `${field}.failOn[${i}]`);
}

const NOT_A_REGEX = 'is not a regular expression; escape ( ) [ ] . * + ? with a backslash to match them literally';

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

/** A serial pattern as options and lab.json hold it: a JavaScript regular expression that compiles. */
export const serialPatternSchema = z.string().min(1).refine(compiles, { message: NOT_A_REGEX });

export function compilePattern(pattern: string, field: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw new Error(`${field}: ${JSON.stringify(pattern)} is not a regular expression (${(error as Error).message}); escape ( ) [ ] . * + ? with a backslash to match them literally`);
  }
}

/** TFTP names the kernel kind's files are served under (beside boot.ipxe). */
export const SUT_KERNEL = 'sut/kernel';
export const SUT_INITRD = 'sut/initrd';

/** The iPXE lines, after the marker, that hand over to the system under test. */
export function systemUnderTestLines(sut: SystemUnderTest): string[] {
  if (sut.kind === 'kernel') {
    // initrd=<name>: under UEFI the kernel's EFI stub loads the initrd by the name iPXE registered.
    const cmdline = [sut.initrd ? 'initrd=initrd' : '', sut.cmdline ?? ''].filter(Boolean).join(' ');
    return [
      `kernel tftp://10.0.2.2/${SUT_KERNEL}${cmdline ? ` ${cmdline}` : ''}`,
      ...(sut.initrd ? [`initrd --name initrd tftp://10.0.2.2/${SUT_INITRD}`] : []),
      'boot',
    ];
  }
  if (sut.kind === 'sanboot') {
    // The drive sanhook registered first (LUN 0). A failed boot reboots: with QEMU's -no-reboot the run ends
    // in seconds, on the iPXE line that says why, instead of waiting for its deadline at a prompt.
    return [`sanboot --drive 0x${SANBOOT_DRIVE.toString(16)} || reboot`];
  }
  return ['exit'];
}

/** The BIOS drive number iPXE gives the first SAN device (the lab's LUN 0). */
export const SANBOOT_DRIVE = 0x80;

/** The media the firmware boots after `exit`: IDE, which every firmware and installer can boot. */
export function systemUnderTestDrives(sut: SystemUnderTest): DriveSpec[] {
  if (sut.kind !== 'exit') return [];
  if (sut.media?.cdrom) return [{ path: sut.media.cdrom, format: 'raw', interface: 'ide', media: 'cdrom' }];
  if (sut.media?.disk) return [{ path: sut.media.disk, format: sut.media.disk.endsWith('.qcow2') ? 'qcow2' : 'raw', interface: 'ide', snapshot: true }];
  return [];
}

/** The result before (or without) a boot that reached the system under test. */
export function unmatchedExpectations(sut: SystemUnderTest): SystemUnderTestResult {
  return {
    kind: sut.kind,
    verdict: 'fail',
    expectations: sut.expect.map((e) => ({ pattern: e.pattern, withinSeconds: e.withinSeconds, matched: false, atSeconds: null })),
    failedOn: null,
  };
}

/** The system under test's own fail patterns: its failOn, or the defaults. */
export function systemUnderTestFailOn(sut: Pick<SystemUnderTest, 'failOn'>): RegExp[] {
  return (sut.failOn ?? DEFAULT_FAIL_ON).map((p) => new RegExp(p));
}

/**
 * Waits for each expectation in order (expectSerial), from serial offset `from`.
 * Stops at the first that does not match in time, or at a fail pattern; the rest stay unmatched.
 */
export async function awaitExpectations(vm: QemuVm, sut: SystemUnderTest, from: number): Promise<{ result: SystemUnderTestResult; failure: string | null }> {
  const failOn = [...IPXE_FAILURE_PATTERNS, ...LINUX_FAILURE_PATTERNS, ...systemUnderTestFailOn(sut)];
  const steps = sut.expect.map((e) => ({ pattern: new RegExp(e.pattern), withinSeconds: e.withinSeconds, name: `/${e.pattern}/` }));
  const results = await expectSerial(vm, steps, { failOn, from });
  const expectations: ExpectationResult[] = results.map((r, i) => ({
    pattern: sut.expect[i].pattern,
    withinSeconds: sut.expect[i].withinSeconds,
    matched: r.matched,
    atSeconds: r.atSeconds === null ? null : Math.round(r.atSeconds * 10) / 10,
  }));
  const failedAt = results.findIndex((r) => !r.matched);
  const failed = results[failedAt];
  const failure = failed
    ? `${sut.kind}: expectation ${failedAt + 1} /${sut.expect[failedAt].pattern}/ did not match within ${sut.expect[failedAt].withinSeconds} s: ${failed.failure ?? 'not reached'}`
    : null;
  return { result: { kind: sut.kind, verdict: failed ? 'fail' : 'pass', expectations, failedOn: failed?.failedOn ?? null }, failure };
}
