// Nx adapter: options (secret references resolved, zod) → runBootVmTask → { success }.
import type { ExecutorContext } from '@nx/devkit';
import { resolveSecretRefs } from '@ibft-lab/script-gen';
import { projectsInRun, runBootVmTask, verboseFromEnv, whenParentGone } from '../../index';
import { optionsSchema } from './options';

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
  // Nx killed outright (kill -9) sends no signal, and a calm console writes nothing that would fail on the
  // closed pipe: notice that our parent is gone and stop the VM.
  const parentGone = new AbortController();
  const stopWatching = whenParentGone(() => parentGone.abort());
  try {
    const pass = await runBootVmTask(parsed.data, {
      workspaceRoot: context.root,
      project: context.projectName ?? 'lab',
      verbose: context.isVerbose || verboseFromEnv(),
      projectsInRun: projectsInRun(context),
      signal: parentGone.signal,
    });
    return { success: pass };
  } catch (error) {
    console.error(`boot-vm: ${(error as Error).message}`);
    return { success: false };
  } finally {
    stopWatching();
  }
}
