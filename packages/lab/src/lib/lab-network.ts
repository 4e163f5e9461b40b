// A lab's network: QEMU's user network (dhcp | static, script-gen's model:
// the default), or private L2 segments between the initiator and the LIO
// appliance (`segments`, `dhcp-root-path`), each checked here as a whole so
// every error names the field to fix before anything starts.
import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { keepingLeaseDhcpNetworkSchema, staticNetworkSchema } from '@ibft-lab/script-gen';

const NAME = /^[a-z0-9](?:[a-z0-9-]{0,14}[a-z0-9])?$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

const ipv4 = z.string().refine((v) => isIPv4(v), { message: 'must be an IPv4 address such as 192.168.42.10' });

export function ipToNumber(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

export interface Subnet {
  network: number;
  prefix: number;
}

export function parseSubnet(cidr: string): Subnet | undefined {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr);
  if (!m || !isIPv4(m[1])) return undefined;
  const prefix = Number(m[2]);
  if (prefix < 8 || prefix > 30) return undefined;
  const mask = (0xffffffff << (32 - prefix)) >>> 0;
  const network = ipToNumber(m[1]);
  if (((network & mask) >>> 0) !== network) return undefined;
  return { network, prefix };
}

export function inSubnet(ip: string, subnet: Subnet): boolean {
  const mask = (0xffffffff << (32 - subnet.prefix)) >>> 0;
  const n = ipToNumber(ip);
  const broadcast = (subnet.network | (~mask >>> 0)) >>> 0;
  return ((n & mask) >>> 0) === subnet.network && n !== subnet.network && n !== broadcast;
}

function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.');
}

const segmentDhcpSchema = z
  .object({
    pool: z
      .object({ start: ipv4.describe('First address of the pool.'), end: ipv4.describe('Last address of the pool.') })
      .strict()
      .describe('Addresses the appliance hands out; every DHCP NIC gets a fixed one from it (by MAC).'),
    router: ipv4.optional().describe('Option 3 (router); none when omitted.'),
    dns: z.array(ipv4).max(2).default([]).describe('Option 6 (DNS servers); none when empty.'),
  })
  .strict()
  .describe("The appliance serves DHCP on this segment (dnsmasq) with these options.");

export const segmentSchema = z
  .object({
    name: z.string().regex(NAME, { message: "may hold only a-z, 0-9 and '-' (1 to 16 characters)" }).describe('Name that NICs and paths refer to.'),
    subnet: z
      .string()
      .refine((v) => parseSubnet(v) !== undefined, { message: 'must be an IPv4 network in CIDR form with a prefix of 8 to 30, e.g. 192.168.42.0/24' })
      .describe('The segment\'s IPv4 network, e.g. 192.168.42.0/24.'),
    appliance: ipv4.optional().describe("The appliance's address on the segment, where LIO's portal listens; default the subnet's first address."),
    dhcp: segmentDhcpSchema.optional(),
  })
  .strict()
  .describe('One private L2 segment: a QEMU socket netdev on host loopback between one initiator NIC and the appliance.');

export const segmentNicSchema = z
  .object({
    segment: z.string().describe('The segment this NIC is on (segments[].name).'),
    mac: z
      .string()
      .regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, { message: 'must be a lowercase MAC address such as 52:54:00:00:42:01' })
      .describe("The NIC's MAC (and the iBFT NIC section's)."),
    vlan: z.number().int().min(1, { message: 'must be a VLAN tag from 1 to 4094' }).max(4094, { message: 'must be a VLAN tag from 1 to 4094' }).optional().describe('802.1Q tag: iPXE `vcreate --tag N`, the appliance tags the segment alike; the iBFT NIC records it.'),
    config: z.enum(['dhcp', 'static']).default('dhcp').describe("dhcp: from the appliance's DHCP on the segment; static: `set netN/ip`."),
    ip: ipv4.optional().describe('static: the address (required). dhcp: the fixed address the appliance gives this MAC; default the pool\'s first.'),
    gateway: ipv4.optional().describe('static only: the gateway (dhcp NICs get the segment\'s router).'),
    dns: z.array(ipv4).max(2).default([]).describe('static only: DNS servers (dhcp NICs get the segment\'s).'),
    hostname: z.string().regex(HOSTNAME, { message: 'must be a DNS host name (letters, digits, "-", ".")' }).optional().describe('static: `set hostname`; dhcp: the host name the appliance gives (option 12).'),
  })
  .strict()
  .describe('One NIC of the initiator on a segment (iPXE net1, net2, … in order; net0 stays on the user network for TFTP).');

export const labPathSchema = z
  .object({
    lun: z.number().int().min(0).max(1).describe('The LUN (index into luns).'),
    segments: z
      .array(z.string())
      .min(1)
      .max(2)
      .describe("The segments whose portal the LUN's sanhook names, in order; two make a multipath sanhook (two URIs)."),
  })
  .strict();

const segmentModeSchema = z
  .object({
    mode: z
      .enum(['segments', 'dhcp-root-path'])
      .describe('segments: the script names each target; dhcp-root-path: each target comes from its NIC\'s DHCP option 17 (`sanhook ${netN/root-path}`).'),
    segments: z.array(segmentSchema).min(1).max(3).describe('Private L2 segments between the initiator and the appliance.'),
    nics: z.array(segmentNicSchema).min(1).max(3).describe('The initiator\'s NICs on the segments, one per segment.'),
    paths: z
      .array(labPathSchema)
      .optional()
      .describe("How each LUN is reached; default every LUN over the first NIC's segment."),
  })
  .strict()
  .superRefine((net, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const byName = new Map<string, number>();
    net.segments.forEach((segment, i) => {
      if (byName.has(segment.name)) issue(['segments', i, 'name'], `${segment.name} is used twice`);
      byName.set(segment.name, i);
      const subnet = parseSubnet(segment.subnet);
      if (!subnet) return;
      const appliance = segment.appliance ?? numberToIp(subnet.network + 1);
      if (segment.appliance && !inSubnet(segment.appliance, subnet)) issue(['segments', i, 'appliance'], `${segment.appliance} is not a host address of ${segment.subnet}`);
      const dhcp = segment.dhcp;
      if (!dhcp) return;
      for (const end of ['start', 'end'] as const) {
        if (isIPv4(dhcp.pool[end]) && !inSubnet(dhcp.pool[end], subnet)) issue(['segments', i, 'dhcp', 'pool', end], `${dhcp.pool[end]} is not in ${segment.subnet}`);
      }
      if (isIPv4(dhcp.pool.start) && isIPv4(dhcp.pool.end) && ipToNumber(dhcp.pool.start) > ipToNumber(dhcp.pool.end)) {
        issue(['segments', i, 'dhcp', 'pool', 'end'], `${dhcp.pool.end} is before the pool's start ${dhcp.pool.start}`);
      }
      if (inPool(appliance, dhcp.pool)) issue(['segments', i, 'dhcp', 'pool'], `holds the appliance's own address ${appliance}; start the pool after it`);
    });
    const nicOn = new Map<string, number>();
    const macs = new Map<string, number>();
    net.nics.forEach((nic, i) => {
      const s = byName.get(nic.segment);
      if (s === undefined) {
        issue(['nics', i, 'segment'], `no segment is named ${JSON.stringify(nic.segment)}; use one of ${[...byName.keys()].join(', ')}`);
        return;
      }
      if (nicOn.has(nic.segment)) issue(['nics', i, 'segment'], `nics[${nicOn.get(nic.segment)}] is on ${nic.segment} already; a segment joins one initiator NIC to the appliance`);
      nicOn.set(nic.segment, i);
      if (macs.has(nic.mac)) issue(['nics', i, 'mac'], `nics[${macs.get(nic.mac)}] has the MAC ${nic.mac} already; give each NIC its own`);
      macs.set(nic.mac, i);
      if (/^52:54:00:a0:00:/.test(nic.mac)) issue(['nics', i, 'mac'], '52:54:00:a0:00:* are the appliance\'s segment NICs; use another MAC');
      const segment = net.segments[s];
      const subnet = parseSubnet(segment.subnet);
      if (nic.config === 'static') {
        if (net.mode === 'dhcp-root-path') issue(['nics', i, 'config'], 'dhcp-root-path takes each target from DHCP: every NIC must be dhcp');
        if (!nic.ip) issue(['nics', i, 'ip'], 'a static NIC needs its address');
        else if (subnet && !inSubnet(nic.ip, subnet)) issue(['nics', i, 'ip'], `${nic.ip} is not in the segment's subnet ${segment.subnet}`);
        else if (segment.dhcp && inPool(nic.ip, segment.dhcp.pool)) issue(['nics', i, 'ip'], `${nic.ip} is in the segment's DHCP pool; use an address outside it`);
        if (nic.ip && subnet && nic.ip === applianceAddress(segment)) issue(['nics', i, 'ip'], `${nic.ip} is the appliance's address`);
        return;
      }
      if (nic.gateway || nic.dns.length) issue(['nics', i, nic.gateway ? 'gateway' : 'dns'], "a dhcp NIC gets it from the segment's dhcp (segments[].dhcp.router, dns)");
      if (!segment.dhcp) {
        issue(['nics', i, 'config'], `segment ${segment.name} serves no DHCP; give it a dhcp block or make the NIC static`);
        return;
      }
      const ip = nic.ip ?? segment.dhcp.pool.start;
      if (!inPool(ip, segment.dhcp.pool)) issue(['nics', i, 'ip'], `${ip} is not in the DHCP pool ${segment.dhcp.pool.start}-${segment.dhcp.pool.end} of segment ${segment.name}; the pool must contain the fixed addresses`);
    });
    net.segments.forEach((segment, i) => {
      if (!nicOn.has(segment.name)) issue(['segments', i, 'name'], `no NIC is on segment ${segment.name}; add one to nics or remove the segment`);
    });
    const lunsSeen = new Set<number>();
    const rootPathNics = new Set<string>();
    (net.paths ?? []).forEach((path, i) => {
      if (lunsSeen.has(path.lun)) issue(['paths', i, 'lun'], `LUN ${path.lun} has a path already; name both portals in one path (multipath)`);
      lunsSeen.add(path.lun);
      path.segments.forEach((name, j) => {
        if (!byName.has(name)) issue(['paths', i, 'segments', j], `no segment is named ${JSON.stringify(name)}`);
        else if (!nicOn.has(name)) issue(['paths', i, 'segments', j], `the target's portal on ${name} is on a segment no NIC is on`);
      });
      if (new Set(path.segments).size !== path.segments.length) issue(['paths', i, 'segments'], 'names one segment twice; a multipath sanhook needs two different portals');
      if (net.mode === 'dhcp-root-path') {
        if (path.segments.length > 1) issue(['paths', i, 'segments'], 'dhcp-root-path gives one URI per NIC: one segment per path');
        if (rootPathNics.has(path.segments[0])) issue(['paths', i, 'segments', 0], `segment ${path.segments[0]} hands out one root-path, used by another path already`);
        rootPathNics.add(path.segments[0]);
      }
    });
  })
  .describe('Private L2 segments between the initiator and the LIO appliance (target kind appliance only).');

function inPool(ip: string, pool: { start: string; end: string }): boolean {
  if (!isIPv4(ip) || !isIPv4(pool.start) || !isIPv4(pool.end)) return false;
  const n = ipToNumber(ip);
  return n >= ipToNumber(pool.start) && n <= ipToNumber(pool.end);
}

export const labNetworkSchema = z
  .discriminatedUnion('mode', [keepingLeaseDhcpNetworkSchema, staticNetworkSchema, segmentModeSchema])
  .describe("How the initiator is networked: dhcp or static on QEMU's user network (the target relayed at 10.0.2.4:3260), or private segments to the appliance (segments, dhcp-root-path).");

export type LabNetwork = z.output<typeof labNetworkSchema>;
export type SegmentNetwork = Extract<LabNetwork, { mode: 'segments' | 'dhcp-root-path' }>;
export type LabSegment = SegmentNetwork['segments'][number];
export type SegmentNic = SegmentNetwork['nics'][number];

export function isSegmentNetwork(net: LabNetwork): net is SegmentNetwork {
  return net.mode === 'segments' || net.mode === 'dhcp-root-path';
}

export function applianceAddress(segment: LabSegment): string {
  if (segment.appliance) return segment.appliance;
  const subnet = parseSubnet(segment.subnet);
  if (!subnet) throw new Error(`segments: ${segment.subnet} is not a subnet`);
  return numberToIp(subnet.network + 1);
}

export function segmentPrefix(segment: LabSegment): number {
  const subnet = parseSubnet(segment.subnet);
  if (!subnet) throw new Error(`segments: ${segment.subnet} is not a subnet`);
  return subnet.prefix;
}
