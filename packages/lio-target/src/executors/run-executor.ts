// Maps option parsing and library errors to { success } with readable lines;
// shared by the lio-target executors so each stays a few lines long.
import type { z } from 'zod';
import { resolveSecretRefs } from '@ibft-lab/script-gen';
import { formatIssuePath } from '../lib/zod-errors';

export async function runExecutor<T extends z.ZodType>(
  name: string,
  schema: T,
  raw: unknown,
  body: (options: z.output<T>) => Promise<boolean | void>,
  /** Secret references ({"env"} / {"file"}) in the options are resolved here, before parsing. */
  workspaceRoot: string,
): Promise<{ success: boolean }> {
  let resolved: unknown;
  try {
    resolved = resolveSecretRefs(raw, { baseDir: workspaceRoot, warn: (line) => console.warn(`${name}: ${line}`) });
  } catch (error) {
    console.error(`${name}: ${(error as Error).message}`);
    return { success: false };
  }
  const parsed = schema.safeParse(resolved);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) console.error(`${name}: option ${formatIssuePath(issue.path)}: ${issue.message}`);
    return { success: false };
  }
  try {
    const ok = await body(parsed.data);
    return { success: ok !== false };
  } catch (error) {
    console.error(`${name}: ${(error as Error).message}`);
    return { success: false };
  }
}
