// boot-vm's work once its options are read: boot the initiator (or replay a
// table), write the report and the labs' index, print the summary. The boot-vm
// executor calls it, and so does a boot that sets its target up itself and
// hands over how the initiator reaches it (`access`).
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { encodeIbft, IbftSpecError } from '@ibft-lab/ibft';
import { formatSummary, lastOfRunTable, processStartedAtMs, writeBootReport, writeReportIndex } from '../report';
import { calmLog } from '../vm';
import { bootLab, DEFAULT_MARKER } from './boot-lab';
import type { BootVmParsed } from './boot-vm-options';
import { initiatorPhases, IPXE_FAILURE_PATTERNS, LINUX_FAILURE_PATTERNS } from './ipxe-failures';
import { replayTable } from './replay-table';
import { resolveRom, romMode } from './resolve-rom';
import { systemUnderTestFailOn, type SystemUnderTest } from './system-under-test';
import { checkPortalAgrees, guestForwardsFor, readTargetAccess, segmentNicsFor, type TargetAccess } from './target-access';

export interface BootVmTaskContext {
  workspaceRoot: string;
  project: string;
  /** Every console streamed (--verbose, IBFT_LAB_VERBOSE=1). */
  verbose: boolean;
  /** The projects whose boot-vm runs in this Nx run: with several, the last to finish prints the table over all. */
  projectsInRun: string[];
  /** Stops the VM (our parent gone, or the target the boot waits for failed). */
  signal?: AbortSignal;
  /** How the initiator reaches its target, when the caller knows it; else read from the initiatorFile option. */
  access?: TargetAccess;
}

/** Boots, reports and prints the summary; true when the verdict is pass. Errors are thrown, for the caller to print. */
export async function runBootVmTask(o: BootVmParsed, context: BootVmTaskContext): Promise<boolean> {
  const { project } = context;
  if (o.table) {
    // What only an iPXE boot uses: refused rather than silently ignored.
    const ignored: string[] = (['script', 'rom', 'initiatorFile', 'marker', 'systemUnderTest'] as const).filter((key) => o[key] !== undefined);
    if (!o.probe) ignored.push('probe');
    if (ignored.length) throw new Error(ignored.map((key) => `${key}: a replayed table (table) boots the probe guest only, with no iPXE: remove ${key}`).join('\nboot-vm: '));
  }
  const fromRoot = (path: string) => (isAbsolute(path) ? path : join(context.workspaceRoot, path));
  const outputDir = fromRoot(o.outputPath ?? join('dist', 'labs', project, 'boot-vm'));
  const log = calmLog({
    serialPrefix: `[${project}] `,
    phases: o.table ? initiatorPhases(DEFAULT_MARKER).slice(-2) : initiatorPhases(o.marker ?? DEFAULT_MARKER),
    // The system under test's own fail lines too (an initramfs refused by the target): shown when they come.
    errors: [...(o.table ? [] : IPXE_FAILURE_PATTERNS), ...LINUX_FAILURE_PATTERNS, ...(o.systemUnderTest ? systemUnderTestFailOn(o.systemUnderTest) : [])],
    verbose: o.verbose || context.verbose,
    print: (line) => console.log(line),
  }).log;
  if (o.table) {
    const report = await replayTable({
      ...tableSource(o.table, fromRoot),
      expectations: o.expectations,
      consumers: o.consumers,
      otherConsumers: o.otherConsumers,
      accel: o.accel,
      memoryMiB: o.memoryMiB,
      deadlineSeconds: o.deadlineSeconds,
      log,
      serialPrefix: `[${project}] `,
      signal: context.signal,
    });
    writeBootReport(report, outputDir, `${project}:boot-vm`, { lab: project, firmware: 'bios', romMode: null });
    const index = basename(outputDir) === 'boot-vm' ? writeReportIndex(dirname(dirname(outputDir))).file : null;
    console.log(`\n${formatSummary(report, `${project}:boot-vm`)}\n  report: ${join(outputDir, 'report.html')}${index ? `\n  all labs: ${index}` : ''}`);
    return report.verdict === 'pass';
  }
  const initiatorFile = o.initiatorFile && fromRoot(o.initiatorFile);
  const access = context.access ?? (initiatorFile ? readTargetAccess(initiatorFile) : undefined);
  const accessFrom = context.access ? 'the target set up by this boot' : (initiatorFile ?? 'initiatorFile (not given)');
  if (access) checkPortalAgrees(access, o.expectations?.targets?.[0], accessFrom);
  const romOption = o.rom && fromRoot(o.rom);
  const report = await bootLab({
    scriptPath: fromRoot(o.script ?? join('dist', 'labs', project, 'boot.ipxe')),
    rom: resolveRom(romOption),
    nic: o.nic,
    mac: o.mac,
    firmware: o.firmware,
    accel: o.accel,
    memoryMiB: o.memoryMiB,
    quickProxyDhcp: o.quickProxyDhcp && romMode(romOption) === 'stock',
    marker: o.marker,
    guestForwards: access && guestForwardsFor(access),
    segmentNics: o.segmentNics.length ? segmentNicsFor(access, o.segmentNics, accessFrom) : undefined,
    expectations: o.expectations,
    probe: o.probe,
    consumers: o.consumers,
    otherConsumers: o.otherConsumers,
    systemUnderTest: o.systemUnderTest && withPathsFrom(o.systemUnderTest, fromRoot),
    deadlineSeconds: o.deadlineSeconds,
    log,
    serialPrefix: `[${project}] `,
    signal: context.signal,
  });
  writeBootReport(report, outputDir, `${project}:boot-vm`, { lab: project, nic: o.nic, firmware: o.firmware, romMode: romMode(romOption) });
  // <labs>/<lab>/boot-vm (the default layout): the labs folder gets its index page, rebuilt from every report in it.
  const index = basename(outputDir) === 'boot-vm' ? writeReportIndex(dirname(dirname(outputDir))).file : null;
  console.log(`\n${formatSummary(report, `${project}:boot-vm`)}\n  report: ${join(outputDir, 'report.html')}${index ? `\n  all labs: ${index}` : ''}`);
  if (index) printRunTableIfLast(context.projectsInRun, dirname(dirname(outputDir)));
  return report.verdict === 'pass';
}

/** The replayed table: its file, or its spec read from a JSON file and encoded (a bad spec names its field). */
function tableSource(table: NonNullable<BootVmParsed['table']>, fromRoot: (path: string) => string): { tablePath: string } | { table: Uint8Array } {
  if ('file' in table) {
    const path = fromRoot(table.file);
    if (!existsSync(path)) throw new Error(`table.file: ${path} does not exist; give an iBFT file (ibft encode or ibft import --format bin writes one)`);
    return { tablePath: path };
  }
  const shownAs = table.at ? `${table.specFile}: ${table.at}` : table.specFile;
  let spec: unknown = JSON.parse(readFileSync(fromRoot(table.specFile), 'utf8'));
  for (const key of table.at?.split('.') ?? []) spec = (spec as Record<string, unknown> | undefined)?.[key];
  if (spec === undefined) throw new Error(`table.specFile: ${shownAs}: no spec there; give the file and the field that holds the table (ibft encode's JSON)`);
  try {
    return { table: encodeIbft(spec) };
  } catch (error) {
    if (error instanceof IbftSpecError) throw new Error(error.errors.map((e) => `${shownAs}${e.path ? `.${e.path}` : ''}: ${e.message}`).join('\n'));
    throw error;
  }
}

/** With several labs in this Nx run (run-many), the last to finish prints the table over all of them. */
function printRunTableIfLast(labs: string[], labsDir: string): void {
  if (labs.length < 2) return;
  // Executors run in processes Nx forks for the run: their parent started with the run.
  const runStartedMs = processStartedAtMs(process.ppid);
  const table = runStartedMs === undefined ? undefined : lastOfRunTable(labsDir, labs, runStartedMs);
  if (table) console.log(`\n${table}`);
}

function withPathsFrom(sut: NonNullable<BootVmParsed['systemUnderTest']>, fromRoot: (path: string) => string): SystemUnderTest {
  if (sut.kind === 'kernel') return { ...sut, kernel: fromRoot(sut.kernel), initrd: sut.initrd && fromRoot(sut.initrd) };
  if (sut.kind === 'exit') return { ...sut, media: 'cdrom' in sut.media ? { cdrom: fromRoot(sut.media.cdrom) } : { disk: fromRoot(sut.media.disk) } };
  return sut;
}
