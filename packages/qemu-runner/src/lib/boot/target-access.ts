// How the initiator guest reaches its target, as setup-target wrote it
// (dist/labs/<project>/target/initiator.json): the portal, and for the LIO
// appliance the relay from that portal to the appliance's host port.
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import type { GuestForward } from '../vm';

/** One more initiator NIC, on a private segment: a QEMU socket netdev connecting to the appliance's. */
export interface SegmentNic {
  mac: string;
  /** host:port the appliance's NIC listens on. */
  connect: string;
}

const targetAccessSchema = z.object({
  portal: z.object({ ip: z.string(), port: z.number().int() }),
  targetIqn: z.string(),
  relay: z.object({ guestIp: z.string(), guestPort: z.number().int(), hostPort: z.number().int() }).optional(),
  segments: z.array(z.object({ name: z.string(), ip: z.string(), connect: z.string() })).optional(),
});

export type TargetAccess = z.output<typeof targetAccessSchema>;

export function readTargetAccess(path: string): TargetAccess {
  if (!existsSync(path)) {
    throw new Error(`initiatorFile: ${path} does not exist; run the lab's setup-target first (it writes this file)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`initiatorFile: ${path} is not JSON (${(error as Error).message}); run setup-target again`);
  }
  const parsed = targetAccessSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new Error(`initiatorFile: ${path} lacks or mistypes ${fields}; run setup-target again`);
  }
  return parsed.data;
}

export function guestForwardsFor(access: TargetAccess): GuestForward[] {
  return access.relay ? [access.relay] : [];
}

/** The initiator's NICs after net0: each on its segment's socket, as the appliance published it. */
export function segmentNicsFor(access: TargetAccess | undefined, nics: { segment: string; mac: string }[], path: string): SegmentNic[] {
  return nics.map((nic, i) => {
    const segment = access?.segments?.find((s) => s.name === nic.segment);
    if (!segment) {
      throw new Error(`segmentNics[${i}].segment: ${path} publishes no segment ${nic.segment}; restart the lab's target-vm (its appliance was started without the lab's segments)`);
    }
    return { mac: nic.mac, connect: segment.connect };
  });
}

/** Refuses a boot whose script would look for the target somewhere setup-target did not put it. */
export function checkPortalAgrees(access: TargetAccess, expected: { ip?: string; port?: number } | undefined, path: string): void {
  if (!expected) return;
  const ipDiffers = expected.ip !== undefined && expected.ip !== access.portal.ip;
  const portDiffers = expected.port !== undefined && expected.port !== access.portal.port;
  if (ipDiffers || portDiffers) {
    throw new Error(
      `initiatorFile: setup-target published portal ${access.portal.ip}:${access.portal.port} (${path}), ` +
        `but expectations.targets[0] is ${expected.ip ?? access.portal.ip}:${expected.port ?? access.portal.port}; ` +
        'make the lab and its target agree (for the appliance the portal is 10.0.2.4:3260)',
    );
  }
}
