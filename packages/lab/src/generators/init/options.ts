import { z } from 'zod';

export const optionsSchema = z
  .object({
    skipFormat: z.boolean().default(false).describe('Accepted for `nx add`; this generator writes no source files to format.'),
  })
  .strict()
  .describe('Set up @ibft-lab/lab in a workspace.');
