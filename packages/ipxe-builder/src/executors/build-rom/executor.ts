import type { ExecutorContext } from '@nx/devkit';
import { buildRom } from '../../lib/build';
import { optionsSchema } from './options';

export default async function buildRomExecutor(raw: unknown, context: ExecutorContext): Promise<{ success: boolean }> {
  const parsed = optionsSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) console.error(`build-rom: option ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    return { success: false };
  }
  const project = context.projectName ?? 'unknown';
  const options = parsed.data;
  try {
    await buildRom(
      {
        ...options,
        script: options.script ?? `dist/labs/${project}/boot.ipxe`,
        outputPath: options.outputPath ?? `dist/labs/${project}/firmware`,
      },
      { workspaceRoot: context.root, log: (line) => console.log(line) },
    );
    return { success: true };
  } catch (err) {
    console.error(`build-rom: ${(err as Error).message}`);
    return { success: false };
  }
}
