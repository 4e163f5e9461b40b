// boot-vm's options (zod): the executor's schema.json is generated from them, and a composing
// executor (the lab's boot-vm) extends them.
import { isIP } from 'node:net';
import { z } from 'zod';
import { chapSecretSchema, chapUsernameSchema, iscsiNameSchema } from '@ibft-lab/script-gen';
import { serialPatternSchema } from './system-under-test';
import { CONSUMER_CHOICES, DEFAULT_REQUIRED_CONSUMERS } from '../consumers/names';

// Expectations are checked when the options are read: a value no iBFT can hold
// (10.0.2.300, an IQN with a space, LUN 70000) used to start QEMU and fail only
// at the comparison, a whole boot later.
const address = z
  .string()
  .refine((value) => isIP(value) !== 0, { message: 'must be an IPv4 or IPv6 address' })
  .describe('An IPv4 or IPv6 address.');

const nicExpectation = z
  .object({
    ip: address.optional(),
    prefix: z.number().int().min(0).max(128).optional().describe('Prefix length.'),
    gateway: address.optional(),
    dns: address.optional().describe('Primary DNS server.'),
    secondaryDns: address.optional(),
    dhcp: address.optional().describe('DHCP server address.'),
    origin: z.union([z.number().int(), z.string()]).optional().describe("IP origin: 1 or 'manual' (static), 3 or 'dhcp'."),
    mac: z.string().optional().describe('MAC address, e.g. 52:54:00:12:34:56.'),
    vlan: z.number().int().min(0).max(4095).optional(),
    hostname: z.string().optional(),
  })
  .strict()
  .describe('Expected NIC section (fields left out are not checked).');

const targetExpectation = z
  .object({
    ip: address.optional(),
    port: z.number().int().min(1).max(65535).optional(),
    lun: z
      .union([
        z.number().int().min(0).max(0xffff),
        // What @ibft-lab/ibft's comparison reads (iPXE's scsi_parse_lun): up to four hex words.
        z.string().regex(/^[0-9a-fA-F]{1,4}(?:-[0-9a-fA-F]{1,4}){0,3}$/, { message: 'must be up to four "-"-separated hex words, e.g. 0-1' }),
      ])
      .optional()
      .describe('LUN number (1) or iPXE hex words.'),
    name: iscsiNameSchema.optional().describe('Target IQN.'),
    chapType: z.enum(['none', 'chap', 'mutual']).optional(),
    chapName: chapUsernameSchema.optional(),
    chapSecret: chapSecretSchema.optional().describe('Compared, never printed.'),
    reverseChapName: chapUsernameSchema.optional(),
    reverseChapSecret: chapSecretSchema.optional().describe('Compared, never printed.'),
    nicAssociation: z.number().int().min(0).optional(),
  })
  .strict()
  .describe('Expected target section (fields left out are not checked).');

export const expectationsSchema = z
  .object({
    initiator: z.object({ name: iscsiNameSchema.optional().describe('Initiator IQN.') }).strict().optional(),
    nics: z.array(nicExpectation).optional().describe('In slot order.'),
    targets: z.array(targetExpectation).optional().describe('In slot order.'),
  })
  .strict()
  .describe('What the iBFT must say (the IbftExpectation of @ibft-lab/ibft).');


const sutCommon = {
  expect: z
    .array(z.object({ pattern: serialPatternSchema, withinSeconds: z.number().positive().max(3600) }).strict())
    .min(1)
    .describe('Serial lines proving the system used the iBFT, in order; each within its seconds of the previous match.'),
  failOn: z.array(serialPatternSchema).optional().describe('Patterns that fail the run at once (default: panics, no root, rescue shells).'),
};

export const systemUnderTestSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('kernel'), kernel: z.string().min(1), initrd: z.string().min(1).optional(), cmdline: z.string().optional(), ...sutCommon }).strict(),
    z.object({ kind: z.literal('sanboot').describe('iPXE boots the SAN disk the script hooked first (LUN 0).'), ...sutCommon }).strict(),
    z
      .object({
        kind: z.literal('exit'),
        media: z.union([z.object({ cdrom: z.string().min(1) }).strict(), z.object({ disk: z.string().min(1) }).strict()]),
        ...sutCommon,
      })
      .strict(),
  ])
  .describe('What boots after the marker (paths relative to the workspace): the kernel kind, sanboot of the hooked LUN 0, or exit to the next boot device.');

export const replayedTableSchema = z
  .union([
    z.object({ file: z.string().min(1).describe('An iBFT file (ACPI header first), relative to the workspace.') }).strict(),
    z
      .object({
        specFile: z.string().min(1).describe('A JSON file holding the table as `ibft encode` reads it, relative to the workspace.'),
        at: z
          .string()
          .regex(/^[A-Za-z0-9_$]+(\.[A-Za-z0-9_$]+)*$/, { message: 'must be a dotted field path such as firmware.spec' })
          .optional()
          .describe("Where in that file the spec is (a dotted path, e.g. a lab.json's firmware.spec); default: the whole file."),
      })
      .strict(),
  ])
  .describe("Replay this table instead of booting iPXE: the probe guest gets it as an ACPI table (QEMU -acpitable) and every consumer reads it; no script, ROM, NIC or target. A spec is read from its file when the task runs, so its secrets stay out of Nx's project graph.");

export const optionsSchema = z
  .object({
    table: replayedTableSchema.optional(),
    script: z.string().optional().describe('iPXE script to boot, relative to the workspace; default dist/labs/<project>/boot.ipxe.'),
    rom: z
      .string()
      .optional()
      .describe("ROM file, or build-rom's output folder with manifest.json; default: the stock Debian ROM for nic."),
    // A device name only: it becomes the first field of QEMU's -device option, so ',romfile=...' would add options.
    nic: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, { message: 'must be a QEMU NIC model such as rtl8139, virtio-net-pci or e1000' })
      .default('rtl8139')
      .describe('QEMU NIC model: rtl8139, virtio-net-pci, e1000, ...'),
    mac: z
      .string()
      .regex(/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/, { message: 'must look like 52:54:00:12:34:56' })
      .default('52:54:00:12:34:56')
      .describe('Guest NIC MAC address.'),
    firmware: z.enum(['bios', 'uefi']).default('bios').describe('SeaBIOS or OVMF (UEFI).'),
    accel: z.enum(['tcg', 'kvm', 'auto']).default('tcg').describe('QEMU accelerator; tcg works everywhere, kvm needs /dev/kvm.'),
    memoryMiB: z.number().int().min(64).max(4096).default(256).describe('Guest RAM in MiB.'),
    quickProxyDhcp: z
      .boolean()
      .default(true)
      .describe(
        "With a stock ROM: answer its DHCPDISCOVER with a ProxyDHCPOFFER at once, ending the 2 s (3.1 s in all) it waits for one on QEMU's user network; the iBFT is the same. false: QEMU's DHCP server alone, as on a network without PXE service.",
      ),
    initiatorFile: z
      .string()
      .optional()
      .describe("setup-target's initiator.json (workspace-relative): how the guest reaches the target; relays the LIO appliance's portal."),
    segmentNics: z
      .array(
        z
          .object({
            segment: z.string().describe("The segment's name, as initiatorFile's segments name it."),
            mac: z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, { message: 'must look like 52:54:00:00:42:01' }).describe("The NIC's MAC."),
          })
          .strict(),
      )
      .default([])
      .describe("NICs after the first (same model, no option ROM), each on a private segment to the LIO appliance: a QEMU socket netdev connecting to where initiatorFile says the appliance listens."),
    marker: z.string().optional().describe("Line the script echoes when configuration is done; default '== config done =='."),
    expectations: expectationsSchema.optional(),
    probe: z.boolean().default(true).describe('Boot the Linux probe after the marker and require /sys/firmware/ibft to agree.'),
    consumers: z
      .array(z.enum(CONSUMER_CHOICES))
      .default([...DEFAULT_REQUIRED_CONSUMERS])
      .describe(
        "With the probe: the readers of the table that must agree with the expectations (and the table): kernel (/sys/firmware/ibft), open-iscsi (iscsiadm -m fw and iscsistart -f; or iscsiadm, iscsistart alone), dracut (its iBFT cmdline hooks), networkmanager (nm-initrd-generator). Default all. The others' disagreements are findings, not failures.",
      ),
    otherConsumers: z
      .enum(['report', 'skip'])
      .default('report')
      .describe("The consumers not in consumers: 'report' runs them and reports their disagreements as findings; 'skip' leaves them out (consumers [\"kernel\"] with 'skip' boots the small kernel-only probe)."),
    systemUnderTest: systemUnderTestSchema.optional(),
    verbose: z
      .boolean()
      .default(false)
      .describe('Stream the whole serial console (also: nx --verbose, IBFT_LAB_VERBOSE=1); by default one line per phase and error lines at once, the console in the report folder.'),
    deadlineSeconds: z.number().positive().default(300).describe('One deadline for the whole run.'),
    outputPath: z.string().optional().describe('Report folder, relative to the workspace; default dist/labs/<project>/boot-vm.'),
  })
  .strict()
  .describe('Boot the lab initiator in QEMU, read back its iBFT and check it.');

export type BootVmOptions = z.input<typeof optionsSchema>;
export type BootVmParsed = z.output<typeof optionsSchema>;
