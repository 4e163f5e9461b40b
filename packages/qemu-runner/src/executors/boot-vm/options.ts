import { z } from 'zod';

const address = z.string().describe('An IPv4 or IPv6 address.');

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
    lun: z.union([z.number().int().min(0), z.string()]).optional().describe('LUN number (1) or iPXE hex words.'),
    name: z.string().optional().describe('Target IQN.'),
    chapType: z.enum(['none', 'chap', 'mutual']).optional(),
    chapName: z.string().optional(),
    chapSecret: z.string().optional().describe('Compared, never printed.'),
    reverseChapName: z.string().optional(),
    reverseChapSecret: z.string().optional().describe('Compared, never printed.'),
    nicAssociation: z.number().int().min(0).optional(),
  })
  .strict()
  .describe('Expected target section (fields left out are not checked).');

export const expectationsSchema = z
  .object({
    initiator: z.object({ name: z.string().optional().describe('Initiator IQN.') }).strict().optional(),
    nics: z.array(nicExpectation).optional().describe('In slot order.'),
    targets: z.array(targetExpectation).optional().describe('In slot order.'),
  })
  .strict()
  .describe('What the iBFT must say (the IbftExpectation of @ibft-lab/ibft).');

export const optionsSchema = z
  .object({
    script: z.string().optional().describe('iPXE script to boot, relative to the workspace; default dist/labs/<project>/boot.ipxe.'),
    rom: z
      .string()
      .optional()
      .describe("ROM file, or build-rom's output folder with manifest.json; default: the stock Debian ROM for nic."),
    nic: z.string().default('rtl8139').describe('QEMU NIC model: rtl8139, virtio-net-pci, e1000, ...'),
    mac: z
      .string()
      .regex(/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/, { message: 'must look like 52:54:00:12:34:56' })
      .default('52:54:00:12:34:56')
      .describe('Guest NIC MAC address.'),
    firmware: z.enum(['bios', 'uefi']).default('bios').describe('SeaBIOS or OVMF (UEFI).'),
    accel: z.enum(['tcg', 'kvm', 'auto']).default('tcg').describe('QEMU accelerator; tcg works everywhere, kvm needs /dev/kvm.'),
    memoryMiB: z.number().int().min(64).max(4096).default(256).describe('Guest RAM in MiB.'),
    initiatorFile: z
      .string()
      .optional()
      .describe("setup-target's initiator.json (workspace-relative): how the guest reaches the target; relays the LIO appliance's portal."),
    marker: z.string().optional().describe("Line the script echoes when configuration is done; default '== config done =='."),
    expectations: expectationsSchema.optional(),
    probe: z.boolean().default(true).describe('Boot the Linux probe after the marker and require /sys/firmware/ibft to agree.'),
    deadlineSeconds: z.number().positive().default(300).describe('One deadline for the whole run.'),
    outputPath: z.string().optional().describe('Report folder, relative to the workspace; default dist/labs/<project>/boot-vm.'),
  })
  .strict()
  .describe('Boot the lab initiator in QEMU, read back its iBFT and check it.');

export type BootVmOptions = z.input<typeof optionsSchema>;
