import { z } from 'zod';

export const optionsSchema = z
  .object({
    files: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .describe('iPXE script files or patterns (*, ?, **), relative to the workspace root, e.g. "labs/**/*.ipxe".'),
    failOnWarnings: z.boolean().default(false).describe('Also fail when there are warnings (e.g. a sanhook without "||").'),
  })
  .strict();

export type LintOptions = z.input<typeof optionsSchema>;
