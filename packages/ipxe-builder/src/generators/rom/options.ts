import { z } from 'zod';
import { gitArgumentProblem } from '../../lib/source-schema';
import { FORMATS, NICS, PLATFORMS } from '../../lib/targets';

// Checked here, not at build time: these values go into build-rom's options and into the
// identity command Nx runs through a shell (quoted), so a bad one must not be written at all.
const gitArgument = z.string().superRefine((value, ctx) => {
  const problem = gitArgumentProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const optionsSchema = z
  .object({
    project: z.string().min(1).describe('Project that gets the build-rom target'),
    nic: z.enum(NICS).default('rtl8139').describe('NIC model QEMU will use (rtl8139, virtio-net, e1000, e1000e, ...)'),
    platform: z.enum(PLATFORMS).default('bios').describe('bios or uefi'),
    format: z.enum(FORMATS).optional().describe('rom, lkrn, efi or iso'),
    sourcePath: z.string().optional().describe('source.path: an iPXE checkout or plain tree (workspace-relative or absolute)'),
    gitUrl: gitArgument.optional().describe('source.git.url (with gitRef)'),
    gitRef: gitArgument.optional().describe('source.git.ref: branch, tag or commit'),
    fallback: z.enum(['none', 'stock']).default('stock').describe('"stock": use the distro stock ROM when no source can be had'),
    fastBanner: z.boolean().default(true).describe('Write BANNER_TIMEOUT 0 and ROM_BANNER_TIMEOUT 0 (boot in ~3.5 s instead of 7.5 s)'),
    script: z.string().optional().describe('A checked-in script to embed instead of gen-script output (workspace-relative)'),
  })
  .strict();
