import { z } from 'zod';
import { sourceSchema } from '../../lib/source-schema';
import { FORMATS, PLATFORMS } from '../../lib/targets';

const overrideValue = z.union([
  z.boolean(),
  z.number().int(),
  z.string(),
  z.object({ expr: z.string().describe('A C expression, kept verbatim (e.g. "( 2 * BANNER_TIMEOUT )")') }).strict(),
]);
const configOverrides = z.record(z.string(), z.record(z.string(), overrideValue));

export const optionsSchema = z
  .object({
    script: z
      .string()
      .optional()
      .describe('iPXE script to embed (workspace-relative). Default: dist/labs/<project>/boot.ipxe (gen-script output)'),
    nic: z.string().optional().describe('NIC model QEMU will use: rtl8139, virtio-net, e1000, e1000e, eepro100, ne2k_pci, pcnet, vmxnet3'),
    platform: z.enum(PLATFORMS).default('bios').describe('Firmware platform: bios or uefi'),
    format: z.enum(FORMATS).optional().describe('Output format: rom (NIC option ROM), lkrn, efi, iso. Default: rom for bios, efi for uefi'),
    makeTarget: z.string().optional().describe('Raw iPXE make target (e.g. bin-x86_64-efi/snponly.efi); wins over nic/platform/format'),
    source: sourceSchema.optional(),
    fallback: z
      .enum(['none', 'stock'])
      .default('none')
      .describe('"stock": when no source can be had, bundle the distro stock ROM and hand the script over TFTP (warned, mode "stock")'),
    overrides: configOverrides
      .default({})
      .describe('config/local/<file>.h overrides, e.g. { "general": { "BANNER_TIMEOUT": 0, "ROM_BANNER_TIMEOUT": 0, "NSLOOKUP_CMD": true } }'),
    baseOverrides: configOverrides
      .default({})
      .describe('Overrides a composing tool sets for its builds (the lab: its banner and DHCP timeouts), under overrides: file by file and macro by macro, overrides wins; the stock fallback ignores them without a warning'),
    debug: z.string().optional().describe('iPXE DEBUG= list, e.g. "iscsi,ibft:3"'),
    jobs: z.number().int().positive().optional().describe('make -j; default: the number of CPUs'),
    outputPath: z.string().optional().describe('Firmware folder (workspace-relative). Default: dist/labs/<project>/firmware'),
  })
  .strict();

export type BuildRomExecutorOptions = z.input<typeof optionsSchema>;
