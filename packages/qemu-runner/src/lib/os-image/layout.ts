// The disk an OS image becomes, without loop devices: one sparse raw file with
// a DOS partition table, p1 a FAT EFI system partition (UEFI GRUB), p2 the
// ext4 root (bootable), BIOS GRUB's boot.img in the MBR and its core.img in
// the gap before p1. GRUB's whole configuration is embedded in both GRUB
// images, so the disk holds no grub.cfg and nothing GRUB must find first.
// Pure functions only: the build (build.ts) runs the tools.

export const SECTOR_BYTES = 512;
/** First partition starts at 1 MiB; sectors 1..2047 hold BIOS GRUB's core.img. */
export const ESP_START_SECTOR = 2048;
export const ESP_MIB = 32;
/** The smallest whole image (facts.md: 768 MiB holds the 355 MB root with room). */
export const MIN_IMAGE_MIB = 768;
const MIB = 1024 * 1024;

export interface DiskLayout {
  imageBytes: number;
  esp: { startSector: number; sectors: number; offsetBytes: number };
  root: { startSector: number; sectors: number; offsetBytes: number; sizeKiB: number };
  /** Bytes free for core.img between the MBR and p1. */
  coreImageMaxBytes: number;
}

/** Sizes the image for a root tree of `rootBytes` (its apparent size): half as much again free, at least MIN_IMAGE_MIB. */
export function diskLayout(rootBytes: number): DiskLayout {
  if (!Number.isFinite(rootBytes) || rootBytes < 0) throw new Error(`root size ${rootBytes} is not a byte count`);
  const espSectors = (ESP_MIB * MIB) / SECTOR_BYTES;
  const rootStart = ESP_START_SECTOR + espSectors;
  const wantedRootMiB = Math.ceil((rootBytes * 1.5) / MIB) + 64;
  const imageMiB = Math.max(MIN_IMAGE_MIB, Math.ceil((rootStart * SECTOR_BYTES) / MIB) + wantedRootMiB);
  const imageBytes = imageMiB * MIB;
  const rootSectors = imageBytes / SECTOR_BYTES - rootStart;
  return {
    imageBytes,
    esp: { startSector: ESP_START_SECTOR, sectors: espSectors, offsetBytes: ESP_START_SECTOR * SECTOR_BYTES },
    root: { startSector: rootStart, sectors: rootSectors, offsetBytes: rootStart * SECTOR_BYTES, sizeKiB: (rootSectors * SECTOR_BYTES) / 1024 },
    coreImageMaxBytes: (ESP_START_SECTOR - 1) * SECTOR_BYTES,
  };
}

/** sfdisk's input: DOS label, p1 EFI system (type ef), p2 Linux (83) and bootable. */
export function sfdiskScript(layout: DiskLayout, diskId: string): string {
  return [
    'label: dos',
    `label-id: ${diskId}`,
    'unit: sectors',
    '',
    `start=${layout.esp.startSector}, size=${layout.esp.sectors}, type=ef`,
    `start=${layout.root.startSector}, size=${layout.root.sectors}, type=83, bootable`,
    '',
  ].join('\n');
}

/** GRUB modules built into core.img (BIOS) and BOOTX64.EFI (UEFI); grub-mkimage adds their dependencies. */
export const GRUB_MODULES = {
  'i386-pc': ['biosdisk', 'part_msdos', 'ext2', 'linux', 'search', 'search_label', 'serial', 'terminal', 'echo'],
  // efi_gop: without a video mode GRUB's EFI linux loader prints "error: no suitable video mode found" (and boots blind).
  'x86_64-efi': ['part_msdos', 'ext2', 'fat', 'linux', 'search', 'search_label', 'serial', 'terminal', 'echo', 'efi_gop'],
} as const;

export type GrubPlatform = keyof typeof GRUB_MODULES;

/** GRUB prints these itself, so a boot's log shows when it read the kernel and the initrd. */
export const GRUB_MARKERS = {
  loadingKernel: 'ibft-lab-grub: loading kernel',
  loadingInitrd: 'ibft-lab-grub: loading initrd',
  booting: 'ibft-lab-grub: booting',
} as const;

/**
 * The configuration embedded in both GRUB images. It runs in GRUB's rescue
 * parser (no normal.mod): plain commands, no conditionals. The serial
 * terminal only: with the console terminal too, every line comes twice
 * (OVMF copies its console to the serial port).
 */
export function grubConfig(options: { rootLabel: string; kernel: string; initrd: string; cmdline: string }): string {
  for (const [name, value] of Object.entries(options)) {
    if (!/^[A-Za-z0-9_./=,:+-]+( [A-Za-z0-9_./=,:+-]+)*$/.test(value)) {
      throw new Error(`GRUB ${name} ${JSON.stringify(value)} holds characters the embedded configuration cannot carry`);
    }
  }
  return [
    'serial --unit=0 --speed=115200',
    'terminal_input serial',
    'terminal_output serial',
    `search --no-floppy --label ${options.rootLabel} --set=root`,
    `echo ${GRUB_MARKERS.loadingKernel} ${options.kernel}`,
    `linux ${options.kernel} ${options.cmdline}`,
    `echo ${GRUB_MARKERS.loadingInitrd} ${options.initrd}`,
    `initrd ${options.initrd}`,
    `echo ${GRUB_MARKERS.booting}`,
    'boot',
    '',
  ].join('\n');
}

/** A stable 32-bit id (hex) and UUID from a cache key, so the same key gives the same file system ids. */
export function idsFromKey(keyHex: string): { diskId: string; fatVolumeId: string; rootUuid: string } {
  const hex = keyHex.replace(/[^0-9a-f]/g, '').padEnd(32, '0');
  return {
    diskId: `0x${hex.slice(0, 8)}`,
    fatVolumeId: hex.slice(8, 16),
    rootUuid: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`,
  };
}
