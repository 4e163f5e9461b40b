// The serial lines that prove an OS booted from the lab's LUN 0 used the iBFT:
// iPXE boots the SAN disk, the OS prints (with its own tools: findmnt, lsblk,
// iscsiadm; qemu-runner's os-image proof unit) that its root is on the iSCSI
// disk and which session carries it, then powers off. Any image built by an
// os-image recipe prints them; the lab generator writes them for `--os`.
import { PROOF_PREFIX } from '@ibft-lab/qemu-runner';
import { labPortal, labTargetIqn } from './derive-lab';
import type { LabSpec } from './lab-spec';

export interface SerialExpectationInput {
  pattern: string;
  withinSeconds: number;
}

function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Deadlines for two shared cores under TCG (a quiet machine needs about a third of them). */
export function osProofExpectations(lab: Pick<LabSpec, 'name' | 'targetIqn' | 'target' | 'luns'>): SerialExpectationInput[] {
  const { ip, port } = labPortal(lab as LabSpec);
  const target = literal(labTargetIqn(lab as LabSpec));
  const proof = literal(PROOF_PREFIX);
  return [
    { pattern: 'Booting from SAN device 0x80', withinSeconds: 60 },
    { pattern: `${proof} root=/dev/sd[a-z]\\d+ fstype=\\S+ label=\\S* on /dev/sd[a-z] \\(session\\d+, LIO-ORG`, withinSeconds: 420 },
    { pattern: `${proof} session target=${target} portal=${literal(`${ip}:${port}`)} transport=tcp`, withinSeconds: 30 },
    { pattern: `${proof} done`, withinSeconds: 30 },
    // dracut's shutdown unpacks its initramfs again before the power off: 80 s seen under load.
    { pattern: 'reboot: Power down', withinSeconds: 240 },
  ];
}
