import { z } from 'zod';
import { labScriptSchema } from '../../lib/lab-script';

export const optionsSchema = z
  .object({
    script: labScriptSchema.describe('The lab script model: network, initiatorIqn, sanhooks, diagnostics, marker, prompt, next.'),
    outputPath: z
      .string()
      .min(1)
      .optional()
      .describe('Where to write the script, relative to the workspace root. Default: dist/labs/<project>/boot.ipxe.'),
  })
  .strict();

export type GenScriptOptions = z.input<typeof optionsSchema>;
