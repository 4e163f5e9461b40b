// Maps option parsing and library errors to { success } with readable lines;
// shared by the lio-target executors so each stays a few lines long.
import type { z } from 'zod';
import { formatIssuePath } from '../lib/zod-errors';

export async function runExecutor<T extends z.ZodType>(
  name: string,
  schema: T,
  raw: unknown,
  body: (options: z.output<T>) => Promise<boolean | void>,
): Promise<{ success: boolean }> {
  const parsed = schema.safeParse(raw);
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
