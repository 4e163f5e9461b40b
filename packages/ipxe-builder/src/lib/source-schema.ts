// Where build-rom's iPXE source comes from, as options and lab specs write it.
import { z } from 'zod';

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
  .describe('Where the iPXE source comes from. The IPXE_SRC environment variable overrides it.');
