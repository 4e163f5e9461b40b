// lab.json's `boot`: what runs once the firmware has built the iBFT, and the
// serial lines that prove it used the table. Paths are relative to the lab's
// folder; they are checked when the lab is read (readLabSpec).
import { z } from 'zod';
import { DEFAULT_FAIL_ON, serialPatternSchema } from '@ibft-lab/qemu-runner';


export const labPathSchema = z
  .string()
  .min(1)
  .refine((path) => !/[,\n]/.test(path), { message: "may not hold ',' or a newline (QEMU reads them as option separators)" });

const expectSchema = z
  .array(
    z
      .object({
        pattern: serialPatternSchema.describe('A regular expression (JavaScript syntax) matched on the serial console.'),
        withinSeconds: z.number().positive().max(3600).describe("Deadline, from the previous expectation's match (the first: from the script's marker)."),
      })
      .strict(),
  )
  .min(1)
  .describe('Serial lines that prove the system used the iBFT, matched in order.');

const failOnSchema = z
  .array(serialPatternSchema)
  .default(DEFAULT_FAIL_ON)
  .describe("Patterns that fail the run as soon as they appear (default: kernel panic, no root, initramfs and dracut rescue shells, open-iscsi's login refused by the target's CHAP).");

export const labBootSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('probe').describe("ibft-lab's Linux probe reads /sys/firmware/ibft (the default).") }).strict(),
    z
      .object({
        kind: z.literal('kernel').describe('Your kernel and initramfs, booted by iPXE in the session that built the iBFT.'),
        kernel: labPathSchema.describe('Kernel image, relative to the lab folder.'),
        initrd: labPathSchema.optional().describe('Initramfs, relative to the lab folder.'),
        cmdline: z.string().max(2048).optional().describe('Kernel command line.'),
        expect: expectSchema,
        failOn: failOnSchema,
      })
      .strict(),
    z
      .object({
        kind: z
          .literal('sanboot')
          .describe("iPXE boots LUN 0 (`sanboot`, BIOS and UEFI) as production iSCSI boot does; LUN 0 needs an image (luns[0].image). A failed sanboot reboots, which ends the run (QEMU -no-reboot)."),
        expect: expectSchema,
        failOn: failOnSchema,
      })
      .strict(),
    z
      .object({
        kind: z.literal('exit').describe("iPXE returns to the firmware, which boots the next device with the iBFT in memory."),
        media: z
          .union([
            z.object({ cdrom: labPathSchema.describe('An ISO (an installer), relative to the lab folder.') }).strict(),
            z.object({ disk: labPathSchema.describe('A raw or qcow2 disk image, relative to the lab folder (never written).') }).strict(),
          ])
          .describe('What the firmware boots next.'),
        expect: expectSchema,
        failOn: failOnSchema,
      })
      .strict(),
  ])
  .describe('What boots after the firmware has built the iBFT.');

export type LabBoot = z.output<typeof labBootSchema>;
