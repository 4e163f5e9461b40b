// The appliance's side of private L2 segments: one virtio NIC per segment
// (eth1, eth2, … in order; eth0 stays on QEMU's user network for SSH), an
// address on each (on a VLAN interface when the segment is tagged), and
// dnsmasq serving DHCP with the options the lab declares. The appliance never
// forwards between its NICs (the kernel's ip_forward stays 0), so nothing on a
// segment reaches the user network or the host.
import { isIPv4 } from 'node:net';

export interface ApplianceDhcpHost {
  mac: string;
  ip: string;
  hostname?: string;
  /** DHCP option 17, e.g. iscsi:192.168.42.1::::iqn.2024-01.org.ibft-lab:lab. */
  rootPath?: string;
}

export interface ApplianceDhcp {
  poolStart: string;
  poolEnd: string;
  router?: string;
  dns?: string[];
  /** Fixed addresses by MAC (so a lab can predict what its initiator gets). */
  hosts?: ApplianceDhcpHost[];
}

export interface ApplianceSegment {
  /** A short name (a-z, 0-9, '-'), used in logs and the endpoint. */
  name: string;
  /** The appliance's address on this segment (where LIO's portal listens). */
  ip: string;
  prefix: number;
  /** 802.1Q tag the segment's frames carry (1-4094). */
  vlan?: number;
  dhcp?: ApplianceDhcp;
}

const NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
// A SAN URI as iPXE reads it from option 17; no space, comma (dnsmasq's separator) or shell character.
const ROOT_PATH = /^iscsi:[A-Za-z0-9.:\-[\]]*:[0-9]*:[0-9]*:[0-9a-f-]*:[A-Za-z0-9.:\-]+$/;

/** Every value here ends up in a shell script or dnsmasq's configuration: check each, naming it. */
export function checkApplianceSegments(segments: ApplianceSegment[]): void {
  const problems: string[] = [];
  const names = new Set<string>();
  segments.forEach((segment, i) => {
    const at = `segments[${i}]`;
    if (!NAME.test(segment.name)) problems.push(`${at}.name: ${JSON.stringify(segment.name)} is not a segment name; use a-z, 0-9 and '-'`);
    if (names.has(segment.name)) problems.push(`${at}.name: ${segment.name} is used twice; give each segment its own name`);
    names.add(segment.name);
    if (!isIPv4(segment.ip)) problems.push(`${at}.ip: ${JSON.stringify(segment.ip)} is not an IPv4 address`);
    if (!Number.isInteger(segment.prefix) || segment.prefix < 1 || segment.prefix > 30) problems.push(`${at}.prefix: use 1 to 30`);
    if (segment.vlan !== undefined && (!Number.isInteger(segment.vlan) || segment.vlan < 1 || segment.vlan > 4094)) {
      problems.push(`${at}.vlan: ${segment.vlan} is not a VLAN tag; use 1 to 4094`);
    }
    const dhcp = segment.dhcp;
    if (!dhcp) return;
    for (const [field, value] of [
      ['poolStart', dhcp.poolStart],
      ['poolEnd', dhcp.poolEnd],
      ['router', dhcp.router],
      ...(dhcp.dns ?? []).map((d, j) => [`dns[${j}]`, d]),
    ] as const) {
      if (value !== undefined && !isIPv4(value)) problems.push(`${at}.dhcp.${field}: ${JSON.stringify(value)} is not an IPv4 address`);
    }
    (dhcp.hosts ?? []).forEach((host, j) => {
      const hostAt = `${at}.dhcp.hosts[${j}]`;
      if (!MAC.test(host.mac)) problems.push(`${hostAt}.mac: ${JSON.stringify(host.mac)} is not a lowercase MAC address`);
      if (!isIPv4(host.ip)) problems.push(`${hostAt}.ip: ${JSON.stringify(host.ip)} is not an IPv4 address`);
      if (host.hostname !== undefined && !HOSTNAME.test(host.hostname)) problems.push(`${hostAt}.hostname: not a DNS host name`);
      if (host.rootPath !== undefined && !ROOT_PATH.test(host.rootPath)) problems.push(`${hostAt}.rootPath: must be an iscsi: SAN URI without spaces or commas`);
    });
  });
  if (problems.length) throw new Error(problems.join('\n'));
}

/**
 * The appliance's MAC on its n-th segment. Fixed and outside QEMU's default
 * sequence (52:54:00:12:34:56, :57, …), so no initiator NIC shares it.
 */
export function applianceSegmentMac(index: number): string {
  return `52:54:00:a0:00:${index.toString(16).padStart(2, '0')}`;
}

/** The interface the segment's address lives on: eth<n>, or its VLAN interface eth<n>.<tag>. */
export function segmentInterface(index: number, segment: ApplianceSegment): string {
  const nic = `eth${index + 1}`;
  return segment.vlan === undefined ? nic : `${nic}.${segment.vlan}`;
}

function netmask(prefix: number): string {
  const bits = (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 0xff).join('.');
}

/** dnsmasq's configuration: DHCP only (port=0: no DNS), on the segments' interfaces only. */
export function dnsmasqConfig(segments: ApplianceSegment[]): string | undefined {
  const served = segments.map((segment, index) => ({ segment, index })).filter(({ segment }) => segment.dhcp);
  if (!served.length) return undefined;
  const lines = ['port=0', 'no-resolv', 'no-hosts', 'bind-interfaces', 'log-dhcp', 'dhcp-authoritative', 'dhcp-leasefile=/run/dnsmasq.leases'];
  for (const { segment, index } of served) {
    const dhcp = segment.dhcp as ApplianceDhcp;
    const tag = `seg${index}`;
    lines.push(`interface=${segmentInterface(index, segment)}`);
    lines.push(`dhcp-range=set:${tag},${dhcp.poolStart},${dhcp.poolEnd},${netmask(segment.prefix)},1h`);
    // Without these dnsmasq offers itself as router and DNS server: the lab gets exactly what it declared.
    lines.push(`dhcp-option=tag:${tag},option:router${dhcp.router ? `,${dhcp.router}` : ''}`);
    lines.push(`dhcp-option=tag:${tag},option:dns-server${dhcp.dns?.length ? `,${dhcp.dns.join(',')}` : ''}`);
    for (const [j, host] of (dhcp.hosts ?? []).entries()) {
      const hostTag = `${tag}h${j}`;
      lines.push(`dhcp-host=${host.mac},set:${hostTag},${host.ip}${host.hostname ? `,${host.hostname}` : ''}`);
      if (host.rootPath) lines.push(`dhcp-option=tag:${hostTag},option:root-path,${host.rootPath}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export const DNSMASQ_CONFIG_PATH = '/etc/ibft-lab-dnsmasq.conf';

/** The shell script (busybox sh, as root) that brings the segments up, then starts dnsmasq. */
export function segmentSetupScript(segments: ApplianceSegment[]): string {
  const lines = ['set -e', 'echo 0 > /proc/sys/net/ipv4/ip_forward'];
  segments.forEach((segment, index) => {
    const nic = `eth${index + 1}`;
    const iface = segmentInterface(index, segment);
    lines.push(`ip link set ${nic} up`);
    if (segment.vlan !== undefined) lines.push(`ip link add link ${nic} name ${iface} type vlan id ${segment.vlan}`, `ip link set ${iface} up`);
    lines.push(`ip addr add ${segment.ip}/${segment.prefix} dev ${iface}`);
  });
  if (dnsmasqConfig(segments)) {
    lines.push(`dnsmasq --conf-file=${DNSMASQ_CONFIG_PATH} --user=root --group=root --pid-file=/run/dnsmasq.pid --log-facility=/run/dnsmasq.log`);
  }
  return `${lines.join('\n')}\n`;
}
