// The typed model of a lab's iPXE script. Every field is described so the
// JSON schema of the gen-script executor documents itself, and every check
// reports through a zod issue path, so errors name the field to fix.
import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { chapSecretSchema, chapUsernameSchema, iscsiNameSchema } from './iscsi-name';
import { checkServer } from './san-uri';

export const DEFAULT_MARKER = '== config done ==';
export const DEFAULT_PROMPT_TEXT = 'Press Ctrl-B for the iPXE command line...';

const ipv4Schema = z
  .string()
  .refine((v) => isIPv4(v), { message: 'must be a dotted IPv4 address such as 10.0.2.15' });

const netmaskSchema = ipv4Schema.refine((v) => isContiguousNetmask(v), {
  message: 'must be a contiguous netmask such as 255.255.255.0',
});

export function isContiguousNetmask(mask: string): boolean {
  if (!isIPv4(mask)) return false;
  const bits = mask.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const inverted = ~bits >>> 0;
  return (inverted & (inverted + 1)) === 0;
}

export function prefixToNetmask(prefix: number): string {
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((shift) => (bits >>> shift) & 0xff).join('.');
}

// A word iPXE passes through unchanged: no whitespace, no `${` expansion.
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export const dhcpNetworkSchema = z
  .object({
    mode: z.literal('dhcp').describe('Configure the interfaces by DHCP (`dhcp`).'),
    keepFirmwareLease: z
      .boolean()
      .default(false)
      .describe(
        'Keep the address the firmware already got for net0 (the stock ROM asks DHCP for the script it fetches over TFTP): `isset ${net0/ip} || dhcp` instead of a second `dhcp` (about 3 s under TCG). The iBFT is the same either way; false always runs `dhcp`.',
      ),
  })
  .strict()
  .describe('DHCP network configuration.');

export const staticNetworkSchema = z
  .object({
    mode: z.literal('static').describe('Static configuration of net0 (`set net0/...`, then `ifopen net0`).'),
    ip: ipv4Schema.describe('IPv4 address of net0, e.g. 10.0.2.15.'),
    netmask: netmaskSchema.optional().describe('Subnet mask, e.g. 255.255.255.0. Give this or prefix.'),
    prefix: z.number().int().min(0).max(32).optional().describe('Prefix length 0-32 (rendered as a netmask). Give this or netmask.'),
    gateway: ipv4Schema.optional().describe('Default gateway (IPv4).'),
    dns: z.array(ipv4Schema).default([]).describe('DNS servers (IPv4), first is primary; iBFT records the first two.'),
    hostname: z
      .string()
      .regex(HOSTNAME, { message: 'must be a DNS host name (letters, digits, "-", ".")' })
      .optional()
      .describe('Host name (`set hostname`).'),
  })
  .strict()
  .superRefine((net, ctx) => {
    if (net.netmask !== undefined && net.prefix !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['prefix'], message: 'give either netmask or prefix, not both' });
    }
    if (net.netmask === undefined && net.prefix === undefined) {
      ctx.addIssue({ code: 'custom', path: ['netmask'], message: 'a static network needs a netmask or a prefix' });
    }
  })
  .describe('Static IPv4 network configuration.');

export const networkSchema = z
  .discriminatedUnion('mode', [dhcpNetworkSchema, staticNetworkSchema])
  .describe('How iPXE configures its network: dhcp or static.');

/** A lab's DHCP network: the same, but it keeps the firmware's lease unless it says otherwise. */
export const keepingLeaseDhcpNetworkSchema = dhcpNetworkSchema
  .extend({ keepFirmwareLease: z.boolean().default(true).describe(dhcpNetworkSchema.shape.keepFirmwareLease.description ?? '') })
  .describe(dhcpNetworkSchema.description ?? '');

/** A lab's network: dhcp (keeping the firmware's lease) or static. */
export const keepingLeaseNetworkSchema = z
  .discriminatedUnion('mode', [keepingLeaseDhcpNetworkSchema, staticNetworkSchema])
  .describe('How iPXE configures its network: dhcp or static.');

/** An iPXE network device name: net0, net1, … or a VLAN device net1-42 (what vcreate names it). */
export const NETDEV_NAME = /^net[0-9]{1,2}(?:-[0-9]{1,4})?$/;
const netdevSchema = z.string().regex(NETDEV_NAME, { message: 'must be an iPXE network device name such as net1' });

export const interfaceSchema = z
  .object({
    netdev: netdevSchema.describe('The NIC, e.g. net1 (net0 is `network`).'),
    vlan: z.number().int().min(1).max(4094).optional().describe('802.1Q tag: `vcreate --tag N <netdev>`, then configure <netdev>-N instead.'),
    network: networkSchema.describe('How this interface is configured: dhcp (`dhcp <netdev>`) or static (`set <netdev>/ip ...`, `ifopen <netdev>`).'),
  })
  .strict()
  .describe('One more network interface, configured after net0.');

const multiWordLun = /^[0-9a-f]{1,4}(?:-[0-9a-f]{1,4}){1,3}$/;

export const sanTargetSchema = z
  .object({
    server: z
      .string()
      .superRefine((server, ctx) => {
        const problem = checkServer(server);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .describe('Target portal address: IPv4, IPv6 (no brackets) or DNS name. A QEMU user-network guest reaches the host as 10.0.2.2.'),
    protocol: z.literal(6).optional().describe('RFC 4173 protocol field; iPXE ignores it. Only 6 (TCP) is valid; usually omitted.'),
    port: z.number().int().min(1).max(65535).optional().describe('TCP port of the portal; omitted means 3260.'),
    lun: z
      .union([
        z.number().int().min(0).max(0xffff),
        z.string().regex(multiWordLun, { message: 'must be lowercase hex words joined by "-", e.g. 0-1' }),
      ])
      .optional()
      .describe('LUN: a number 0-65535 (rendered in hex) or 2-4 "-"-separated lowercase hex words. Omitted means LUN 0. tgt disks start at LUN 1.'),
    targetIqn: iscsiNameSchema.describe('Target name (IQN, EUI or NAA).'),
  })
  .strict()
  .describe('One iSCSI SAN target: iscsi:<server>:<protocol>:<port>:<LUN>:<targetIqn>.');

export const chapSchema = z
  .object({
    username: chapUsernameSchema.describe('CHAP user name the initiator sends (iPXE setting `username`).'),
    password: chapSecretSchema.describe('CHAP secret the initiator proves (iPXE setting `password`). 12-16 characters of A-Z a-z 0-9 . _ ~ + -.'),
    mutual: z
      .object({
        username: chapUsernameSchema.describe('User name the target sends back (iPXE setting `reverse-username`).'),
        password: chapSecretSchema.describe('Secret the target proves (iPXE setting `reverse-password`); must differ from password.'),
      })
      .strict()
      .optional()
      .describe('Mutual CHAP: the target authenticates to the initiator too.'),
  })
  .strict()
  .superRefine((chap, ctx) => {
    if (chap.mutual && chap.mutual.password === chap.password) {
      ctx.addIssue({
        code: 'custom',
        path: ['mutual', 'password'],
        message: 'mutual CHAP secret must differ from the initiator secret (RFC 3720 §8.2.1)',
      });
    }
  })
  .describe('CHAP credentials set before this sanhook (iPXE settings username/password, reverse-username/reverse-password).');

export const sanhookSchema = z
  .object({
    targets: z
      .array(sanTargetSchema)
      .default([])
      .describe('SAN targets of this drive; several targets make a multipath drive (one sanhook, several URIs).'),
    settingUris: z
      .array(z.string().regex(/^(?:net[0-9]{1,2}(?:-[0-9]{1,4})?\/)?root-path$/, { message: 'must be root-path or <netdev>/root-path, e.g. net1/root-path' }))
      .default([])
      .describe('iPXE settings that hold a SAN URI (DHCP option 17), written as `${net1/root-path}`, after targets.'),
    drive: z
      .number()
      .int()
      .min(0)
      .max(0xff)
      .optional()
      .describe('BIOS drive number (`--drive`, e.g. 0x80 = 128); omitted means iPXE picks 0x80.'),
    noDescribe: z.boolean().default(false).describe('Do not describe the drive in the iBFT (`--no-describe`).'),
    keepGoing: z
      .boolean()
      .default(true)
      .describe('Append `||` so a failed attach does not end the script (the marker still prints).'),
    chap: chapSchema.optional(),
  })
  .strict()
  .superRefine((hook, ctx) => {
    if (hook.targets.length + hook.settingUris.length === 0) ctx.addIssue({ code: 'custom', path: ['targets'], message: 'a sanhook needs at least one target' });
  })
  .describe('One `sanhook` command.');

export const promptSchema = z
  .object({
    key: z.number().int().min(1).max(0xffff).default(0x02).describe('Key code that opens the shell (0x02 = Ctrl-B, 0x197e = F12).'),
    timeoutMs: z.number().int().min(0).max(3_600_000).default(2000).describe('How long to wait for the key, in milliseconds (0 waits forever).'),
    text: z
      .string()
      .regex(/^[^\s$\\"'#|&{}](?:[^\s$\\"'#|&{}]| (?! ))*$/, {
        message: 'must be plain text: no leading/trailing/double spaces, no $ \\ quotes | & # or braces',
      })
      .refine((v) => !v.endsWith(' '), { message: 'must not end with a space' })
      .default(DEFAULT_PROMPT_TEXT)
      .describe('Text shown while waiting.'),
  })
  .strict()
  .describe('Offer the iPXE shell: `prompt --key K --timeout T text && shell ||`.');

const urlSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9+.-]*:[^\s$"'\\{}]+$/, { message: 'must be a URL without spaces, quotes, $ or braces' });

export const nextSchema = z
  .discriminatedUnion('action', [
    z.object({ action: z.literal('exit').describe('`exit`: leave iPXE; the BIOS tries its next boot device.') }).strict(),
    z
      .object({
        action: z.literal('sanboot').describe('`sanboot`: boot from a hooked SAN drive.'),
        drive: z.number().int().min(0).max(0xff).optional().describe('Drive to boot (`--drive`); omitted means 0x80.'),
        noDescribe: z.boolean().default(false).describe('`--no-describe`.'),
        keepGoing: z.boolean().default(true).describe('Append `||` so a failed boot falls through instead of ending the script with an error.'),
      })
      .strict(),
    z
      .object({
        action: z.literal('kernel').describe('Boot a kernel: `kernel URL cmdline`, `initrd URL`..., `boot`.'),
        kernelUrl: urlSchema.describe('Kernel URL (http://, tftp://, ...).'),
        initrdUrls: z.array(urlSchema).default([]).describe('initrd URLs, loaded in order.'),
        cmdline: z
          .string()
          .regex(/^[^\s$"'\\{}](?:[^\s$"'\\{}]| (?! ))*$/, {
            message: 'must be words separated by single spaces, without $ quotes \\ or braces',
          })
          .refine((v) => !v.split(' ').some((w) => w === '||' || w === '&&' || w.startsWith('#')), {
            message: 'must not contain || or && or words starting with # (iPXE reads them as operators/comments)',
          })
          .optional()
          .describe('Kernel command line.'),
      })
      .strict(),
    z.object({ action: z.literal('shell').describe('`shell`: stop at the iPXE command line.') }).strict(),
    z
      .object({
        action: z.literal('chain').describe('`chain URL`: hand over to another script (e.g. one the test runner serves over TFTP).'),
        url: urlSchema.describe('Script URL, e.g. tftp://10.0.2.2/next.ipxe.'),
        keepGoing: z.boolean().default(true).describe('Append `||` so a missing script ends this one quietly instead of with an error.'),
      })
      .strict(),
  ])
  .describe('What happens after the marker. Omitted: the script just ends (like exit).');

export const diagnosticsSchema = z
  .object({
    show: z
      .array(z.string().regex(/^[a-z0-9][a-z0-9./:-]*$/, { message: 'must be an iPXE setting name such as initiator-iqn or net0/ip' }))
      .default([])
      .describe('Settings to print with `show`, e.g. initiator-iqn, net0/ip.'),
    route: z.boolean().default(false).describe('Print the routing table (`route`).'),
  })
  .strict()
  .describe('Diagnostics printed before the marker.');

export const labScriptSchema = z
  .object({
    network: networkSchema.prefault({ mode: 'dhcp' }),
    interfaces: z.array(interfaceSchema).default([]).describe('More NICs (and VLAN devices on them), configured after net0, in order.'),
    clearSettings: z
      .array(z.string().regex(/^net[0-9]{1,2}(?:-[0-9]{1,4})?(?:\.dhcp)?\/[a-z][a-z0-9-]*$/, { message: 'must be a scoped iPXE setting such as net0.dhcp/dns' }))
      .default([])
      .describe('Settings removed after the interfaces are up (`clear S ||`), e.g. net0.dhcp/dns: iPXE writes the first DNS server of any interface into every iBFT NIC.'),
    initiatorIqn: iscsiNameSchema.optional().describe('Initiator name (`set initiator-iqn`); omitted lets iPXE derive one.'),
    sanhooks: z.array(sanhookSchema).default([]).describe('SAN drives to attach, in order.'),
    diagnostics: diagnosticsSchema.default({ show: [], route: false }),
    marker: z
      .string()
      .regex(/^[^\s$\\"'#|&{}](?:[^\s$\\"'#|&{}]| (?! ))*$/, {
        message: 'must be plain text: no leading/trailing/double spaces, no $ \\ quotes | & # or braces',
      })
      .refine((v) => !v.endsWith(' '), { message: 'must not end with a space' })
      .default(DEFAULT_MARKER)
      .describe('Line echoed when configuration is done; tests wait for it on the serial console.'),
    prompt: promptSchema.optional(),
    next: nextSchema.optional(),
  })
  .strict()
  .describe('An iPXE lab script.');

/** A validated lab script (defaults filled in). */
export type LabScript = z.output<typeof labScriptSchema>;
/** One sanhook as a user may write it. */
export type SanhookInput = z.input<typeof sanhookSchema>;
/** What a user may write (defaults optional). */
export type LabScriptInput = z.input<typeof labScriptSchema>;

/** Formats zod issues as `path: message` lines (never includes values). */
export function formatIssues(error: z.ZodError, root = ''): string {
  return error.issues
    .map((issue) => {
      const path = [root, ...issue.path.map(String)].filter(Boolean).join('.');
      return `${path || '(root)'}: ${issue.message}`;
    })
    .join('\n');
}

/**
 * The form the parser returns for a model: a prefix is written as the
 * netmask iPXE is given. parse(render(m)) equals canonicalLabScript(m).
 */
export function canonicalLabScript(model: LabScript): LabScript {
  // A named `dhcp <netdev>` (net0 beside more interfaces, and every further interface) always asks DHCP again.
  const canonical = (network: LabScript['network'], named: boolean): LabScript['network'] => {
    if (network.mode === 'dhcp') return named ? { ...network, keepFirmwareLease: false } : network;
    if (network.prefix === undefined) return network;
    const { prefix, ...rest } = network;
    return { ...rest, netmask: prefixToNetmask(prefix) };
  };
  return {
    ...model,
    network: canonical(model.network, model.interfaces.length > 0),
    interfaces: model.interfaces.map((iface) => ({ ...iface, network: canonical(iface.network, true) })),
  };
}
