// The raw floor's LUN: the OS image served by an appliance started directly
// (no Nx, no lab), copy-on-write as a block backstore, and a plain iPXE
// script that sanboots it. The lab does the same through its own targets.
import { applianceDiskDevice, applyDesiredState, type DesiredStateInput, type RunningAppliance, type Transport } from '@ibft-lab/lio-target';

export const OS_LAB = 'oslun';
export const OS_TARGET_IQN = 'iqn.2024-01.org.ibft-lab:oslun';
export const OS_INITIATOR_IQN = 'iqn.2010-04.org.ipxe:oslun-initiator';
export const OS_CHAP = { userid: 'oslun-user', password: 'oslun-secret-01' };
export const OS_MAC = '52:54:00:12:34:60';

/** LUN 0 on the appliance's first disk (/dev/vda), one ACL with one-way CHAP. */
export function osLunDesiredState(): DesiredStateInput {
  return {
    lab: OS_LAB,
    backstores: [{ kind: 'block', name: 'os', device: applianceDiskDevice(0) }],
    targets: [
      {
        iqn: OS_TARGET_IQN,
        tpgs: [
          {
            attributes: { authentication: true },
            luns: [{ index: 0, backstore: 'os' }],
            acls: [{ initiatorIqn: OS_INITIATOR_IQN, mappedLuns: [{ index: 0, tpgLun: 0 }], chap: OS_CHAP }],
          },
        ],
      },
    ],
  };
}

export async function exportOsLun(appliance: RunningAppliance): Promise<{ transport: Transport; seconds: number }> {
  const transport = await appliance.connect();
  const report = await applyDesiredState(transport, osLunDesiredState());
  return { transport, seconds: report.seconds };
}

/** The iPXE script: DHCP only when the ROM's own DHCP did not happen, CHAP, sanboot; a failed sanboot reboots (-no-reboot ends QEMU). */
export function sanbootScript(portal: { ip: string; port: number }, chap: { userid: string; password: string }): string {
  return [
    '#!ipxe',
    'isset ${net0/ip} || dhcp',
    `set initiator-iqn ${OS_INITIATOR_IQN}`,
    `set username ${chap.userid}`,
    `set password ${chap.password}`,
    'echo ibft-lab: sanboot',
    `sanboot iscsi:${portal.ip}::${portal.port}:0:${OS_TARGET_IQN} || reboot`,
    '',
  ].join('\n');
}
