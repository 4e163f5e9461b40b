// What an initiator needs to log in to the lab's target, derived from the
// desired state and (for the appliance) the endpoint. CHAP user names only:
// secrets stay in the desired state, never in this file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { USER_NETWORK, type GuestForward } from '@ibft-lab/qemu-runner';
import type { ApplianceEndpoint } from './appliance/endpoint';
import type { ResolvedDesiredState } from './model';

export interface InitiatorInfo {
  /** The portal as the initiator (a QEMU guest for the appliance) reaches it. */
  portal: { ip: string; port: number };
  targetIqn: string;
  lun: number;
  initiatorIqn?: string;
  chapUserid?: string;
  mutualChapUserid?: string;
  /**
   * For the appliance: the initiator VM must relay portal (a fixed address of
   * its user network) to this host loopback port, where the appliance listens.
   */
  relay?: GuestForward;
  /** For an appliance with private segments: where the initiator's NIC on each segment connects. */
  segments?: { name: string; ip: string; connect: string }[];
}

/** The appliance's portal as initiator guests see it: fixed, whatever port the appliance got. */
export const APPLIANCE_GUEST_PORTAL = { ip: USER_NETWORK.relayIp, port: 3260 } as const;

export function initiatorInfo(
  desired: ResolvedDesiredState,
  endpoint?: ApplianceEndpoint,
  sshHost?: string,
  initiatorPortal?: { ip: string; port: number },
): InitiatorInfo {
  const target = desired.targets[0];
  if (!target) throw new Error('targets: the desired state declares no target; an initiator has nothing to log in to');
  const tpg = target.tpgs[0];
  const acl = tpg.acls[0];
  const declared = tpg.portals[0] ?? { ip: '0.0.0.0', port: 3260 };
  // On private segments the initiator reaches the appliance's own addresses, no relay.
  const segments = endpoint?.segments?.length ? endpoint.segments : undefined;
  // The appliance's fast path: the guest reaches the appliance's published port at 10.0.2.2 itself, no relay.
  const direct = !segments && endpoint && initiatorPortal ? checkDirectPortal(initiatorPortal, endpoint) : undefined;
  const portal = segments
    ? { ip: declared.ip, port: declared.port }
    : direct
      ? direct
      : endpoint
        ? { ...APPLIANCE_GUEST_PORTAL }
        : (initiatorPortal ?? { ip: declared.ip === '0.0.0.0' ? (sshHost ?? '127.0.0.1') : declared.ip, port: declared.port });
  return {
    portal,
    ...(segments ? { segments } : {}),
    ...(endpoint && !segments && !direct ? { relay: { guestIp: APPLIANCE_GUEST_PORTAL.ip, guestPort: APPLIANCE_GUEST_PORTAL.port, hostPort: endpoint.iscsiPort } } : {}),
    targetIqn: target.iqn,
    lun: acl?.mappedLuns[0]?.index ?? tpg.luns[0]?.index ?? 0,
    initiatorIqn: acl?.initiatorIqn,
    chapUserid: acl?.chap?.userid,
    mutualChapUserid: acl?.mutualChap?.userid,
  };
}

/** An initiator portal for the appliance must be the one it published (target-vm's iscsiHostPort). */
function checkDirectPortal(portal: { ip: string; port: number }, endpoint: ApplianceEndpoint): { ip: string; port: number } {
  if (portal.ip !== endpoint.guestPortal.ip || portal.port !== endpoint.guestPortal.port) {
    throw new Error(
      `initiatorPortal: ${portal.ip}:${portal.port} is not where the appliance listens (${endpoint.guestPortal.ip}:${endpoint.guestPortal.port}); ` +
        "start target-vm with iscsiHostPort set to the portal's port (the lab plugin does this for labs with an image LUN)",
    );
  }
  return { ...portal };
}

export function initiatorInfoPath(workspaceRoot: string, project: string): string {
  return join(workspaceRoot, 'dist', 'labs', project, 'target', 'initiator.json');
}

export function writeInitiatorInfo(path: string, info: InitiatorInfo): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(info, null, 2)}\n`);
}
