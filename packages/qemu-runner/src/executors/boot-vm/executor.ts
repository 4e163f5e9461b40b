// Nx adapter: options (zod) → bootLab → report files + summary → { success }.
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
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
  LINUX_FAILURE_PATTERNS,
  readTargetAccess,
  segmentNicsFor,
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
  const project = context.projectName ?? 'lab';
  const fromRoot = (path: string) => (isAbsolute(path) ? path : join(context.root, path));
  const outputDir = fromRoot(o.outputPath ?? join('dist', 'labs', project, 'boot-vm'));
  // Nx killed outright (kill -9) sends no signal, and a calm console writes nothing that would fail on the
  // closed pipe: notice that our parent is gone and stop the VM.
  const parentGone = new AbortController();
  const stopWatching = whenParentGone(() => parentGone.abort());
  try {
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
      log: calmLog({
        serialPrefix: `[${project}] `,
        phases: initiatorPhases(o.marker ?? DEFAULT_MARKER),
        errors: [...IPXE_FAILURE_PATTERNS, ...LINUX_FAILURE_PATTERNS],
        verbose: o.verbose || context.isVerbose || verboseFromEnv(),
        print: (line) => console.log(line),
      }).log,
      serialPrefix: `[${project}] `,
      signal: parentGone.signal,
    });
    writeBootReport(report, outputDir, `${project}:boot-vm`, { lab: project, nic: o.nic, firmware: o.firmware, romMode: romMode(romOption) });
    // <labs>/<lab>/boot-vm (the default layout): the labs folder gets its index page, rebuilt from every report in it.
    const index = basename(outputDir) === 'boot-vm' ? writeReportIndex(dirname(dirname(outputDir))).file : null;
    console.log(`\n${formatSummary(report, `${project}:boot-vm`)}\n  report: ${join(outputDir, 'report.html')}${index ? `\n  all labs: ${index}` : ''}`);
    return { success: report.verdict === 'pass' };
  } catch (error) {
    console.error(`boot-vm: ${(error as Error).message}`);
    return { success: false };
  } finally {
    stopWatching();
  }
}

function withPathsFrom(sut: NonNullable<BootVmParsed['systemUnderTest']>, fromRoot: (path: string) => string): SystemUnderTest {
  if (sut.kind === 'kernel') return { ...sut, kernel: fromRoot(sut.kernel), initrd: sut.initrd && fromRoot(sut.initrd) };
  if (sut.kind === 'exit') return { ...sut, media: 'cdrom' in sut.media ? { cdrom: fromRoot(sut.media.cdrom) } : { disk: fromRoot(sut.media.disk) } };
  return sut;
}
