// manifest.json beside the ROM: what was built from what. It is a cached Nx
// output, so it holds no absolute paths and no timestamps: equal inputs give
// an equal file on any machine.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConfigOverrides } from './config-overrides';
import type { SourceIdentity } from './source';

export interface Manifest {
  mode: 'built' | 'stock';
  /** ROM file name in the firmware folder. */
  rom: string;
  romSha256: string;
  /** Set for built ROMs. */
  makeTarget: string | null;
  source: SourceIdentity | null;
  /** SOURCE_DATE_EPOCH the build used (null for stock). */
  sourceDateEpoch: number | null;
  nic: string | null;
  platform: 'bios' | 'uefi';
  format: string | null;
  script: {
    sha256: string;
    /** "embedded" in the ROM, or the file beside the ROM that QEMU's TFTP serves (stock mode). */
    delivery: 'embedded' | 'tftp';
    /** Set in stock mode: the TFTP boot file name (boot.ipxe). */
    file: string | null;
  };
  overrides: ConfigOverrides;
  debug: string | null;
  /** Stock mode: the stock ROM's file name in the distro package (no directory). */
  stockRom: string | null;
  /** Stock mode: why no ROM was built: no-source | path-missing | not-ipxe-tree | git-unavailable. */
  reason: string | null;
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Stable JSON: fixed key order (the interface's), sorted override keys, trailing newline. */
export function renderManifest(m: Manifest): string {
  const sortedOverrides: ConfigOverrides = {};
  for (const file of Object.keys(m.overrides).sort()) {
    sortedOverrides[file] = Object.fromEntries(Object.keys(m.overrides[file]).sort().map((k) => [k, m.overrides[file][k]]));
  }
  const ordered: Manifest = {
    mode: m.mode,
    rom: m.rom,
    romSha256: m.romSha256,
    makeTarget: m.makeTarget,
    source: m.source,
    sourceDateEpoch: m.sourceDateEpoch,
    nic: m.nic,
    platform: m.platform,
    format: m.format,
    script: { sha256: m.script.sha256, delivery: m.script.delivery, file: m.script.file },
    overrides: sortedOverrides,
    debug: m.debug,
    stockRom: m.stockRom,
    reason: m.reason,
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
