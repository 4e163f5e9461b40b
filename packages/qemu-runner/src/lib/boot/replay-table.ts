// A table replayed with no firmware: the probe guest (kernel, or consumer
// probe) booted directly with -kernel/-initrd, the table handed to it as an
// ACPI table (QEMU -acpitable file=…; Debian's 6.1 kernel finds it there under
// SeaBIOS, facts.md). No iPXE and no NIC: whatever the table says, nothing
// here produced it, so consumers are tested on tables no firmware in the lab
// makes (ibft encode, ibft import). QEMU rewrites the checksum of an injected
// table, so the host decodes the bytes with the checksum QEMU gives them.
// A table the host decoder rejects is refused before any VM starts, unless
// invalidTable is 'boot': then the kernel-side claim is that Linux shows
// nothing either (how the replay corpus checks accept/reject against Linux).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareIbft, decodeIbft, formatSysfs, isValid, type IbftExpectation } from '@ibft-lab/ibft';
import type { ConsumerChoice } from '../consumers';
import { workspaceCacheDir } from '../guest';
import { compareProbeLines, ensureProbeGuest, maskProbeSecrets, parseProbeOutput, PROBE_END, PROBE_KERNEL_ARGS, PROBE_SALT_PARAM, type ProbeGuest } from '../probe';
import { checkQemu, registerTempDir, startQemu, type Accel, type QemuVm } from '../vm';
import { consumerPlan, readProbe, settleVerdict, type BootReport } from './boot-lab';
import { LINUX_FAILURE_PATTERNS } from './ipxe-failures';

export interface ReplayTableOptions {
  /** The table: an ibft.bin (ACPI header first, as `ibft encode` and boot-vm's report write it). */
  tablePath?: string;
  /** The table's bytes, instead of tablePath (e.g. a lab's spec, encoded). */
  table?: Uint8Array;
  /** 'refuse' (default): a table the host decoder rejects fails before any VM starts; 'boot': it boots, and passes when Linux shows no iBFT either. */
  invalidTable?: 'refuse' | 'boot';
  expectations?: IbftExpectation;
  /** As BootLabOptions.consumers / otherConsumers. */
  consumers?: readonly ConsumerChoice[];
  otherConsumers?: 'report' | 'skip';
  accel?: Accel;
  memoryMiB?: number;
  deadlineSeconds?: number;
  log?: (line: string) => void;
  serialPrefix?: string;
  signal?: AbortSignal;
  cacheDir?: string;
  /**
   * Probe guests already ensured (ensureProbeGuest), for callers that replay many tables: making sure a
   * cache entry is current resolves its Debian packages again (seconds to a minute on a loaded machine).
   * The one whose `consumers` matches what this replay needs is used; else it is ensured here.
   */
  guests?: readonly ProbeGuest[];
}

/** The byte at 9 that makes the first `length` bytes sum to 0 (what QEMU writes into an -acpitable table). */
export function withAcpiChecksum(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  if (out.length < 36) return out;
  const length = Math.min(out.length, new DataView(out.buffer).getUint32(4, true));
  out[9] = 0;
  let sum = 0;
  for (let i = 0; i < length; i++) sum = (sum + out[i]) & 0xff;
  out[9] = (256 - sum) & 0xff;
  return out;
}

export async function replayTable(options: ReplayTableOptions): Promise<BootReport> {
  const startedAt = Date.now();
  const deadlineAt = startedAt + (options.deadlineSeconds ?? 300) * 1000;
  const remaining = () => Math.max(1, deadlineAt - Date.now());
  checkQemu();
  if (!options.table && !options.tablePath) throw new Error('replayTable: give tablePath or table');
  const shownAs = options.tablePath ?? 'the table';
  const bytes = withAcpiChecksum(options.table ?? readFileSync(options.tablePath!));
  const decoded = decodeIbft(bytes);
  const valid = Boolean(decoded.table) && isValid(decoded);
  const report: BootReport = {
    verdict: 'fail',
    failure: null,
    ipxeErrorUrl: null,
    ibft: decoded.table ?? null,
    ibftAddress: null,
    ibftBytes: bytes,
    sysfsLines: decoded.table ? formatSysfs(decoded.table) : [],
    expectations: options.expectations ?? null,
    mismatches: [],
    probe: null,
    consumers: null,
    findings: [],
    boot: null,
    timings: { qemuStartToMarkerMs: null, qemuStartToIbftMs: null, markerToProbeEndMs: null, totalMs: 0 },
    qemu: [],
    serialLog: '',
  };
  if (!valid && options.invalidTable !== 'boot') {
    const errors = decoded.problems.filter((p) => p.severity === 'error');
    report.failure = `table: ${shownAs} is no valid iBFT: ${errors.map((p) => `${p.path}: ${p.message}`).join('; ') || 'too short'}`;
    report.timings.totalMs = Date.now() - startedAt;
    return report;
  }
  const table = valid ? decoded.table! : null;
  if (!table) report.sysfsLines = [];
  report.mismatches = options.expectations && table ? compareIbft(options.expectations, table) : [];

  const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-replay-'));
  const release = registerTempDir(dir);
  let vm: QemuVm | undefined;
  try {
    // An invalid table: only the kernel's answer matters, so the small kernel-only probe.
    const plan = table ? consumerPlan(options) : consumerPlan({ consumers: ['kernel'], otherConsumers: 'skip' });
    const consumers = plan.ran.length > 1;
    const guest =
      options.guests?.find((g) => g.consumers === consumers) ?? (await ensureProbeGuest(options.cacheDir ?? workspaceCacheDir(), { consumers, log: options.log }));
    const tableFile = join(dir, 'ibft.bin');
    writeFileSync(tableFile, bytes);
    const salt = randomBytes(12).toString('hex');
    const log = options.log;
    vm = await startQemu(
      {
        accel: options.accel ?? 'tcg',
        memoryMiB: options.memoryMiB ?? 256,
        firmware: 'bios',
        nics: [],
        kernel: { path: guest.vmlinuz, initrd: guest.initrd, append: `${PROBE_KERNEL_ARGS} ${PROBE_SALT_PARAM}=${salt}` },
        bootFromNetwork: false,
        extraArgs: ['-nic', 'none', '-no-reboot', '-acpitable', `file=${tableFile}`],
      },
      { log: log && ((line) => log(maskProbeSecrets(line))), serialPrefix: options.serialPrefix ?? '[replay] ', deadlineMs: remaining(), signal: options.signal },
    );
    report.qemu = vm.argv;
    await vm.waitForSerial(PROBE_END, { deadlineMs: remaining(), failOn: LINUX_FAILURE_PATTERNS });
    report.timings.markerToProbeEndMs = Date.now() - vm.startedAt;
    if (table) readProbe(report, { serialText: vm.serialText(), table, salt, expectations: options.expectations, plan });
    else {
      // The host decoder rejects the table: it predicts no /sys/firmware/ibft at all.
      const linuxLines = parseProbeOutput(vm.serialText());
      report.probe = { ...compareProbeLines([], linuxLines), agrees: linuxLines.length === 0 };
    }
    settleVerdict(report);
  } catch (error) {
    report.failure = maskProbeSecrets((error as Error).message);
    report.verdict = 'fail';
  } finally {
    if (vm) {
      report.serialLog = maskProbeSecrets(vm.serialText());
      await vm.stop();
    }
    release();
    report.timings.totalMs = Date.now() - startedAt;
  }
  return report;
}
