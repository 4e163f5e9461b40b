import { z } from 'zod';

export const optionsSchema = z
  .object({
    project: z.string().min(1).describe('Nx project that gets the gen-script target, e.g. lab.'),
    force: z.boolean().default(false).describe('Replace an existing gen-script target.'),
  })
  .strict();

export type ScriptGeneratorOptions = z.input<typeof optionsSchema>;
