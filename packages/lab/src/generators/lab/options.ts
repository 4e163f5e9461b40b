import { z } from 'zod';
import { NICS, PLATFORMS } from '@ibft-lab/ipxe-builder';
import { OS_IMAGE_RECIPES } from '@ibft-lab/qemu-runner';
import { LAB_NAME_PATTERN } from '../../lib/lab-spec';

export const optionsSchema = z
  .object({
    name: z
      .string()
      .regex(LAB_NAME_PATTERN, { message: "may hold only a-z, 0-9 and '-' (1 to 32 characters, not starting or ending with '-')" })
      .describe('Lab (and Nx project) name.')
      // Nx reads `$default` from schema.json: `nx g @ibft-lab/lab:lab my-lab`.
      .meta({ $default: { $source: 'argv', index: 0 } }),
    directory: z.string().optional().describe('Folder of the lab, workspace-relative; default labs/<name>.'),
    initiatorIqn: z.string().optional().describe('Initiator IQN; default iqn.2010-04.org.ipxe:<name>.'),
    nic: z.enum(NICS).optional().describe('NIC model; default rtl8139, or virtio-net with --os (Debian\'s cloud kernel has no rtl8139 or e1000 driver).'),
    firmware: z.enum(PLATFORMS).default('bios').describe('bios (SeaBIOS) or uefi (OVMF).'),
    rom: z.enum(['build', 'stock']).default('build').describe("build: iPXE from source with the script embedded (stock ROM when no source); stock: Debian's ROM."),
    network: z
      .enum(['dhcp', 'static', 'segments', 'multipath', 'dhcp-root-path'])
      .default('dhcp')
      .describe(
        "dhcp or static: net0 on QEMU's user network, configured so. On private segments to the appliance (docs/networks.md): segments, one NIC and segment per LUN, each NIC on the appliance's DHCP; multipath, two static NICs on two segments, every LUN over both; dhcp-root-path, one NIC whose DHCP answer names the target (option 17).",
      ),
    ip: z.string().default('10.0.2.15').describe("Static address (network 'static')."),
    prefix: z.number().int().min(1).max(32).default(24).describe("Static prefix length (network 'static')."),
    gateway: z.string().default('10.0.2.2').describe("Static gateway (network 'static')."),
    dns: z.string().default('10.0.2.3').describe("Static DNS server (network 'static')."),
    chap: z.enum(['none', 'chap', 'mutual']).default('none').describe('CHAP: none, one-way, or mutual. Secrets are generated (random, 16 characters) into lab.json.'),
    target: z.enum(['appliance', 'ssh', 'local']).default('appliance').describe('Where LIO runs: the disposable appliance VM, a machine over SSH, or this machine.'),
    sshHost: z.string().optional().describe("Target machine for target 'ssh'."),
    sshPort: z.number().int().min(1).max(65535).default(22),
    sshUser: z.string().default('root'),
    sshPrivateKey: z.string().optional().describe('Private key file for SSH.'),
    sshHostKeyFingerprint: z.string().optional().describe('Pinned host key (SHA256:...).'),
    portalIp: z.string().optional().describe("Portal address as the guest reaches it (target 'ssh'; default sshHost)."),
    portalPort: z.number().int().min(1).max(65535).default(3260),
    luns: z.number().int().min(1).max(2).default(1).describe('Number of disks (LUN 0, 1).'),
    probe: z.boolean().optional().describe('Boot the Linux probe to read /sys/firmware/ibft; default true, false with --os (the OS proves the table by booting from it).'),
    os: z
      .enum(Object.keys(OS_IMAGE_RECIPES) as [string, ...string[]])
      .optional()
      .describe('Put this OS image on LUN 0 (built from Debian packages on first use, cached) and sanboot it; the lab expects its proof lines: root on the iSCSI disk, the session, power off.'),
  })
  .strict()
  .describe('Scaffold a lab: labs/<name>/lab.json, whose targets the @ibft-lab/lab plugin infers.');

export type LabGeneratorOptions = z.input<typeof optionsSchema>;
