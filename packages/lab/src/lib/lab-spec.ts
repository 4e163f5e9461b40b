// One lab, declared once (labs/<name>/lab.json). The initiator IQN, the target
// IQN, the LUNs and the CHAP names appear here and nowhere else: the iPXE
// script, the LIO configuration and the iBFT expectations are all derived
// from this, so they cannot drift apart.
import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { NICS, PLATFORMS, sourceSchema } from '@ibft-lab/ipxe-builder';
import { CONSUMER_CHOICES, DEFAULT_REQUIRED_CONSUMERS, OS_IMAGE_RECIPES } from '@ibft-lab/qemu-runner';
import { chapSecretSchema, chapUsernameSchema, checkServer, iscsiNameSchema, keepingLeaseNetworkSchema, secretRefSchema } from '@ibft-lab/script-gen';
import { labBootSchema, labPathSchema } from './boot-spec';
import { isSegmentNetwork, labNetworkSchema } from './lab-network';

/** Lab names become Nx project names, LIO object names and part of the derived target IQN. */
export const LAB_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

const chapPairSchema = z
  .object({
    username: chapUsernameSchema.describe('CHAP user name.'),
    password: z
      .union([chapSecretSchema, secretRefSchema])
      .describe('CHAP secret: {"env": "NAME"} or {"file": "PATH"} (relative to the lab folder), resolved when the task runs; or 12-16 characters of A-Z a-z 0-9 . _ ~ + - inline (works, with a warning: an inline secret is in Nx\'s project graph). Never printed.'),
  })
  .strict();

export const labChapSchema = chapPairSchema
  .extend({
    mutual: chapPairSchema.optional().describe('Mutual CHAP: the target proves itself to the initiator with these.'),
  })
  .strict()
  .superRefine((chap, ctx) => {
    if (chap.mutual && chap.mutual.password === chap.password) {
      ctx.addIssue({ code: 'custom', path: ['mutual', 'password'], message: 'must differ from password (RFC 3720 §8.2.1)' });
    }
  })
  .describe('CHAP the initiator sends (iPXE username/password) and the target requires (ACL auth).');

const portalSchema = z
  .object({
    // The pattern alone let 10.0.2.300 through (it failed later, in gen-script); isIPv4 checks the octets.
    ip: z
      .string()
      .regex(/^\d{1,3}(\.\d{1,3}){3}$/, { message: 'must be an IPv4 address, e.g. 192.0.2.10' })
      .refine((ip) => isIPv4(ip), { message: 'must be an IPv4 address, e.g. 192.0.2.10' })
      .describe('Portal address as the QEMU guest reaches it.'),
    port: z.number().int().min(1).max(65535).default(3260).describe('Portal TCP port.'),
  })
  .strict();

const sshSchema = z
  .object({
    // A DNS name or an address, nothing else: "10.0.2.2; rm -rf /" was accepted and only failed at connect time.
    host: z
      .string()
      .min(1)
      .refine((host) => checkServer(host) === undefined, { message: 'must be a DNS host name or an IPv4/IPv6 address' })
      .describe('Target machine (name or address) as this machine reaches it.'),
    port: z.number().int().min(1).max(65535).default(22).describe('SSH port.'),
    user: z.string().min(1).default('root').describe('SSH user; not root means targetcli runs under `sudo -n`.'),
    privateKeyPath: z.string().optional().describe('Private key file (absolute, or relative to the workspace root).'),
    useAgent: z.boolean().optional().describe('Use the SSH agent at $SSH_AUTH_SOCK.'),
    hostKeyFingerprint: z
      .string()
      .regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, { message: 'must be SHA256:<43 base64 characters>, as `ssh-keygen -lf <host key>` prints it' })
      .optional()
      .describe('Pinned host key, SHA256:... as ssh-keygen -lf prints it.'),
    knownHosts: z.string().optional().describe('known_hosts line(s) holding the host key.'),
    insecureAcceptAnyHostKey: z.boolean().optional().describe('Skip host key verification (never for shared machines).'),
  })
  .strict()
  // The same rules lio-target's transport applies, checked before anything runs.
  .superRefine((ssh, ctx) => {
    if (!ssh.hostKeyFingerprint && !ssh.knownHosts && !ssh.insecureAcceptAnyHostKey) {
      ctx.addIssue({ code: 'custom', path: ['hostKeyFingerprint'], message: 'is required (or knownHosts): the host key must be verified' });
    }
    if (!ssh.privateKeyPath && !ssh.useAgent) {
      ctx.addIssue({ code: 'custom', path: ['privateKeyPath'], message: 'is required unless useAgent is true' });
    }
  })
  .describe('How to reach the target machine over SSH (ssh2; the host key is verified).');

/** The recipes qemu-runner can build (its registry): a new recipe needs no change here. */
const OS_RECIPE_NAMES = Object.keys(OS_IMAGE_RECIPES) as [string, ...string[]];

export const lunImageSchema = z
  .union([
    labPathSchema.describe('A raw or qcow2 disk image, relative to the lab folder. Served copy-on-write: the file is never written.'),
    z
      .object({
        os: z.enum(OS_RECIPE_NAMES).describe(`An OS image built from Debian packages on first use and cached by content: ${OS_RECIPE_NAMES.join(', ')}.`),
      })
      .strict(),
  ])
  .describe(
    `What the LUN holds instead of an empty fileio file: a raw or qcow2 image, relative to the lab folder, or {"os": NAME}, an OS image built from Debian packages on first use and cached by content (${OS_RECIPE_NAMES.join(', ')}). The appliance serves it as a block backstore, copy-on-write (the file is never written, nothing is copied into the appliance's RAM); labs with an image reach the appliance at 10.0.2.2:<target.hostPort>. An SSH or local target takes a raw file only: uploaded once into backingDir (checked by sha256, reused while unchanged) and served from a copy there.`,
  );

const lunSchema = z
  .object({
    sizeMiB: z
      .number()
      .int()
      .min(1)
      .max(65536)
      .optional()
      .describe("Size in MiB: of the sparse fileio backing file (default 64), or with an image the size it may not exceed (default: the image's size)."),
    image: lunImageSchema.optional(),
  })
  .strict();

export const labTargetSchema = z
  .discriminatedUnion('kind', [
    z
      .object({
        kind: z
          .literal('appliance')
          .describe("A disposable LIO appliance VM (the lab's target-vm), reached by the guest at 10.0.2.4:3260; with an image LUN at 10.0.2.2:<hostPort>."),
        hostPort: z
          .number()
          .int()
          .min(1024)
          .max(65535)
          .optional()
          .describe(
            "Labs with an image LUN: the host loopback port the appliance's iSCSI portal is published on, which the guest reaches at 10.0.2.2 (whole-disk reads through the 10.0.2.4 relay are about 25 times slower). Default: derived from the lab name, in 20000-29999.",
          ),
      })
      .strict(),
    z
      .object({
        kind: z.literal('ssh').describe('A LIO machine you own, configured over SSH.'),
        ssh: sshSchema,
        portal: portalSchema.describe('The iSCSI portal as the QEMU guest reaches it (the machine address and port).'),
        listenPort: z
          .number()
          .int()
          .min(1)
          .max(65535)
          .optional()
          .describe('Port LIO listens on when the guest reaches the machine through a port forward; default portal.port.'),
        backingDir: z
          .string()
          .regex(/^\/[A-Za-z0-9._/+-]+$/, { message: 'must be an absolute path without spaces or shell characters' })
          .default('/var/tmp')
          .describe("Folder on the target machine for the fileio backing files this lab creates (and its LUN images, uploaded once: <file>.source beside each LUN's copy)."),
      })
      .strict(),
    z
      .object({
        kind: z.literal('local').describe('LIO in this machine’s kernel (needs configfs and target_core_mod; root).'),
        portal: portalSchema.prefault({ ip: '10.0.2.2' }).describe('The portal as the guest reaches this machine (10.0.2.2 on user networking).'),
        backingDir: z
          .string()
          .regex(/^\/[A-Za-z0-9._/+-]+$/, { message: 'must be an absolute path without spaces or shell characters' })
          .default('/var/tmp')
          .describe("Folder on this machine for the fileio backing files this lab creates (and its LUN images, copied once: <file>.source beside each LUN's copy)."),
      })
      .strict(),
  ])
  .describe('Where the LIO target runs.');

export const labFirmwareSchema = z
  .object({
    nic: z.enum(NICS).default('rtl8139').describe('NIC model (ipxe-builder names: rtl8139, virtio-net, e1000, ...).'),
    platform: z.enum(PLATFORMS).default('bios').describe('bios (SeaBIOS) or uefi (OVMF).'),
    rom: z
      .enum(['build', 'stock'])
      .default('build')
      .describe("build: iPXE built from source with the script embedded (falls back to the stock ROM when no source can be had and fallback is 'stock'); stock: always Debian's ROM with the script over TFTP."),
    source: sourceSchema.optional(),
    fallback: z.enum(['none', 'stock']).default('stock').describe("What build-rom does without an iPXE source: 'stock' (warned) or 'none' (error)."),
    overrides: z
      .record(z.string(), z.record(z.string(), z.union([z.boolean(), z.number().int(), z.string()])))
      .default({})
      .describe(
        "config/local/<file>.h overrides for built ROMs, on top of the lab's own (file by file, macro by macro, yours win): general.h BANNER_TIMEOUT 0 and ROM_BANNER_TIMEOUT 0; dhcp.h DHCP_DISC_PROXY_TIMEOUT_SEC 0 (no wait for a ProxyDHCP answer; set it back to 2 to test ProxyDHCP) and DHCP_DISC_START_TIMEOUT_SEC 0 (a lost first DHCPDISCOVER is sent again after 0.25 s, not 1 s). The stock ROM ignores overrides (warned when you give any).",
      ),
  })
  .strict()
  .describe('The initiator firmware: iPXE (no kind).');

export const labTableFirmwareSchema = z
  .object({
    kind: z
      .literal('table')
      .describe('Replay a table no firmware here writes: no iPXE, no ROM, no target. boot-vm hands it to the probe guest as an ACPI table (QEMU -acpitable) and every consumer reads it (docs/replay.md).'),
    table: z
      .string()
      .min(1)
      .optional()
      .describe("The table's file, relative to the lab folder: an iBFT with its ACPI header first, as `ibft encode`, `ibft import --format bin` and boot-vm's ibft.bin write it."),
    spec: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('The table as `ibft encode` reads it (the JSON `ibft decode --format json` and `ibft import` print). boot-vm reads it from lab.json when it runs, so it stays out of Nx\'s project graph; CHAP secrets here are in lab.json in clear: put such a table in a git-ignored file (table) instead.'),
  })
  .strict()
  .superRefine((firmware, ctx) => {
    if ((firmware.table === undefined) === (firmware.spec === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['table'], message: 'give the table as exactly one of table (a file) and spec (the JSON ibft encode reads)' });
    }
  })
  .describe('A replayed table (kind "table").');

/** Fields a table lab must not have: the table says all of it, and nothing boots a target. Each with its fix. */
const NOT_FOR_TABLE_LABS: Record<string, string> = {
  initiator: 'the table names the initiator (and its NICs carry the MACs): remove initiator',
  network: "the table's NIC structures are the network: remove network",
  target: 'a table lab starts no iSCSI target (nothing logs in): remove target',
  targetIqn: "the table's target structures name the targets: remove targetIqn",
  luns: "the table's target structures give the LUNs: remove luns",
  chap: "the table's target structures carry CHAP: remove chap",
  boot: 'a table lab boots the consumer probe, nothing else: remove boot',
  probe: 'a table lab always runs the probe: remove probe',
};

export const labSpecSchema = z
  .object({
    $schema: z.string().optional().describe('Path of docs/lab.schema.json, for editors; not used by ibft-lab.'),
    name: z
      .string()
      .regex(LAB_NAME_PATTERN, { message: "may hold only a-z, 0-9 and '-' (1 to 32 characters, not starting or ending with '-')" })
      .optional()
      .describe("The lab's Nx project name; default: the folder's name."),
    initiator: z
      .object({
        iqn: iscsiNameSchema.describe('Initiator name iPXE uses (and the ACL allows).'),
        mac: z
          .string()
          .regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, { message: 'must be a lowercase MAC address such as 52:54:00:12:34:56' })
          .default('52:54:00:12:34:56')
          .describe("MAC address of the initiator's NIC (and of the iBFT's NIC section)."),
      })
      .strict()
      .optional()
      .describe('The iSCSI initiator: iPXE in the QEMU guest. Required, except in a table lab (firmware kind "table"), which takes it from its table.'),
    network: labNetworkSchema.prefault({ mode: 'dhcp' }),
    firmware: z
      .union([labFirmwareSchema, labTableFirmwareSchema])
      .prefault({})
      .describe('The initiator firmware: iPXE (no kind), or a replayed table (kind "table").'),
    target: labTargetSchema.prefault({ kind: 'appliance' }),
    targetIqn: iscsiNameSchema.optional().describe('Target IQN; default iqn.2024-01.org.ibft-lab:<name>.'),
    luns: z.array(lunSchema).min(1).max(2).prefault([{}]).describe('Disks (LUN 0, 1); each is one sanhook and one iBFT target section.'),
    chap: labChapSchema.optional(),
    boot: labBootSchema.prefault({ kind: 'probe' }),
    probe: z
      .boolean()
      .optional()
      .describe('Boot the Linux probe and require /sys/firmware/ibft to agree with the host decode; default: true for boot kind probe, false otherwise (then it boots first, on its own).'),
    consumers: z
      .array(z.enum(CONSUMER_CHOICES))
      .default([...DEFAULT_REQUIRED_CONSUMERS])
      .describe(
        'With the probe, the readers of the table that must agree with the lab: kernel (Linux /sys/firmware/ibft), open-iscsi (iscsiadm -m fw and iscsistart -f; iscsiadm or iscsistart names one), dracut (its iBFT cmdline hooks: ip=, ifname=, the initiator name), networkmanager (nm-initrd-generator). Default all four. A consumer left out still runs: its disagreements are findings in report.json and the summary, not failures.',
      ),
    otherConsumers: z
      .enum(['report', 'skip'])
      .default('report')
      .describe("The consumers not in consumers: 'report' (default) runs and reports them; 'skip' leaves them out, and with consumers [\"kernel\"] the probe is the small kernel-only one (no open-iscsi, dracut or NetworkManager inside: about 1 MB instead of 13 MB)."),
    memoryMiB: z.number().int().min(64).max(4096).optional().describe('Initiator RAM; default 256 MiB for the probe, 1024 MiB for a system under test.'),
    accel: z.enum(['tcg', 'kvm', 'auto']).default('tcg').describe('QEMU accelerator for the initiator (tcg is safe under nested virtualisation).'),
    deadlineSeconds: z.number().int().positive().default(300).describe('One deadline for boot-vm.'),
  })
  .strict()
  .superRefine((lab, ctx) => {
    if (lab.boot.kind === 'sanboot' && !lab.luns[0]?.image) {
      ctx.addIssue({
        code: 'custom',
        path: ['luns', 0, 'image'],
        message: 'boot kind "sanboot" boots LUN 0: give it an image (a raw or qcow2 file, or {"os": "debian-iscsi-root"})',
      });
    }
    // An SSH or local target is given a file (uploaded into backingDir); OS recipes are built for the appliance only.
    lab.luns.forEach((lun, i) => {
      if (lun.image && typeof lun.image === 'object' && lab.target.kind !== 'appliance') {
        ctx.addIssue({
          code: 'custom',
          path: ['luns', i, 'image'],
          message: `an OS image ({"os": "${lun.image.os}"}) is served by the appliance target only; use target.kind "appliance", or give the path of a raw image file (the ${lab.target.kind} target gets it uploaded into backingDir)`,
        });
      }
    });
    // Private segments: what no single field can check (lab-network.ts checks the network itself).
    const net = lab.network;
    if (!isSegmentNetwork(net)) return;
    if (lab.target.kind !== 'appliance') ctx.addIssue({ code: 'custom', path: ['network', 'mode'], message: `${net.mode} needs target kind appliance (the appliance serves the segments)` });
    if (lab.luns.some((lun) => lun.image)) ctx.addIssue({ code: 'custom', path: ['network', 'mode'], message: `${net.mode} with an image LUN is not supported yet; use network mode dhcp or static for image labs` });
    // Under OVMF each NIC is driven by its own option ROM's iPXE or by OVMF's driver; the iPXE that runs the script
    // sees only net0 ("net1": no such network device), so the segment NICs would never come up.
    if ('platform' in lab.firmware && lab.firmware.platform === 'uefi') ctx.addIssue({ code: 'custom', path: ['firmware', 'platform'], message: `${net.mode} needs platform bios: under UEFI the iPXE that runs the script drives only net0, not the segment NICs` });
    net.nics.forEach((nic, i) => {
      if (lab.initiator && nic.mac === lab.initiator.mac) ctx.addIssue({ code: 'custom', path: ['network', 'nics', i, 'mac'], message: `is initiator.mac already (net0, on the user network); give each NIC its own MAC` });
    });
    (net.paths ?? []).forEach((path, i) => {
      if (path.lun >= lab.luns.length) ctx.addIssue({ code: 'custom', path: ['network', 'paths', i, 'lun'], message: `LUN ${path.lun} is not in luns (${lab.luns.length} declared)` });
    });
  })
  .describe('An iSCSI-boot lab: initiator, network, firmware, target, disks, CHAP and the proof to run.');

export type LabSpecInput = z.input<typeof labSpecSchema>;
type ParsedLab = z.output<typeof labSpecSchema>;
/** A lab whose firmware is iPXE. */
export type LabSpec = Omit<ParsedLab, 'initiator' | 'firmware'> & {
  name: string;
  initiator: NonNullable<ParsedLab['initiator']>;
  firmware: z.output<typeof labFirmwareSchema>;
};
/** A lab that replays a table (firmware kind "table"): no initiator, network, target, LUNs, CHAP or boot of its own. */
export type TableLabSpec = Pick<ParsedLab, '$schema' | 'consumers' | 'otherConsumers' | 'memoryMiB' | 'accel' | 'deadlineSeconds'> & {
  name: string;
  firmware: z.output<typeof labTableFirmwareSchema>;
};
export type AnyLabSpec = LabSpec | TableLabSpec;

export function isTableLab(lab: AnyLabSpec): lab is TableLabSpec {
  return 'kind' in lab.firmware && lab.firmware.kind === 'table';
}

function isTableLabInput(input: unknown): input is Record<string, unknown> {
  const firmware = (input as { firmware?: unknown } | null)?.firmware;
  return typeof firmware === 'object' && firmware !== null && (firmware as { kind?: unknown }).kind === 'table';
}

/** Parses lab.json's content (an iPXE or a table lab); every problem names its field (`lab.json: target.kind: ...`), never a secret. */
export function parseLab(input: unknown, defaultName: string, file = 'lab.json'): AnyLabSpec {
  const table = isTableLabInput(input);
  // Checked on what the file says: after parsing, the defaults (network, target, luns, boot) are always there.
  const misplaced = table ? Object.keys(NOT_FOR_TABLE_LABS).filter((key) => key in input) : [];
  if (misplaced.length) throw new LabSpecError(misplaced.map((key) => `${file}: ${key}: ${NOT_FOR_TABLE_LABS[key]}`));
  const kind = (input as { firmware?: { kind?: unknown } } | null)?.firmware?.kind;
  if (kind !== undefined && kind !== 'table') {
    throw new LabSpecError([`${file}: firmware.kind: is ${JSON.stringify(kind)}; write "table" (a replayed table), or leave kind out (iPXE firmware)`]);
  }
  const parsed = labSpecSchema.safeParse(input);
  if (!parsed.success) {
    // firmware is a union: report the issues of the form the file chose (by kind), not "Invalid input".
    const issues = parsed.error.issues.flatMap((issue) =>
      issue.code === 'invalid_union' && issue.path.length === 1 && issue.path[0] === 'firmware'
        ? issue.errors[table ? 1 : 0].map((inner) => ({ ...inner, path: ['firmware', ...inner.path] }))
        : [issue],
    );
    const lines = issues.map((issue) => `${file}: ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
    throw new LabSpecError(lines);
  }
  if (!table && !parsed.data.initiator) {
    throw new LabSpecError([`${file}: initiator: is required: give the initiator's IQN ({"iqn": "iqn.2010-04.org.ipxe:<name>"}), or make the lab replay a table (firmware kind "table")`]);
  }
  const name = parsed.data.name ?? defaultName;
  if (!LAB_NAME_PATTERN.test(name)) {
    throw new LabSpecError([`${file}: name: the folder name ${JSON.stringify(name)} is not a lab name; set "name" (a-z, 0-9, '-')`]);
  }
  if (table) {
    const { $schema, consumers, otherConsumers, memoryMiB, accel, deadlineSeconds, firmware } = parsed.data;
    return { ...($schema !== undefined ? { $schema } : {}), name, firmware: firmware as TableLabSpec['firmware'], consumers, otherConsumers, memoryMiB, accel, deadlineSeconds };
  }
  return { ...parsed.data, name } as LabSpec;
}

/** Parses an iPXE lab (see parseLab for either kind); a table lab is refused. */
export function parseLabSpec(input: unknown, defaultName: string, file = 'lab.json'): LabSpec {
  const lab = parseLab(input, defaultName, file);
  if (isTableLab(lab)) throw new LabSpecError([`${file}: firmware.kind: this lab replays a table; read it with parseLab (or readLab), which returns either kind`]);
  return lab;
}

export class LabSpecError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'LabSpecError';
  }
}
