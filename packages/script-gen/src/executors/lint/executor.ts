// Lints hand-written iPXE scripts; prints `file:line:col: severity code
// message` per finding and fails when any error (or warning, if asked) is found.
import type { ExecutorContext } from '@nx/devkit';
import { findFiles } from '../../lib/find-files';
import { formatIssues } from '../../lib/lab-script';
import { lintFiles } from '../../lib/lint-files';
import { optionsSchema } from './options';

export default async function lint(options: unknown, context: ExecutorContext): Promise<{ success: boolean }> {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    console.error(`lint: invalid options:\n${formatIssues(parsed.error)}`);
    return { success: false };
  }
  const patterns = ([] as string[]).concat(parsed.data.files);
  const files = findFiles(context.root, patterns);
  if (!files.length) {
    console.error(`lint: no files match ${patterns.join(', ')}`);
    return { success: false };
  }
  const report = lintFiles(files, context.root);
  for (const line of report.lines) console.log(line);
  console.log(`lint: ${files.length} file(s), ${report.errors} error(s), ${report.warnings} warning(s)`);
  return { success: report.errors === 0 && (!parsed.data.failOnWarnings || report.warnings === 0) };
}
