// One line per zod issue, "field.path: what is wrong". Messages are ours and
// never quote the input value, so secrets cannot leak through them.
import type { z } from 'zod';

export function formatIssuePath(path: PropertyKey[]): string {
  return (
    path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${String(part)}` : String(part)), '') ||
    '(root)'
  );
}

export function parseOrExplain<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${formatIssuePath(issue.path)}: ${issue.message}`);
    throw new Error(`invalid ${what}:\n  ${lines.join('\n  ')}`);
  }
  return result.data;
}
