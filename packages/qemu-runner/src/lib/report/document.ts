// What report.json holds, as a type, and the facts the pages read from it.
import type { IbftTable, Mismatch } from '@ibft-lab/ibft';
import type { BootTimings } from '../boot/boot-lab';
import type { SystemUnderTestResult } from '../boot/system-under-test';
import type { ProbeResult } from '../probe';

/**
 * What the caller knows about the run that the boot itself does not: which
 * lab it was and how its machine was put together. All optional: a run
 * without them still has a report, its pages say "unknown".
 */
export interface ReportRun {
  /** The lab's name (an Nx project for boot-vm). */
  lab?: string;
  /** QEMU NIC model. */
  nic?: string;
  firmware?: 'bios' | 'uefi';
  /** The ROM's origin from ipxe-builder's manifest: built from source or the distro's stock ROM; null when unknown (a ROM file given as is). */
  romMode?: 'built' | 'stock' | null;
}

export interface ReportDocument {
  verdict: 'pass' | 'fail';
  /** The suite name (JUnit's) and what the caller said about the run. */
  run: ReportRun & { suite: string };
  failure: string | null;
  ipxeErrorUrl: string | null;
  ibftAddress: number | null;
  /** Decoded table, secrets masked. */
  ibft: IbftTable | null;
  /** Flattened `path → value`, secrets masked. */
  expectations: Record<string, string> | null;
  mismatches: Mismatch[];
  probe: ProbeResult | null;
  boot: (SystemUnderTestResult & { serialLog: string }) | null;
  timings: BootTimings;
  qemu: string[];
  /** The consumer matrix, when a consumer probe ran (not written by qemu-runner yet); rendered generically. */
  consumers?: unknown;
}

/** The lab's network mode: what it expected of nic[0]'s origin, else what the table says. */
export function networkOf(doc: Pick<ReportDocument, 'expectations' | 'ibft'>): string | null {
  const origin = doc.expectations?.['nic[0].origin'] ?? doc.ibft?.nics[0]?.originName;
  if (origin === undefined) return null;
  const name = String(origin).toLowerCase();
  if (name === 'dhcp' || name === '3') return 'dhcp';
  if (name === 'manual' || name === 'static' || name === '1') return 'static';
  return name;
}

/** CHAP of target 0: what the lab expected, else what the table says. */
export function chapOf(doc: Pick<ReportDocument, 'expectations' | 'ibft'>): string | null {
  return doc.expectations?.['target[0].chapType'] ?? doc.ibft?.targets[0]?.chapTypeName ?? null;
}
