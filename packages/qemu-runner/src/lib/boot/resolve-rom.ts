// Which ROM file a lab boots with: a ROM path, or a firmware folder holding
// ipxe-builder's manifest.json ({ mode: 'built' | 'stock', rom, ... }).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

export interface FirmwareManifest {
  mode: 'built' | 'stock';
  /** ROM path, absolute or relative to the manifest's folder. */
  rom?: string;
}

/** The ROM to use, or undefined for "the stock ROM of this NIC". */
export function resolveRom(rom: string | undefined): string | undefined {
  if (!rom) return undefined;
  if (!existsSync(rom)) throw new Error(`rom: ${rom} does not exist; run build-rom first, or leave rom out to use the stock ROM`);
  if (!statSync(rom).isDirectory()) return rom;
  const manifestPath = join(rom, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new Error(`rom: ${rom} is a folder without manifest.json; give a ROM file or build-rom's output folder`);
  }
  let manifest: FirmwareManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    throw new Error(`rom: ${manifestPath} is not JSON (${(error as Error).message}); rebuild it with build-rom`);
  }
  if (manifest.mode !== 'built' && manifest.mode !== 'stock') {
    throw new Error(`rom: ${manifestPath} has mode ${JSON.stringify(manifest.mode)}; expected 'built' or 'stock'`);
  }
  if (!manifest.rom) {
    if (manifest.mode === 'stock') return undefined;
    throw new Error(`rom: ${manifestPath} (mode built) names no rom; rebuild it with build-rom`);
  }
  const path = isAbsolute(manifest.rom) ? manifest.rom : join(rom, manifest.rom);
  if (!existsSync(path)) throw new Error(`rom: ${path} (from ${manifestPath}) does not exist; run build-rom again`);
  return path;
}

/**
 * Where the lab's ROM came from, for its report: the manifest's mode for a
 * build-rom folder, `stock` without a ROM (the distro's ROM for the NIC),
 * null for a ROM file given as is (or an unreadable manifest).
 */
export function romMode(rom: string | undefined): 'built' | 'stock' | null {
  if (!rom) return 'stock';
  try {
    if (!statSync(rom).isDirectory()) return null;
    const mode = JSON.parse(readFileSync(join(rom, 'manifest.json'), 'utf8')).mode;
    return mode === 'built' || mode === 'stock' ? mode : null;
  } catch {
    return null;
  }
}
