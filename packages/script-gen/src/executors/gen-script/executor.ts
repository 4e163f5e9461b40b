// Renders the lab's iPXE script to dist/labs/<project>/boot.ipxe. Invalid
// options fail before anything is written, naming each bad field.
import type { ExecutorContext } from '@nx/devkit';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { formatIssues } from '../../lib/lab-script';
import { renderScript } from '../../lib/render';
import { resolveSecretRefs } from '../../lib/secret-ref';
import { optionsSchema } from './options';

export function defaultOutputPath(projectName: string): string {
  return join('dist', 'labs', projectName, 'boot.ipxe');
}

export default async function genScript(options: unknown, context: ExecutorContext): Promise<{ success: boolean }> {
  let resolved: unknown;
  try {
    resolved = resolveSecretRefs(options, { baseDir: context.root, warn: (line) => console.warn(`gen-script: ${line}`) });
  } catch (error) {
    console.error(`gen-script: ${(error as Error).message}; nothing written`);
    return { success: false };
  }
  const parsed = optionsSchema.safeParse(resolved);
  if (!parsed.success) {
    console.error(`gen-script: invalid options, nothing written:\n${formatIssues(parsed.error)}`);
    return { success: false };
  }
  const project = context.projectName ?? 'lab';
  const outputPath = parsed.data.outputPath ?? defaultOutputPath(project);
  const absolute = isAbsolute(outputPath) ? outputPath : join(context.root, outputPath);
  const script = renderScript(parsed.data.script);
  mkdirSync(dirname(absolute), { recursive: true });
  writeFileSync(absolute, script);
  console.log(`gen-script: wrote ${relative(context.root, absolute)}`);
  return { success: true };
}
