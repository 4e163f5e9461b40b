// The script a new lab starts with: DHCP, a fixed initiator name, one
// sanhook to a target on the host (10.0.2.2 from a QEMU user-network guest),
// diagnostics, the marker, then back to the BIOS boot order.
import type { LabScriptInput } from './lab-script';

/** Lowercase, and only characters an IQN's unique part may hold. */
export function iqnSafeName(name: string): string {
  const safe = name
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  return safe || 'lab';
}

export function defaultLabScript(labName: string): LabScriptInput {
  const name = iqnSafeName(labName);
  return {
    network: { mode: 'dhcp' },
    initiatorIqn: `iqn.2010-04.org.ipxe:ibft-${name}`,
    sanhooks: [{ targets: [{ server: '10.0.2.2', port: 3260, lun: 1, targetIqn: `iqn.2003-01.org.ibft-lab:${name}` }] }],
    diagnostics: { show: ['initiator-iqn'], route: true },
    marker: '== config done ==',
    next: { action: 'exit' },
  };
}
