// Everything a lab needs, derived from its one LabSpec: the iPXE script
// model, the LIO desired state and the iBFT expectations. Each name (initiator
// IQN, target IQN, LUN, CHAP user) is read from the spec in one place here.
import type { IbftExpectation, NicExpectation, TargetExpectation } from '@ibft-lab/ibft';
import { prefixToNetmask, type LabScriptInput, type SecretRef } from '@ibft-lab/script-gen';
import { createHash } from 'node:crypto';
import { isAbsolute, posix } from 'node:path';
import { applianceDiskDevice } from '@ibft-lab/lio-target';
import { HANDOFF_URL, USER_NETWORK } from '@ibft-lab/qemu-runner';
import type { LabSpec } from './lab-spec';
import { isSegmentNetwork } from './lab-network';
import { segmentExpectations, segmentPortals, segmentScript } from './derive-segments';

/**
 * A secret as the options carry it: the secret itself, or its reference
 * ({"env"} / {"file"}), which every executor resolves before it parses its
 * options (resolveSecretRefs). Typed as the string it becomes at run time.
 */
function secretOption(secret: string | SecretRef): string {
  return secret as string;
}

export const ISCSI_PORT = 3260;
const APPLIANCE_BACKING_DIR = '/var/tmp';
/** A LUN without an image: a sparse fileio file of this size. */
export const DEFAULT_LUN_MIB = 64;

/**
 * Where labs with an image LUN publish the appliance's portal by default: below
 * Linux's ephemeral range (32768-60999), so a port the kernel hands out to some
 * connection rarely sits there, and a fixed function of the lab name, so the
 * script and Nx's cache do not depend on the run.
 */
export const DERIVED_HOST_PORTS = { first: 20000, count: 10000 } as const;

/** Does any LUN hold an image (then the appliance is reached directly, not through the relay)? */
export function labHasImage(lab: LabSpec): boolean {
  return lab.luns.some((lun) => lun.image !== undefined);
}

/** The host port of the appliance's portal for a lab with an image LUN: declared, or derived from its name. */
export function labHostPort(lab: LabSpec): number {
  if (lab.target.kind === 'appliance' && lab.target.hostPort !== undefined) return lab.target.hostPort;
  const hash = createHash('sha256').update(lab.name).digest().readUInt32BE(0);
  return DERIVED_HOST_PORTS.first + (hash % DERIVED_HOST_PORTS.count);
}

export interface Portal {
  ip: string;
  port: number;
}

/** The target IQN: declared, or derived from the lab name (stable across runs). */
export function labTargetIqn(lab: LabSpec): string {
  return lab.targetIqn ?? `iqn.2024-01.org.ibft-lab:${lab.name}`;
}

/** The portal as the initiator guest reaches it (and as its iBFT records it). */
export function labPortal(lab: LabSpec): Portal {
  // The appliance listens on a host port chosen at run time; the guest reaches
  // it through a fixed relayed address, so the script and iBFT never change.
  // Whole-disk reads (an image LUN) take the fast path instead: QEMU's host address and the appliance's
  // published port, about 25 times the relay's throughput; the port is fixed per lab (labHostPort).
  if (isSegmentNetwork(lab.network)) return segmentPortals(lab)[0];
  if (lab.target.kind === 'appliance') return labHasImage(lab) ? { ip: USER_NETWORK.hostIp, port: labHostPort(lab) } : { ip: USER_NETWORK.relayIp, port: ISCSI_PORT };
  return { ip: lab.target.portal.ip, port: lab.target.portal.port };
}

export function labScript(lab: LabSpec): LabScriptInput {
  const portal = labPortal(lab);
  const targetIqn = labTargetIqn(lab);
  const chap = lab.chap && {
    username: lab.chap.username,
    password: secretOption(lab.chap.password),
    ...(lab.chap.mutual ? { mutual: { username: lab.chap.mutual.username, password: secretOption(lab.chap.mutual.password) } } : {}),
  };
  const common = {
    initiatorIqn: lab.initiator.iqn,
    diagnostics: { show: ['initiator-iqn'], route: true },
    // boot-vm serves the probe boot (or exit) there; run outside boot-vm the chain fails and the script ends.
    next: { action: 'chain' as const, url: HANDOFF_URL, keepGoing: true },
  };
  if (isSegmentNetwork(lab.network)) return { ...common, ...segmentScript(lab, targetIqn, chap) };
  const network = lab.network;
  return {
    network,
    initiatorIqn: lab.initiator.iqn,
    sanhooks: lab.luns.map((_, lun) => ({
      targets: [{ server: portal.ip, ...(portal.port === ISCSI_PORT ? {} : { port: portal.port }), lun, targetIqn }],
      // Each sanhook needs its own BIOS drive: a second hook on 0x80 fails (iPXE 0x03232019).
      ...(lun > 0 ? { drive: 0x80 + lun } : {}),
      keepGoing: true,
      // iPXE's CHAP settings are global: set once, before the first sanhook.
      ...(chap && lun === 0 ? { chap } : {}),
    })),
    diagnostics: { show: ['initiator-iqn'], route: true },
    // boot-vm serves the probe boot (or exit) there; run outside boot-vm the chain fails and the script ends.
    next: { action: 'chain', url: HANDOFF_URL, keepGoing: true },
  };
}

export interface LabDisk {
  lun: number;
  image: NonNullable<LabSpec['luns'][number]['image']>;
  /** The lab field that declares it, for error messages. */
  field: string;
}

/** The image LUNs, in the order the appliance attaches them (/dev/vda, /dev/vdb, …). */
export function labDisks(lab: LabSpec): LabDisk[] {
  return lab.luns.flatMap((lun, index) => (lun.image === undefined ? [] : [{ lun: index, image: lun.image, field: `luns[${index}].image` }]));
}

function backingDir(lab: LabSpec): string {
  return lab.target.kind === 'appliance' ? APPLIANCE_BACKING_DIR : lab.target.backingDir;
}

/**
 * The LIO desired state (lio-target's model, as plain JSON it validates itself). An image LUN is the
 * appliance's disk (a block backstore), or on an SSH or local target a fileio copy of the file, uploaded
 * by setup-target (its path made workspace-relative with `labRoot`; its sha256 taken when the task runs).
 */
export function labDesiredState(lab: LabSpec, labRoot = `labs/${lab.name}`): Record<string, unknown> {
  const disks = labDisks(lab);
  const luns = lab.luns.map((lun, index) => {
    const disk = disks.findIndex((d) => d.lun === index);
    const path = `${backingDir(lab)}/ibft-lab-${lab.name}-lun${index}.img`;
    const image = disks[disk]?.image;
    return {
      backstore:
        disk < 0
          ? { kind: 'fileio', name: `lun${index}`, path, sizeMiB: lun.sizeMiB ?? DEFAULT_LUN_MIB, sparse: true }
          : lab.target.kind === 'appliance' || typeof image !== 'string'
            ? { kind: 'block', name: `lun${index}`, device: applianceDiskDevice(disk) }
            : { kind: 'fileio', name: `lun${index}`, path, sparse: true, image: { path: isAbsolute(image) ? image : posix.join(labRoot, image) } },
      index,
    };
  });
  const target = lab.target;
  const listenPort = target.kind === 'appliance' ? ISCSI_PORT : target.kind === 'ssh' ? (target.listenPort ?? target.portal.port) : target.portal.port;
  return {
    lab: lab.name,
    backstores: luns.map((l) => l.backstore),
    targets: [
      {
        iqn: labTargetIqn(lab),
        tpgs: [
          {
            tag: 1,
            attributes: { authentication: Boolean(lab.chap), generate_node_acls: false, demo_mode_write_protect: false, cache_dynamic_acls: false },
            portals: isSegmentNetwork(lab.network) ? segmentPortals(lab) : [{ ip: '0.0.0.0', port: listenPort }],
            luns: luns.map((l) => ({ index: l.index, backstore: l.backstore.name })),
            acls: [
              {
                initiatorIqn: lab.initiator.iqn,
                mappedLuns: luns.map((l) => ({ index: l.index, tpgLun: l.index, writeProtect: false })),
                ...(lab.chap ? { chap: { userid: lab.chap.username, password: secretOption(lab.chap.password) } } : {}),
                ...(lab.chap?.mutual ? { mutualChap: { userid: lab.chap.mutual.username, password: secretOption(lab.chap.mutual.password) } } : {}),
              },
            ],
          },
        ],
      },
    ],
  };
}

function nicExpectation(lab: LabSpec): NicExpectation {
  const net = lab.network;
  if (isSegmentNetwork(net)) throw new Error('network: segment networks have their own NIC expectations (derive-segments.ts)');
  if (net.mode === 'dhcp') {
    // QEMU's user network hands out fixed addresses (its DHCP server is the host).
    return {
      mac: lab.initiator.mac,
      origin: 'dhcp',
      ip: USER_NETWORK.guestIp,
      prefix: USER_NETWORK.prefix,
      gateway: USER_NETWORK.hostIp,
      dns: USER_NETWORK.dnsIp,
      dhcp: USER_NETWORK.hostIp,
    };
  }
  const prefix = net.prefix ?? netmaskPrefix(net.netmask ?? prefixToNetmask(24));
  return {
    mac: lab.initiator.mac,
    origin: 'manual',
    ip: net.ip,
    prefix,
    ...(net.gateway ? { gateway: net.gateway } : {}),
    ...(net.dns[0] ? { dns: net.dns[0] } : {}),
    ...(net.dns[1] ? { secondaryDns: net.dns[1] } : {}),
    ...(net.hostname ? { hostname: net.hostname } : {}),
  };
}

function netmaskPrefix(mask: string): number {
  return mask.split('.').reduce((bits, octet) => bits + Number(octet).toString(2).replace(/0/g, '').length, 0);
}

/** What the iBFT must say: every field the lab declared, nothing it did not. */
export function labExpectations(lab: LabSpec): IbftExpectation {
  const portal = labPortal(lab);
  const chapType: TargetExpectation['chapType'] = lab.chap?.mutual ? 'mutual' : lab.chap ? 'chap' : 'none';
  if (isSegmentNetwork(lab.network)) {
    const target = {
      chapType,
      ...(lab.chap ? { chapName: lab.chap.username, chapSecret: secretOption(lab.chap.password) } : {}),
      ...(lab.chap?.mutual ? { reverseChapName: lab.chap.mutual.username, reverseChapSecret: secretOption(lab.chap.mutual.password) } : {}),
    };
    return { initiator: { name: lab.initiator.iqn }, ...segmentExpectations(lab, labTargetIqn(lab), target) };
  }
  return {
    initiator: { name: lab.initiator.iqn },
    nics: [nicExpectation(lab)],
    targets: lab.luns.map((_, lun) => ({
      ip: portal.ip,
      port: portal.port,
      lun,
      name: labTargetIqn(lab),
      nicAssociation: 0,
      chapType,
      ...(lab.chap ? { chapName: lab.chap.username, chapSecret: secretOption(lab.chap.password) } : {}),
      ...(lab.chap?.mutual ? { reverseChapName: lab.chap.mutual.username, reverseChapSecret: secretOption(lab.chap.mutual.password) } : {}),
    })),
  };
}
