// What a disk image file is, read from its first bytes: the appliance serves
// raw and qcow2 images (QEMU reads both); other formats QEMU might guess are
// named, so a user learns what to convert instead of booting garbage.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export type DiskImageFormat = 'raw' | 'qcow2';

export interface DiskImageInfo {
  format: DiskImageFormat;
  /** The size a guest sees: the file's size for raw, the virtual size for qcow2. */
  virtualBytes: number;
}

/** Formats QEMU reads that the appliance does not serve, by their magic bytes. */
const FOREIGN_FORMATS: Array<{ name: string; offset: number; magic: Buffer }> = [
  { name: 'VMDK', offset: 0, magic: Buffer.from('KDMV', 'latin1') },
  { name: 'VMDK (descriptor file)', offset: 0, magic: Buffer.from('# Disk DescriptorFile', 'latin1') },
  { name: 'VDI', offset: 0x40, magic: Buffer.from([0x7f, 0x10, 0xda, 0xbe]) },
  { name: 'VHDX', offset: 0, magic: Buffer.from('vhdxfile', 'latin1') },
  { name: 'VHD (dynamic)', offset: 0, magic: Buffer.from('conectix', 'latin1') },
  { name: 'QED', offset: 0, magic: Buffer.from('QED\0', 'latin1') },
  { name: 'LUKS', offset: 0, magic: Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]) },
  { name: 'ISO 9660', offset: 0x8001, magic: Buffer.from('CD001', 'latin1') },
];

const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);

export class DiskImageError extends Error {}

/** Reads the image's header; throws DiskImageError naming the format it found instead of raw or qcow2. */
export function inspectDiskImage(path: string): DiskImageInfo {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const at = (offset: number, length: number) => {
      const buffer = Buffer.alloc(length);
      const read = readSync(fd, buffer, 0, length, offset);
      return buffer.subarray(0, read);
    };
    if (at(0, 4).equals(QCOW2_MAGIC)) {
      const header = at(0, 32);
      if (header.length < 32) throw new DiskImageError(`${path} starts like qcow2 but its header is cut short (${size} bytes)`);
      return { format: 'qcow2', virtualBytes: Number(header.readBigUInt64BE(24)) };
    }
    for (const foreign of FOREIGN_FORMATS) {
      if (at(foreign.offset, foreign.magic.length).equals(foreign.magic)) {
        throw new DiskImageError(`${path} is a ${foreign.name} image, not raw or qcow2; convert it: qemu-img convert -O qcow2 ${path} disk.qcow2`);
      }
    }
    if (size === 0) throw new DiskImageError(`${path} is empty; give a raw or qcow2 disk image`);
    return { format: 'raw', virtualBytes: size };
  } finally {
    closeSync(fd);
  }
}
