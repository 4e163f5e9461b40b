// Where build-rom's iPXE source comes from, as options and lab specs write it.
import { z } from 'zod';

/**
 * Problem with a git URL or ref, or undefined. Both reach `git fetch` as
 * arguments: one starting with '-' is read as an option, and
 * `--upload-pack=<command>` makes git run that command through a shell.
 */
export function gitArgumentProblem(value: string): string | undefined {
  if (value.startsWith('-')) return "must not start with '-' (git would read it as an option)";
  if (/[\x00-\x1f\x7f]/.test(value)) return 'must not contain line breaks or control characters';
  return undefined;
}

export const sourceSchema = z
  .union([
    z.object({ path: z.string().min(1).describe('An iPXE checkout or plain tree (its root or its src/), workspace-relative or absolute') }).strict(),
    z
      .object({
        git: z
          .object({
            url: z.string().min(1).describe('Git URL of an iPXE repository'),
            ref: z.string().min(1).describe('Branch, tag or full commit id'),
          })
          .strict()
          .describe('Cloned/fetched into the workspace cache, keyed by commit'),
      })
      .strict(),
  ])
  // Checked after the union, not inside it: a union reports only "source: Invalid input",
  // and the message must name source.git.url / source.git.ref.
  .superRefine((source, ctx) => {
    if (!('git' in source)) return;
    for (const key of ['url', 'ref'] as const) {
      const problem = gitArgumentProblem(source.git[key]);
      if (problem) ctx.addIssue({ code: 'custom', path: ['git', key], message: problem });
    }
  })
  .describe('Where the iPXE source comes from. The IPXE_SRC environment variable overrides it.');
