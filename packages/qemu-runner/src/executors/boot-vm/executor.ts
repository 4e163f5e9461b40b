// Nx adapter: options (zod) → bootLab → report files + summary → { success }.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { encodeIbft, IbftSpecError } from '@ibft-lab/ibft';
import { resolveSecretRefs } from '@ibft-lab/script-gen';
import {
  bootLab,
  calmLog,
  checkPortalAgrees,
  DEFAULT_MARKER,
  formatSummary,
  guestForwardsFor,
  initiatorPhases,
  IPXE_FAILURE_PATTERNS,
  lastOfRunTable,
  processStartedAtMs,
  LINUX_FAILURE_PATTERNS,
  readTargetAccess,
  replayTable,
  segmentNicsFor,
  systemUnderTestFailOn,
  resolveRom,
  romMode,
  verboseFromEnv,
  whenParentGone,
  writeBootReport,
  writeReportIndex,
} from '../../index';
import type { SystemUnderTest } from '../../lib/boot';
import { optionsSchema, type BootVmParsed } from './options';

export default async function bootVm(options: unknown, context: ExecutorContext): Promise<{ success: boolean }> {
  let resolved: unknown;
  try {
    resolved = resolveSecretRefs(options ?? {}, { baseDir: context.root, warn: (line) => console.warn(`boot-vm: ${line}`) });
  } catch (error) {
    console.error(`boot-vm: ${(error as Error).message}`);
    return { success: false };
  }
  const parsed = optionsSchema.safeParse(resolved);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) console.error(`boot-vm: ${issue.path.join('.') || '(options)'}: ${issue.message}`);
    return { success: false };
  }
  const o = parsed.data;
  if (o.table) {
    // What only an iPXE boot uses: refused rather than silently ignored.
    const ignored: string[] = (['script', 'rom', 'initiatorFile', 'marker', 'systemUnderTest'] as const).filter((key) => o[key] !== undefined);
    if (!o.probe) ignored.push('probe');
    if (ignored.length) {
      for (const key of ignored) console.error(`boot-vm: ${key}: a replayed table (table) boots the probe guest only, with no iPXE: remove ${key}`);
      return { success: false };
    }
  }
  const project = context.projectName ?? 'lab';
  const fromRoot = (path: string) => (isAbsolute(path) ? path : join(context.root, path));
  const outputDir = fromRoot(o.outputPath ?? join('dist', 'labs', project, 'boot-vm'));
  // Nx killed outright (kill -9) sends no signal, and a calm console writes nothing that would fail on the
  // closed pipe: notice that our parent is gone and stop the VM.
  const parentGone = new AbortController();
  const stopWatching = whenParentGone(() => parentGone.abort());
  try {
    const log = calmLog({
      serialPrefix: `[${project}] `,
      phases: o.table ? initiatorPhases(DEFAULT_MARKER).slice(-2) : initiatorPhases(o.marker ?? DEFAULT_MARKER),
      // The system under test's own fail lines too (an initramfs refused by the target): shown when they come.
      errors: [...(o.table ? [] : IPXE_FAILURE_PATTERNS), ...LINUX_FAILURE_PATTERNS, ...(o.systemUnderTest ? systemUnderTestFailOn(o.systemUnderTest) : [])],
      verbose: o.verbose || context.isVerbose || verboseFromEnv(),
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
        signal: parentGone.signal,
      });
      writeBootReport(report, outputDir, `${project}:boot-vm`, { lab: project, firmware: 'bios', romMode: null });
      const index = basename(outputDir) === 'boot-vm' ? writeReportIndex(dirname(dirname(outputDir))).file : null;
      console.log(`\n${formatSummary(report, `${project}:boot-vm`)}\n  report: ${join(outputDir, 'report.html')}${index ? `\n  all labs: ${index}` : ''}`);
      return { success: report.verdict === 'pass' };
    }
    const initiatorFile = o.initiatorFile && fromRoot(o.initiatorFile);
    const access = initiatorFile ? readTargetAccess(initiatorFile) : undefined;
    if (access && initiatorFile) checkPortalAgrees(access, o.expectations?.targets?.[0], initiatorFile);
    const romOption = o.rom && fromRoot(o.rom);
    const report = await bootLab({
      scriptPath: fromRoot(o.script ?? join('dist', 'labs', project, 'boot.ipxe')),
      rom: resolveRom(romOption),
      nic: o.nic,
      mac: o.mac,
      firmware: o.firmware,
      accel: o.accel,
      memoryMiB: o.memoryMiB,
      marker: o.marker,
      guestForwards: access && guestForwardsFor(access),
      segmentNics: o.segmentNics.length ? segmentNicsFor(access, o.segmentNics, initiatorFile ?? 'initiatorFile (not given)') : undefined,
      expectations: o.expectations,
      probe: o.probe,
      consumers: o.consumers,
      otherConsumers: o.otherConsumers,
      systemUnderTest: o.systemUnderTest && withPathsFrom(o.systemUnderTest, fromRoot),
      deadlineSeconds: o.deadlineSeconds,
      log,
      serialPrefix: `[${project}] `,
      signal: parentGone.signal,
    });
    writeBootReport(report, outputDir, `${project}:boot-vm`, { lab: project, nic: o.nic, firmware: o.firmware, romMode: romMode(romOption) });
    // <labs>/<lab>/boot-vm (the default layout): the labs folder gets its index page, rebuilt from every report in it.
    const index = basename(outputDir) === 'boot-vm' ? writeReportIndex(dirname(dirname(outputDir))).file : null;
    console.log(`\n${formatSummary(report, `${project}:boot-vm`)}\n  report: ${join(outputDir, 'report.html')}${index ? `\n  all labs: ${index}` : ''}`);
    if (index) printRunTableIfLast(context, dirname(dirname(outputDir)));
    return { success: report.verdict === 'pass' };
  } catch (error) {
    console.error(`boot-vm: ${(error as Error).message}`);
    return { success: false };
  } finally {
    stopWatching();
  }
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
function printRunTableIfLast(context: ExecutorContext, labsDir: string): void {
  const labs = Object.values(context.taskGraph?.tasks ?? {})
    .filter((task) => task.target.target === context.targetName)
    .map((task) => task.target.project);
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
