// The disk images an appliance serves, as a lab names them: a file (raw or
// qcow2), or an OS image built from a recipe on first use and cached by
// content (qemu-runner's ensureOsImage). Resolved before the appliance boots,
// so a missing file or an unknown recipe fails first, naming its field.
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ensureOsImage, OS_IMAGE_RECIPES } from '@ibft-lab/qemu-runner';
import { DiskImageError, inspectDiskImage } from './disk-image';
import type { ApplianceDisk } from './start-appliance';

export type DiskSource = { path: string } | { os: string };

export interface NamedDiskSource {
  image: DiskSource;
  /** The field the user wrote it in (e.g. lab.json's luns[0].image), for error messages. */
  field?: string;
}

export interface ResolvedApplianceDisk extends ApplianceDisk {
  /** Bytes a guest sees (the virtual size for qcow2). */
  virtualBytes: number;
  /** The recipe's image: its sha256, as the cache recorded it. */
  sha256?: string;
}

export async function resolveApplianceDisks(
  disks: NamedDiskSource[],
  options: { workspaceRoot: string; cacheDir: string; log?: (line: string) => void },
): Promise<ResolvedApplianceDisk[]> {
  for (const [i, disk] of disks.entries()) {
    const field = disk.field ?? `disks[${i}].image`;
    if ('os' in disk.image && !OS_IMAGE_RECIPES[disk.image.os]) {
      throw new Error(`${field}: unknown OS image recipe ${JSON.stringify(disk.image.os)}; use one of ${Object.keys(OS_IMAGE_RECIPES).join(', ')}`);
    }
    if ('path' in disk.image) inspectFile(disk.image.path, field, options.workspaceRoot);
  }
  const resolved: ResolvedApplianceDisk[] = [];
  for (const [i, disk] of disks.entries()) {
    const field = disk.field ?? `disks[${i}].image`;
    if ('path' in disk.image) {
      const path = fromRoot(disk.image.path, options.workspaceRoot);
      resolved.push({ path, ...inspectFile(disk.image.path, field, options.workspaceRoot) });
      continue;
    }
    try {
      const image = await ensureOsImage({ cacheDir: options.cacheDir, recipe: disk.image.os, log: options.log });
      resolved.push({ path: image.path, format: 'raw', virtualBytes: image.sizeBytes, sha256: image.sha256 });
    } catch (error) {
      throw new Error(`${field}: the OS image ${disk.image.os} could not be had: ${(error as Error).message}`, { cause: error });
    }
  }
  return resolved;
}

function fromRoot(path: string, root: string): string {
  return isAbsolute(path) ? path : join(root, path);
}

function inspectFile(path: string, field: string, root: string): { format: 'raw' | 'qcow2'; virtualBytes: number } {
  const full = fromRoot(path, root);
  try {
    accessSync(full, constants.R_OK);
    if (!statSync(full).isFile()) throw new Error('not a file');
  } catch (error) {
    throw new Error(`${field}: ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); give a raw or qcow2 disk image`);
  }
  try {
    return inspectDiskImage(full);
  } catch (error) {
    if (error instanceof DiskImageError) throw new Error(`${field}: ${error.message}`);
    throw error;
  }
}
