// The files a lab names (its system under test's kernel, initrd, ISO or disk;
// a table lab's table) must be there and be what they claim, before any VM starts.
import { accessSync, closeSync, constants, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { decodeIbft, IbftSpecError, encodeIbft } from '@ibft-lab/ibft';
import { DiskImageError, inspectDiskImage } from '@ibft-lab/lio-target';
import { withAcpiChecksum } from '@ibft-lab/qemu-runner';
import { isTableLab, type AnyLabSpec, type TableLabSpec } from './lab-spec';

function head(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, offset);
    return buffer;
  } finally {
    closeSync(fd);
  }
}

const QCOW2_MAGIC = Buffer.from('QFI\xfb', 'latin1');

export function isQcow2(path: string): boolean {
  return head(path, 0, 4).equals(QCOW2_MAGIC);
}

/** A table lab's table: the file readable and an iBFT Linux takes, or a spec encode writes. */
function tableProblems(lab: TableLabSpec, labDir: string, file: string): string[] {
  const { table, spec } = lab.firmware;
  if (spec !== undefined) {
    try {
      encodeIbft(spec);
      return [];
    } catch (error) {
      if (!(error instanceof IbftSpecError)) throw error;
      return error.errors.map((e) => `${file}: firmware.spec${e.path ? `.${e.path}` : ''}: ${e.message}`);
    }
  }
  const full = isAbsolute(table!) ? table! : join(labDir, table!);
  let bytes: Buffer;
  try {
    if (!statSync(full).isFile()) throw Object.assign(new Error('not a file'), { code: 'not a file' });
    bytes = readFileSync(full);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return [`${file}: firmware.table: ${table} cannot be read (${why}); give a path relative to the lab folder ${labDir}`];
  }
  // QEMU rewrites an injected table's checksum, so the checksum is no reason to refuse it.
  const decoded = decodeIbft(withAcpiChecksum(bytes));
  const errors = decoded.problems.filter((p) => p.severity === 'error');
  if (decoded.table && !errors.length) return [];
  const why = errors.map((p) => `${p.path}: ${p.message}`).join('; ') || 'no iBFT in it';
  return [`${file}: firmware.table: ${table} is not an iBFT Linux would take (${why}); give a table as \`ibft encode\` or \`ibft import --format bin\` writes it`];
}

/** Problems with the lab's files, each naming its field and the fix; [] when all is well. */
export function labFileProblems(lab: AnyLabSpec, labDir: string, file = 'lab.json'): string[] {
  if (isTableLab(lab)) return tableProblems(lab, labDir, file);
  const problems: string[] = [];
  const check = (field: string, path: string | undefined, kind?: 'iso' | 'disk' | 'lun') => {
    if (path === undefined) return undefined;
    const full = isAbsolute(path) ? path : join(labDir, path);
    try {
      accessSync(full, constants.R_OK);
      if (!statSync(full).isFile()) throw Object.assign(new Error('not a file'), { code: 'not a file' });
    } catch (error) {
      const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      problems.push(`${file}: ${field}: ${path} cannot be read (${why}); give a path relative to the lab folder ${labDir}`);
      return undefined;
    }
    if (kind === 'lun') {
      try {
        return inspectDiskImage(full);
      } catch (error) {
        if (!(error instanceof DiskImageError)) throw error;
        problems.push(`${file}: ${field}: ${error.message}`);
        return undefined;
      }
    }
    if (kind === 'iso' && head(full, 0x8001, 5).toString('latin1') !== 'CD001') {
      problems.push(`${file}: ${field}: ${path} is not an ISO 9660 image (no CD001 at 0x8001); give an installer or live ISO`);
    }
    if (kind === 'disk' && /\.qcow2$/i.test(full) && !isQcow2(full)) {
      problems.push(`${file}: ${field}: ${path} is named .qcow2 but is not a qcow2 image; convert it (qemu-img convert -O qcow2) or rename it`);
    }
    return undefined;
  };
  lab.luns.forEach((lun, i) => {
    if (typeof lun.image !== 'string') return;
    const info = check(`luns[${i}].image`, lun.image, 'lun');
    // LIO's fileio serves a file's bytes as they are: only the appliance (QEMU) reads qcow2.
    if (info?.format === 'qcow2' && lab.target.kind !== 'appliance') {
      const raw = `${lun.image.replace(/\.qcow2$/i, '')}.raw`;
      problems.push(`${file}: luns[${i}].image: ${lun.image} is qcow2, and a ${lab.target.kind} target serves a LUN's file as raw bytes; convert it once (qemu-img convert -O raw ${lun.image} ${raw}) and name ${raw}, or use target.kind "appliance"`);
    }
    if (info && lun.sizeMiB !== undefined && info.virtualBytes > lun.sizeMiB * 2 ** 20) {
      const mib = Math.ceil(info.virtualBytes / 2 ** 20);
      problems.push(`${file}: luns[${i}].sizeMiB: ${lun.sizeMiB} MiB is smaller than its image ${lun.image} (${info.format}, ${mib} MiB); set sizeMiB to at least ${mib} or leave it out (the LUN is then the image's size)`);
    }
  });
  const boot = lab.boot;
  if (boot.kind === 'kernel') {
    check('boot.kernel', boot.kernel);
    check('boot.initrd', boot.initrd);
  }
  if (boot.kind === 'exit') {
    if ('cdrom' in boot.media) check('boot.media.cdrom', boot.media.cdrom, 'iso');
    else check('boot.media.disk', boot.media.disk, 'disk');
  }
  return problems;
}
