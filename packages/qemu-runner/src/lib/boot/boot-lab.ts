// One bounded, observed boot of a lab's initiator: QEMU with the lab's ROM and
// script, serial console streamed live, the script's marker awaited (iPXE
// errors fail fast), the iBFT read back from guest memory over QMP and
// compared with the expectations, then (optionally) the same table read by
// Linux in the probe guest. QEMU is always stopped, whatever happens.
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compareIbft, findValidIbft, formatSysfs, type FindResult, type IbftExpectation, type IbftTable, type Mismatch } from '@ibft-lab/ibft';
import { DEFAULT_REQUIRED_CONSUMERS, expandConsumers, readConsumers, CONSUMERS, type ConsumerChoice, type ConsumerName, type ConsumerResult } from '../consumers';
import { workspaceCacheDir } from '../guest';
import {
  compareProbeLines,
  ensureProbeGuest,
  hostLinesAsProbePrints,
  maskProbeSecrets,
  parseProbeOutput,
  PROBE_END,
  PROBE_KERNEL_ARGS,
  PROBE_SALT_PARAM,
  type ProbeResult,
} from '../probe';
import { checkQemu, registerTempDir, startQemu, USER_NETWORK, type Accel, type Firmware, type GuestForward, type QemuVm } from '../vm';
import { startQuickProxyDhcp, type QuickProxyDhcp } from './quick-proxy-dhcp';
import { IPXE_FAILURE_PATTERNS, LINUX_FAILURE_PATTERNS } from './ipxe-failures';
import { stockRomPath } from './stock-rom';
import type { SegmentNic } from './target-access';
import {
  awaitExpectations,
  checkSystemUnderTest,
  unmatchedExpectations,
  SUT_INITRD,
  SUT_KERNEL,
  systemUnderTestDrives,
  systemUnderTestLines,
  type SystemUnderTest,
  type SystemUnderTestResult,
} from './system-under-test';

export const DEFAULT_MARKER = '== config done ==';
export const DEFAULT_MAC = '52:54:00:12:34:56';
const ONE_MIB = 1024 * 1024;

export interface BootLabOptions {
  /** The lab's iPXE script; served to the ROM over QEMU's TFTP as boot.ipxe. */
  scriptPath: string;
  /** iPXE ROM for the NIC; default: Debian's stock ROM for `nic` and `firmware`. */
  rom?: string;
  nic?: string;
  mac?: string;
  firmware?: Firmware;
  accel?: Accel;
  memoryMiB?: number;
  /** Line the script echoes when configuration is done. */
  marker?: string;
  /** Fixed guest addresses relayed to host loopback ports (e.g. the LIO appliance's portal). */
  guestForwards?: GuestForward[];
  /** More NICs of the same model (iPXE net1, net2, …), each on a private segment; no option ROM of their own. */
  segmentNics?: SegmentNic[];
  expectations?: IbftExpectation;
  /** Boot the Linux probe after the marker and require it to agree with the host decode. */
  probe?: boolean;
  /**
   * With the probe: the consumers that must agree with the lab (and the table), `open-iscsi` standing
   * for iscsiadm and iscsistart; default all. The others still run and their disagreements are findings.
   */
  consumers?: readonly ConsumerChoice[];
  /** What happens to the consumers not in `consumers`: run and report them (default), or skip them. */
  otherConsumers?: 'report' | 'skip';
  /** One deadline for the whole run, from start to report. */
  deadlineSeconds?: number;
  /** Serial lines go here (prefixed); default: none. */
  log?: (line: string) => void;
  serialPrefix?: string;
  signal?: AbortSignal;
  /** Where the probe guest is cached; default workspaceCacheDir(). */
  cacheDir?: string;
  /**
   * What boots after the marker instead of nothing (or the probe): checked by its serial expectations.
   * With `probe` too, the probe runs first in a boot of its own.
   */
  systemUnderTest?: SystemUnderTest;
  /**
   * Answer the ROM's DHCPDISCOVER on net0 with a ProxyDHCPOFFER at once (quick-proxy-dhcp.ts), for ROMs that
   * wait 2 s for one (Debian's stock ROMs; built ones are set not to). Default false.
   */
  quickProxyDhcp?: boolean;
}

export interface BootTimings {
  qemuStartToMarkerMs: number | null;
  qemuStartToIbftMs: number | null;
  /** From the marker to the probe's end line: the probe's (and its consumers') boot and readout. */
  markerToProbeEndMs: number | null;
  totalMs: number;
}

/** A consumer that is not required, and what it made of a field. */
export interface ConsumerFinding {
  consumer: ConsumerName;
  path: string;
  expected: string | number | null;
  actual: string | number | null;
  source: 'lab' | 'table' | 'prediction';
}

export interface BootReport {
  verdict: 'pass' | 'fail';
  /** Why the run failed, when it did (no secrets). */
  failure: string | null;
  /** ipxe.org error URL of the iPXE line that failed the boot. */
  ipxeErrorUrl: string | null;
  /** The decoded table, secrets in clear: in memory only; writeBootReport masks them. */
  ibft: IbftTable | null;
  ibftAddress: number | null;
  /** The table's bytes as found in guest memory (may hold CHAP secrets: ibft.bin only). */
  ibftBytes: Uint8Array | null;
  /** How many ProxyDHCPOFFERs the quick responder sent (quickProxyDhcp); absent when it did not run. */
  proxyDhcpOffers?: number;
  /** Host decode in Linux sysfs form, secrets masked. */
  sysfsLines: string[];
  expectations: IbftExpectation | null;
  mismatches: Mismatch[];
  probe: ProbeResult | null;
  /** Every reader of the table the probe ran (the kernel alone unless the consumer probe booted), in matrix order. */
  consumers: ConsumerResult[] | null;
  /** Disagreements of consumers the lab does not require: reported, not failed. */
  findings: ConsumerFinding[];
  /** The system under test's expectations, when one was booted. */
  boot: SystemUnderTestResult | null;
  timings: BootTimings;
  qemu: string[];
  /** Serial console, plain text, probe secret hashes masked. */
  serialLog: string;
}

class BootFailure extends Error {
  constructor(
    message: string,
    readonly ipxeErrorUrl?: string,
  ) {
    super(message);
  }
}

function validate(options: BootLabOptions): void {
  if (!options.scriptPath || !existsSync(options.scriptPath)) {
    throw new Error(`script: ${options.scriptPath || '(none)'} does not exist; run gen-script first or give the path of an iPXE script`);
  }
  if (options.rom && !existsSync(options.rom)) {
    throw new Error(`rom: ${options.rom} does not exist; run build-rom first, or leave rom out to use the stock ROM`);
  }
  if (options.deadlineSeconds !== undefined && !(options.deadlineSeconds > 0)) {
    throw new Error('deadlineSeconds: must be a positive number of seconds');
  }
  if (options.systemUnderTest) checkSystemUnderTest(options.systemUnderTest);
  // startQemu checks too; checking here fails before a (cold: minutes long) probe guest build.
  checkQemu();
}

export interface ProbeScript {
  text: string;
  /** The script's own lines after the marker, which the probe boot takes the place of. */
  replaced: string[];
}

/**
 * The lab's script up to its marker, then the lines that boot the probe guest.
 * Whatever the script does after its marker (exit, sanboot, a shell prompt)
 * is replaced: the run's proof is taken at the marker, and the probe needs the
 * same iPXE session that built the iBFT.
 */
export function scriptWithProbe(script: string, marker: string, salt: string): ProbeScript {
  return scriptWithHandoff(script, marker, probeBootLines(salt));
}

/** The lab's script up to its marker, then `next` (the probe boot, or the system under test's). */
export function scriptWithHandoff(script: string, marker: string, next: string[]): ProbeScript {
  const lines = script.split('\n');
  const markerLine = lines.findIndex((line) => /^\s*echo\s/.test(line) && line.includes(marker));
  if (markerLine < 0) throw new Error(`script: no \`echo ${marker}\` line; the runner waits for that marker (set marker to the script's)`);
  const replaced = lines.slice(markerLine + 1).filter((line) => line.trim() && !line.trim().startsWith('#')).map((line) => line.trim());
  const text = [...lines.slice(0, markerLine + 1), ...next, ''].join('\n');
  return { text, replaced };
}

/** The probe's readings of the table: Linux's sysfs line for line, then every consumer field by field. */
export function readProbe(
  report: BootReport,
  input: { serialText: string; table: IbftTable; salt: string; expectations?: IbftExpectation; plan: ReturnType<typeof consumerPlan> },
): void {
  const linuxLines = parseProbeOutput(input.serialText);
  const hostLines = hostLinesAsProbePrints(formatSysfs(input.table, { revealSecrets: true }), input.salt);
  report.probe = compareProbeLines(hostLines, linuxLines);
  report.consumers = readConsumers({
    serialText: input.serialText,
    table: input.table,
    expectations: input.expectations,
    salt: input.salt,
    linuxLines,
    required: input.plan.required,
    ran: input.plan.ran,
  });
  report.findings = report.consumers.filter((c) => !c.required).flatMap((c) => c.mismatches.map((m) => ({ consumer: c.name, ...m })));
}

/** verdict and failure from everything the run checked. */
export function settleVerdict(report: BootReport, bootFailure: string | null = null): void {
  const problems: string[] = [];
  if (bootFailure) problems.push(bootFailure);
  if (report.mismatches.length) problems.push(`${report.mismatches.length} expectation mismatch(es): ${report.mismatches.map((m) => m.path).join(', ')}`);
  if (report.probe && !report.probe.agrees) {
    problems.push(
      report.probe.differences.length
        ? `Linux probe disagrees on ${report.probe.differences.map((d) => d.attribute).join(', ')}`
        : 'Linux probe showed no iBFT',
    );
  }
  for (const c of report.consumers ?? []) {
    if (c.required && !c.agrees) problems.push(`consumer ${c.name} disagrees on ${c.mismatches.map((m) => m.path).join(', ')}`);
  }
  report.failure = problems.length ? problems.join('; ') : null;
  report.verdict = problems.length ? 'fail' : 'pass';
}

/** Which consumers run and which must agree. */
export function consumerPlan(options: Pick<BootLabOptions, 'consumers' | 'otherConsumers'>): { required: Set<ConsumerName>; ran: ConsumerName[] } {
  const required = new Set(expandConsumers(options.consumers ?? DEFAULT_REQUIRED_CONSUMERS));
  const ran = options.otherConsumers === 'skip' ? CONSUMERS.filter((c) => c === 'kernel' || required.has(c)) : [...CONSUMERS];
  return { required, ran };
}

/** The iPXE lines that boot the probe guest from the run's TFTP folder. */
export function probeBootLines(salt: string): string[] {
  return [
    // initrd=<name>: under UEFI the kernel's EFI stub loads the initrd itself,
    // by the name iPXE registered it under; BIOS kernels ignore it.
    `kernel tftp://10.0.2.2/probe/vmlinuz initrd=initrd.cpio ${PROBE_KERNEL_ARGS} ${PROBE_SALT_PARAM}=${salt}`,
    'initrd tftp://10.0.2.2/probe/initrd.cpio',
    'boot',
  ];
}

/**
 * A script the lab's own script may `chain` after its marker. A ROM runs its
 * embedded script, not the one served over TFTP, so this is how a built ROM
 * reaches the probe: the runner serves the probe boot here (or `exit`).
 */
export const HANDOFF_SCRIPT = 'ibft-lab-next.ipxe';
export const HANDOFF_URL = `tftp://10.0.2.2/${HANDOFF_SCRIPT}`;

/** OVMF keeps its ACPI tables (RSDP, XSDT, and the iBFT iPXE installs) at the top of RAM. */
const UEFI_TOP_WINDOW_MIB = 16;

/**
 * Reads the guest memory that holds the iBFT and finds the table in it. BIOS:
 * the first MiB (Linux's scan window). UEFI: the top of RAM first, accepted
 * only when the table is reached through the ACPI tables (as Linux finds it);
 * otherwise all RAM below 4 GiB.
 */
async function captureIbft(vm: QemuVm, firmware: Firmware, memoryMiB: number): Promise<FindResult> {
  if (firmware === 'bios') return findValidIbft(await vm.readGuestMemory(0, ONE_MIB), { baseAddress: 0 });
  // QEMU's pc machine keeps guest RAM contiguous from 0 up to 3.5 GiB.
  const ramMiB = Math.min(memoryMiB, 3584);
  if (ramMiB > UEFI_TOP_WINDOW_MIB) {
    const base = (ramMiB - UEFI_TOP_WINDOW_MIB) * ONE_MIB;
    const top = findValidIbft(await vm.readGuestMemory(base, UEFI_TOP_WINDOW_MIB * ONE_MIB), { baseAddress: base });
    if (top.found && top.candidate.method === 'acpi') return top;
  }
  return findValidIbft(await vm.readGuestMemory(0, ramMiB * ONE_MIB), { baseAddress: 0 });
}

/** What iPXE prints while it waits BANNER_TIMEOUT (2 s in Debian's stock ROMs) for Ctrl-B. */
export const IPXE_SHELL_BANNER = /Press Ctrl-B for the iPXE command line\.\.\./;

/**
 * Ends iPXE's Ctrl-B wait at once: its prompt() returns on the first key, and
 * any key but Ctrl-B means "go on booting", as the timeout does. The runner
 * presses Enter when the banner shows (QMP send-key to the PS/2 keyboard the
 * BIOS reads). A ROM built without the banner never shows it: the wait ends
 * with the VM, and nothing is pressed.
 */
export async function skipShellBanner(vm: QemuVm, deadlineMs: number): Promise<boolean> {
  try {
    await vm.waitForSerial(IPXE_SHELL_BANNER, { deadlineMs });
    await vm.qmp.sendKey(['ret']);
    return true;
  } catch {
    // The VM ended (or the deadline passed) first: there was no banner to skip.
    return false;
  }
}

/** The PCI vendor and device id an option ROM is built for (its first image's PCI data structure). */
export function romPciId(rom: string): { vendor: number; device: number } | undefined {
  const bytes = readFileSync(rom);
  if (bytes.length < 0x1c || bytes[0] !== 0x55 || bytes[1] !== 0xaa) return undefined;
  const pcir = bytes.readUInt16LE(0x18);
  if (pcir + 8 > bytes.length || bytes.toString('latin1', pcir, pcir + 4) !== 'PCIR') return undefined;
  return { vendor: bytes.readUInt16LE(pcir + 4), device: bytes.readUInt16LE(pcir + 6) };
}

/**
 * Debian's virtio iPXE ROMs are built for the modern device (1af4:1041):
 * SeaBIOS offers no boot entry for them on QEMU's default transitional one
 * (1af4:1000), so legacy is turned off. A ROM built here (1af41000.rom) keeps the default.
 */
export function virtioRomProperties(nic: string, firmware: Firmware, rom: string): { properties?: Record<string, string> } {
  if (nic !== 'virtio-net-pci' || firmware !== 'bios') return {};
  const id = romPciId(rom);
  return id?.vendor === 0x1af4 && id.device === 0x1041 ? { properties: { 'disable-legacy': 'on' } } : {};
}

export async function bootLab(options: BootLabOptions): Promise<BootReport> {
  validate(options);
  const sut = options.systemUnderTest;
  if (!sut || !options.probe) return bootOnce(options);
  // The probe and the system under test each need the iPXE session that built the table: two boots.
  const startedAt = Date.now();
  const deadlineAt = startedAt + (options.deadlineSeconds ?? 300) * 1000;
  const probed = await bootOnce({ ...options, systemUnderTest: undefined });
  if (probed.verdict === 'fail') return { ...probed, failure: `probe boot: ${probed.failure}`, timings: { ...probed.timings, totalMs: Date.now() - startedAt } };
  const booted = await bootOnce({ ...options, probe: false, deadlineSeconds: Math.max(1, (deadlineAt - Date.now()) / 1000) });
  return {
    ...booted,
    probe: probed.probe,
    consumers: probed.consumers,
    findings: probed.findings,
    serialLog: `${probed.serialLog}\n--- ibft-lab: the probe boot ends; the system under test boots ---\n${booted.serialLog}`,
    timings: { ...booted.timings, markerToProbeEndMs: probed.timings.markerToProbeEndMs, totalMs: Date.now() - startedAt },
  };
}

/** The script's name on QEMU's TFTP server, and the boot file its DHCP server (and the quick ProxyDHCP responder) names. */
const BOOT_FILE = 'boot.ipxe';

async function bootOnce(options: BootLabOptions): Promise<BootReport> {
  const startedAt = Date.now();
  const firmware = options.firmware ?? 'bios';
  const nic = options.nic ?? 'rtl8139';
  const memoryMiB = options.memoryMiB ?? 256;
  const marker = options.marker ?? DEFAULT_MARKER;
  const deadlineAt = startedAt + (options.deadlineSeconds ?? 300) * 1000;
  const remaining = () => Math.max(1, deadlineAt - Date.now());
  const rom = options.rom ?? stockRomPath(nic, firmware);
  const sut = options.systemUnderTest;

  const report: BootReport = {
    verdict: 'fail',
    failure: null,
    ipxeErrorUrl: null,
    ibft: null,
    ibftAddress: null,
    ibftBytes: null,
    sysfsLines: [],
    expectations: options.expectations ?? null,
    mismatches: [],
    probe: null,
    consumers: null,
    findings: [],
    boot: sut ? unmatchedExpectations(sut) : null,
    timings: { qemuStartToMarkerMs: null, qemuStartToIbftMs: null, markerToProbeEndMs: null, totalMs: 0 },
    qemu: [],
    serialLog: '',
  };

  const tftpDir = mkdtempSync(join(tmpdir(), 'ibft-lab-tftp-'));
  const releaseTftpDir = registerTempDir(tftpDir);
  let vm: QemuVm | undefined;
  let proxyDhcp: QuickProxyDhcp | undefined;
  try {
    const script = readFileSync(options.scriptPath, 'utf8');
    const salt = randomBytes(12).toString('hex');
    const consumers = consumerPlan(options);
    if (options.probe) {
      const guest = await ensureProbeGuest(options.cacheDir ?? workspaceCacheDir(), { consumers: consumers.ran.length > 1, log: options.log });
      const probeDir = join(tftpDir, 'probe');
      mkdirSync(probeDir);
      symlinkSync(guest.vmlinuz, join(probeDir, 'vmlinuz'));
      symlinkSync(guest.initrd, join(probeDir, 'initrd.cpio'));
      const probeScript = scriptWithProbe(script, marker, salt);
      if (probeScript.replaced.length) {
        options.log?.(`${options.serialPrefix ?? '[boot-vm] '}probe: the script's lines after its marker (${probeScript.replaced.join('; ')}) give way to the probe boot`);
      }
      writeFileSync(join(tftpDir, BOOT_FILE), probeScript.text);
      writeFileSync(join(tftpDir, HANDOFF_SCRIPT), ['#!ipxe', ...probeBootLines(salt), ''].join('\n'));
    } else if (sut) {
      const next = systemUnderTestLines(sut);
      if (sut.kind === 'kernel') {
        mkdirSync(join(tftpDir, 'sut'));
        symlinkSync(resolve(sut.kernel), join(tftpDir, SUT_KERNEL));
        if (sut.initrd) symlinkSync(resolve(sut.initrd), join(tftpDir, SUT_INITRD));
      }
      writeFileSync(join(tftpDir, BOOT_FILE), scriptWithHandoff(script, marker, next).text);
      writeFileSync(join(tftpDir, HANDOFF_SCRIPT), ['#!ipxe', ...next, ''].join('\n'));
    } else {
      copyFileSync(options.scriptPath, join(tftpDir, BOOT_FILE));
      writeFileSync(join(tftpDir, HANDOFF_SCRIPT), '#!ipxe\nexit\n');
    }

    const log = options.log;
    if (options.quickProxyDhcp) proxyDhcp = await startQuickProxyDhcp({ nextServer: USER_NETWORK.hostIp, bootfile: BOOT_FILE });
    vm = await startQemu(
      {
        accel: options.accel ?? 'tcg',
        memoryMiB,
        firmware,
        nics: [
          {
            model: nic,
            romfile: rom,
            mac: options.mac ?? DEFAULT_MAC,
            ...virtioRomProperties(nic, firmware, rom),
            netdev: { kind: 'user', tftpDir, bootfile: BOOT_FILE, guestForwards: options.guestForwards, ...(proxyDhcp ? { hubSocket: { port: proxyDhcp.port } } : {}) },
          },
          ...(options.segmentNics ?? []).map((segmentNic) => ({ model: nic, noRom: true, mac: segmentNic.mac, netdev: { kind: 'socket' as const, connect: segmentNic.connect } })),
        ],
        drives: sut ? systemUnderTestDrives(sut) : [],
        // A system that reboots (`sanboot || reboot`, a failed installer) ends the run instead of looping.
        extraArgs: sut ? ['-no-reboot'] : [],
      },
      {
        log: log && ((line) => log(maskProbeSecrets(line))),
        serialPrefix: options.serialPrefix ?? '[boot-vm] ',
        deadlineMs: remaining(),
        signal: options.signal,
      },
    );
    report.qemu = vm.argv;
    void skipShellBanner(vm, remaining());

    const found = await vm.waitForSerial(marker, { deadlineMs: remaining(), failOn: IPXE_FAILURE_PATTERNS });
    report.timings.qemuStartToMarkerMs = Date.now() - vm.startedAt;
    const afterMarker = (found.index ?? 0) + marker.length;

    // Pause the guest while its memory is read, so the dump is one instant.
    await vm.qmp.execute('stop');
    const located = await captureIbft(vm, firmware, memoryMiB);
    await vm.qmp.execute('cont');
    if (!located.found) throw new BootFailure(`iBFT: ${located.reason}`);
    report.timings.qemuStartToIbftMs = Date.now() - vm.startedAt;
    report.ibft = located.table;
    report.ibftAddress = located.address;
    report.ibftBytes = located.bytes;
    report.sysfsLines = formatSysfs(located.table);
    report.mismatches = options.expectations ? compareIbft(options.expectations, located.table) : [];

    if (options.probe) {
      const markerAt = Date.now();
      await vm.waitForSerial(PROBE_END, {
        deadlineMs: remaining(),
        failOn: [...IPXE_FAILURE_PATTERNS, ...LINUX_FAILURE_PATTERNS],
        from: afterMarker,
      });
      report.timings.markerToProbeEndMs = Date.now() - markerAt;
      readProbe(report, { serialText: vm.serialText().slice(afterMarker), table: located.table, salt, expectations: options.expectations, plan: consumers });
    }

    let bootFailure: string | null = null;
    if (sut) {
      const awaited = await awaitExpectations(vm, sut, afterMarker);
      report.boot = awaited.result;
      bootFailure = awaited.failure;
    }

    settleVerdict(report, bootFailure);
  } catch (error) {
    const err = error as Error & { errorUrl?: string; ipxeErrorUrl?: string };
    report.failure = maskProbeSecrets(err.message);
    report.ipxeErrorUrl = err.errorUrl ?? err.ipxeErrorUrl ?? null;
    // A failure before the system under test was reached (sanhook refused, say) is its failed line too.
    const line = (error as { line?: unknown }).line;
    if (report.boot && !report.boot.failedOn && typeof line === 'string') report.boot.failedOn = maskProbeSecrets(line);
    report.verdict = 'fail';
  } finally {
    if (vm) {
      report.serialLog = maskProbeSecrets(vm.serialText());
      await vm.stop();
    }
    if (proxyDhcp) {
      report.proxyDhcpOffers = proxyDhcp.answered();
      await proxyDhcp.close();
    }
    releaseTftpDir();
    report.timings.totalMs = Date.now() - startedAt;
  }
  return report;
}
