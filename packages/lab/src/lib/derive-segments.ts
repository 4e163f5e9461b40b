// What a lab on private segments derives from its one LabSpec: the script's
// NICs and sanhooks, LIO's portals, the appliance's segments (addresses, VLANs,
// DHCP) and the iBFT expectations per NIC and per target.
//
// iPXE facts the expectations follow (src/drivers/block/ibft.c, core/sanboot.c):
// - The iBFT lists only NICs that carry a target (ibft_netdev_is_required), in
//   iPXE's device order: PCI NICs net0, net1, … first, then VLAN devices in the
//   order vcreate made them. net0 (the user network, for TFTP) carries none.
// - A target's nic-assoc is its NIC's index in that list.
// - Every path of a multipath sanhook is described: one target per URI, in order.
// - DNS servers and the host name are read from all of iPXE's settings, not the
//   NIC's: every NIC shows the first ones found (the root's `set hostname`
//   first, then the NICs in device order). The script clears net0's DHCP DNS
//   (QEMU's 10.0.2.3) so that the segments' own DNS is what the table shows.
// - iPXE before 2025 (Debian's stock ROM, 1.0.0+git-20190125) routes by the first
//   matching entry, where a route with a gateway matches every address: the
//   script clears net0's gateway, and of several segment NICs only one should
//   have a gateway (static gateway or DHCP router).
import type { IbftExpectation, NicExpectation, TargetExpectation } from '@ibft-lab/ibft';
import { buildSanUri, type LabScriptInput } from '@ibft-lab/script-gen';
import { applianceAddress, segmentPrefix, type LabSegment, type SegmentNetwork, type SegmentNic } from './lab-network';
import type { LabSpec } from './lab-spec';

export const SEGMENT_ISCSI_PORT = 3260;

export interface LabPath {
  lun: number;
  segments: string[];
}

interface PlacedNic {
  nic: SegmentNic;
  index: number;
  segment: LabSegment;
  /** iPXE's device: net1, net2, … or its VLAN device net1-42. */
  netdev: string;
  /** Where iPXE lists the device (PCI NICs first, VLAN devices after). */
  order: number;
}

export function segmentNetwork(lab: LabSpec): SegmentNetwork {
  const net = lab.network;
  if (net.mode !== 'segments' && net.mode !== 'dhcp-root-path') throw new Error('network: not a segment network');
  return net;
}

export function labPaths(lab: LabSpec): LabPath[] {
  const net = segmentNetwork(lab);
  return net.paths ?? lab.luns.map((_, lun) => ({ lun, segments: [net.nics[0].segment] }));
}

function placedNics(net: SegmentNetwork): PlacedNic[] {
  const placed = net.nics.map((nic, index) => ({
    nic,
    index,
    segment: net.segments.find((s) => s.name === nic.segment) as LabSegment,
    netdev: nic.vlan === undefined ? `net${index + 1}` : `net${index + 1}-${nic.vlan}`,
    order: 0,
  }));
  const inOrder = [...placed.filter((p) => p.nic.vlan === undefined), ...placed.filter((p) => p.nic.vlan !== undefined)];
  inOrder.forEach((p, order) => (p.order = order));
  return placed;
}

function nicOn(placed: PlacedNic[], segment: string): PlacedNic {
  const found = placed.find((p) => p.nic.segment === segment);
  if (!found) throw new Error(`network.paths: no NIC is on segment ${segment}`);
  return found;
}

function dhcpAddress(p: PlacedNic): string {
  return p.nic.ip ?? (p.segment.dhcp as NonNullable<LabSegment['dhcp']>).pool.start;
}

export function segmentRootPath(targetIqn: string, segment: LabSegment, lun: number): string {
  return buildSanUri({ server: applianceAddress(segment), lun, targetIqn });
}

type SanhookChap = NonNullable<NonNullable<LabScriptInput['sanhooks']>[number]['chap']>;

export function segmentScript(lab: LabSpec, targetIqn: string, chap: SanhookChap | undefined): Pick<LabScriptInput, 'network' | 'interfaces' | 'clearSettings' | 'sanhooks'> {
  const net = segmentNetwork(lab);
  const placed = placedNics(net);
  const rootPath = net.mode === 'dhcp-root-path';
  return {
    // net0 stays on QEMU's user network: the stock ROM's script and the probe come over its TFTP.
    network: { mode: 'dhcp' },
    interfaces: placed.map((p) => ({
      netdev: `net${p.index + 1}`,
      ...(p.nic.vlan !== undefined ? { vlan: p.nic.vlan } : {}),
      network:
        p.nic.config === 'dhcp'
          ? { mode: 'dhcp' as const }
          : {
              mode: 'static' as const,
              ip: p.nic.ip as string,
              prefix: segmentPrefix(p.segment),
              ...(p.nic.gateway ? { gateway: p.nic.gateway } : {}),
              dns: p.nic.dns,
              ...(p.nic.hostname ? { hostname: p.nic.hostname } : {}),
            },
    })),
    // net0's gateway would carry the segments' traffic: iPXE before 2025 (the stock ROM) takes the first
    // route with a gateway for any address not on a link listed before it. TFTP to 10.0.2.2 needs none.
    clearSettings: ['net0.dhcp/dns', 'net0.dhcp/gateway'],
    sanhooks: labPaths(lab).map((path, i) => ({
      ...(rootPath
        ? { settingUris: [`${nicOn(placed, path.segments[0]).netdev}/root-path`] }
        : {
            targets: path.segments.map((name) => ({
              server: applianceAddress(nicOn(placed, name).segment),
              lun: path.lun,
              targetIqn,
            })),
          }),
      // Each sanhook needs its own BIOS drive: a second hook on 0x80 fails (iPXE 0x03232019).
      ...(i > 0 ? { drive: 0x80 + i } : {}),
      keepGoing: true,
      ...(chap && i === 0 ? { chap } : {}),
    })),
  };
}

/** LIO listens on the appliance's address of every segment a path uses, in first-use order. */
export function segmentPortals(lab: LabSpec): { ip: string; port: number }[] {
  const net = segmentNetwork(lab);
  const placed = placedNics(net);
  const ips = labPaths(lab).flatMap((path) => path.segments.map((name) => applianceAddress(nicOn(placed, name).segment)));
  return [...new Set(ips)].map((ip) => ({ ip, port: SEGMENT_ISCSI_PORT }));
}

/** target-vm's segments: each with the VLAN of the NIC on it, and its DHCP (fixed addresses and root-paths by MAC). */
export function applianceSegments(lab: LabSpec, targetIqn: string): Record<string, unknown>[] {
  const net = segmentNetwork(lab);
  const placed = placedNics(net);
  const paths = labPaths(lab);
  return net.segments.map((segment) => {
    const p = nicOn(placed, segment.name);
    const rootPathOf = net.mode === 'dhcp-root-path' ? paths.find((path) => path.segments[0] === segment.name) : undefined;
    return {
      name: segment.name,
      ip: applianceAddress(segment),
      prefix: segmentPrefix(segment),
      ...(p.nic.vlan !== undefined ? { vlan: p.nic.vlan } : {}),
      ...(segment.dhcp
        ? {
            dhcp: {
              poolStart: segment.dhcp.pool.start,
              poolEnd: segment.dhcp.pool.end,
              ...(segment.dhcp.router ? { router: segment.dhcp.router } : {}),
              dns: segment.dhcp.dns,
              hosts:
                p.nic.config === 'dhcp'
                  ? [
                      {
                        mac: p.nic.mac,
                        ip: dhcpAddress(p),
                        ...(p.nic.hostname ? { hostname: p.nic.hostname } : {}),
                        ...(rootPathOf ? { rootPath: segmentRootPath(targetIqn, segment, rootPathOf.lun) } : {}),
                      },
                    ]
                  : [],
            },
          }
        : {}),
    };
  });
}

/** boot-vm's NICs after net0: each connects to its segment, which setup-target's initiator.json locates. */
export function initiatorSegmentNics(lab: LabSpec): { segment: string; mac: string }[] {
  return segmentNetwork(lab).nics.map((nic) => ({ segment: nic.segment, mac: nic.mac }));
}

function nicDns(p: PlacedNic): string[] {
  return p.nic.config === 'static' ? p.nic.dns : (p.segment.dhcp?.dns ?? []);
}

export function segmentExpectations(lab: LabSpec, targetIqn: string, target: Omit<TargetExpectation, 'ip' | 'port' | 'lun' | 'nicAssociation'>): Pick<IbftExpectation, 'nics' | 'targets'> {
  const net = segmentNetwork(lab);
  const placed = placedNics(net);
  const byOrder = [...placed].sort((a, b) => a.order - b.order);
  const paths = labPaths(lab);
  const used = new Set(paths.flatMap((path) => path.segments));
  const listed = byOrder.filter((p) => used.has(p.nic.segment));
  // DNS and host name: the first found in iPXE's settings (see the top of this file).
  const dns = byOrder.map(nicDns).find((servers) => servers.length > 0) ?? [];
  const rootHostname = [...placed].reverse().find((p) => p.nic.config === 'static' && p.nic.hostname)?.nic.hostname;
  const hostname = rootHostname ?? byOrder.find((p) => p.nic.config === 'dhcp' && p.nic.hostname)?.nic.hostname;
  const nics: NicExpectation[] = listed.map((p) => {
    const common = {
      mac: p.nic.mac,
      vlan: p.nic.vlan ?? 0,
      prefix: segmentPrefix(p.segment),
      ...(dns[0] ? { dns: dns[0] } : {}),
      ...(dns[1] ? { secondaryDns: dns[1] } : {}),
      ...(hostname ? { hostname } : {}),
    };
    if (p.nic.config === 'static') {
      return { ...common, origin: 'manual', ip: p.nic.ip as string, ...(p.nic.gateway ? { gateway: p.nic.gateway } : {}) };
    }
    const router = p.segment.dhcp?.router;
    return { ...common, origin: 'dhcp', ip: dhcpAddress(p), dhcp: applianceAddress(p.segment), ...(router ? { gateway: router } : {}) };
  });
  const targets: TargetExpectation[] = paths.flatMap((path) =>
    path.segments.map((name) => {
      const p = nicOn(placed, name);
      return {
        ip: applianceAddress(p.segment),
        port: SEGMENT_ISCSI_PORT,
        lun: path.lun,
        name: targetIqn,
        nicAssociation: listed.indexOf(p),
        ...target,
      };
    }),
  );
  return { nics, targets };
}
