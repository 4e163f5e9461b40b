// What to build: a NIC model as QEMU names it, a platform and an output
// format map to one iPXE make target. The PCI ids below are the ones QEMU's
// devices present, checked against iPXE's driver tables (PCI_ROM lines).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const NICS = ['rtl8139', 'virtio-net', 'e1000', 'e1000e', 'eepro100', 'ne2k_pci', 'pcnet', 'vmxnet3'] as const;
export type Nic = (typeof NICS)[number];
export const PLATFORMS = ['bios', 'uefi'] as const;
export type Platform = (typeof PLATFORMS)[number];
export const FORMATS = ['rom', 'lkrn', 'efi', 'iso'] as const;
export type Format = (typeof FORMATS)[number];

interface NicFacts {
  /** iPXE ROM name: a driver name or the PCI vendor+device id (bin/<name>.rom). */
  romName: string;
  /** `-device` name in QEMU. */
  qemuDevice: string;
  /** Suffix of the ipxe-qemu package's stock ROMs (pxe-<x>.rom, efi-<x>.rom). */
  stockName: string;
}

const NIC_FACTS: Record<Nic, NicFacts> = {
  rtl8139: { romName: 'rtl8139', qemuDevice: 'rtl8139', stockName: 'rtl8139' },
  'virtio-net': { romName: '1af41000', qemuDevice: 'virtio-net-pci', stockName: 'virtio' },
  e1000: { romName: '8086100e', qemuDevice: 'e1000', stockName: 'e1000' }, // 82540EM
  e1000e: { romName: '808610d3', qemuDevice: 'e1000e', stockName: 'e1000e' }, // 82574L
  eepro100: { romName: '80861209', qemuDevice: 'i82559er', stockName: 'eepro100' },
  ne2k_pci: { romName: '10ec8029', qemuDevice: 'ne2k_pci', stockName: 'ne2k_pci' },
  pcnet: { romName: '10222000', qemuDevice: 'pcnet', stockName: 'pcnet' },
  vmxnet3: { romName: '15ad07b0', qemuDevice: 'vmxnet3', stockName: 'vmxnet3' },
};

export interface TargetSpec {
  nic?: string;
  platform?: Platform;
  format?: Format;
  /** A raw make target (e.g. bin-x86_64-efi/snponly.efi); wins over nic/platform/format. */
  makeTarget?: string;
}

function nicFacts(nic: string | undefined, field = 'nic'): NicFacts {
  if (nic === undefined) throw new Error(`${field} is required to pick a make target: one of ${NICS.join(', ')}`);
  const facts = NIC_FACTS[nic as Nic];
  if (!facts) {
    throw new Error(
      `${field} "${nic}" is not a NIC ipxe-builder knows (${NICS.join(', ')}); set makeTarget to build any other iPXE target`,
    );
  }
  return facts;
}

const MAKE_TARGET = /^bin(-[a-z0-9_]+)*\/[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;

export function validateMakeTarget(target: string): string {
  if (!MAKE_TARGET.test(target) || target.includes('..')) {
    throw new Error(
      `makeTarget "${target}" is not an iPXE output path: expected bin[-<arch>-<platform>]/<name>.<ext>, e.g. bin/rtl8139.rom or bin-x86_64-efi/snponly.efi`,
    );
  }
  return target;
}

/** The make target (path relative to iPXE's src/) for a NIC/platform/format, or the raw makeTarget. */
export function makeTargetFor(spec: TargetSpec): string {
  if (spec.makeTarget !== undefined) return validateMakeTarget(spec.makeTarget);
  const platform = spec.platform ?? 'bios';
  const format = spec.format ?? (platform === 'uefi' ? 'efi' : 'rom');
  if (platform === 'bios') {
    switch (format) {
      case 'rom':
        return `bin/${nicFacts(spec.nic).romName}.rom`;
      case 'lkrn':
        return 'bin/ipxe.lkrn';
      case 'iso':
        return 'bin/ipxe.iso';
      case 'efi':
        throw new Error('format "efi" needs platform "uefi" (platform is "bios")');
    }
  }
  if (platform === 'uefi') {
    switch (format) {
      case 'efi':
        return 'bin-x86_64-efi/ipxe.efi';
      case 'rom':
        // A UEFI option ROM for the NIC (what QEMU loads with romfile= under OVMF).
        return `bin-x86_64-efi/${nicFacts(spec.nic).romName}.efirom`;
      default:
        throw new Error(
          `format "${format}" is not built for platform "uefi": use format "efi" or "rom", or set makeTarget (e.g. bin-x86_64-efi/snponly.efi)`,
        );
    }
  }
  throw new Error(`platform "${String(platform)}" is not one of ${PLATFORMS.join(', ')}`);
}

/** QEMU's `-device` name for a NIC. */
export function qemuDeviceFor(nic: string): string {
  return nicFacts(nic).qemuDevice;
}

export const STOCK_ROM_DIR = '/usr/lib/ipxe/qemu';

/**
 * The distro's stock iPXE ROM for a NIC (Debian's ipxe-qemu): pxe-<nic>.rom
 * for BIOS, efi-<nic>.rom (BIOS+UEFI) for UEFI.
 */
export function stockRomFor(nic: string, platform: Platform = 'bios', dir: string = STOCK_ROM_DIR): string {
  const facts = nicFacts(nic);
  const file = join(dir, `${platform === 'uefi' ? 'efi' : 'pxe'}-${facts.stockName}.rom`);
  if (!existsSync(file)) {
    const present = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.rom')) : [];
    throw new Error(
      `no stock ${platform} ROM for nic "${nic}": ${file} is missing` +
        (present.length ? ` (${dir} has ${present.join(', ')})` : ` (install Debian's ipxe-qemu: tools/setup)`),
    );
  }
  return file;
}
