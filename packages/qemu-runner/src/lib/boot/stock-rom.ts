// Debian's `ipxe-qemu` ROMs, by QEMU NIC model: pxe-*.rom are BIOS-only,
// efi-*.rom carry both a BIOS and a UEFI driver.
import { existsSync } from 'node:fs';
import type { Firmware } from '../vm';

export const STOCK_ROM_DIR = '/usr/lib/ipxe/qemu';

const ROM_NAME_BY_MODEL: Record<string, string> = {
  rtl8139: 'rtl8139',
  'virtio-net-pci': 'virtio',
  e1000: 'e1000',
  e1000e: 'e1000e',
  pcnet: 'pcnet',
  'ne2k_pci': 'ne2k_pci',
  vmxnet3: 'vmxnet3',
  i82557b: 'eepro100',
};

export function stockRomPath(nic: string, firmware: Firmware): string {
  const name = ROM_NAME_BY_MODEL[nic];
  if (!name) {
    throw new Error(
      `nic: no stock iPXE ROM for ${JSON.stringify(nic)}; use one of ${Object.keys(ROM_NAME_BY_MODEL).join(', ')} or give rom`,
    );
  }
  const path = `${STOCK_ROM_DIR}/${firmware === 'uefi' ? 'efi' : 'pxe'}-${name}.rom`;
  if (!existsSync(path)) throw new Error(`rom: stock ROM ${path} is missing; install Debian package ipxe-qemu (tools/setup)`);
  return path;
}
