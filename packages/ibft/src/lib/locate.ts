// Find iBFT candidates in a guest-memory dump (or accept a bare table).
// Routes: the BIOS rule Linux uses (iscsi_ibft_find.c), the ACPI tables
// (RSDP -> RSDT/XSDT) that UEFI firmware uses, and a whole-buffer scan.
import { ascii, sum8, u32, u64 } from './bytes';
import { decodeIbft, isValid } from './decode';
import { type DecodeResult, IBFT_SIGNATURES, type IbftTable, type Problem } from './structures';

export type LocateMethod = 'bare' | 'bios-scan' | 'acpi' | 'memory-scan';

export interface Candidate {
  /** Guest physical address (baseAddress + offset). */
  address: number;
  /** Offset in the buffer that was searched. */
  offset: number;
  method: LocateMethod;
  signature: string;
  /** Length from the candidate's ACPI header. */
  length: number;
  valid: boolean;
  problems: Problem[];
}

export interface LocateOptions {
  /** Guest physical address of the buffer's first byte; default 0. */
  baseAddress?: number;
}

/** Linux's legacy BIOS window for the iBFT, and the VGA hole it skips. */
export const BIOS_SCAN = { start: 0x80000, end: 0x100000, vgaStart: 0xa0000, vgaEnd: 0xc0000 } as const;
/** Linux's BIOS scan accepts these two signatures; the ACPI route also accepts IBFT. */
const BIOS_SIGNATURES = ['iBFT', 'BIFT'];
const ACPI_SIGNATURES = IBFT_SIGNATURES as readonly string[];

class Finder {
  readonly found = new Map<number, Candidate>();
  constructor(
    readonly memory: Uint8Array,
    readonly base: number,
  ) {}

  add(offset: number, method: LocateMethod): void {
    if (offset < 0 || offset >= this.memory.length || this.found.has(offset)) return;
    const result = decodeIbft(this.memory.subarray(offset));
    this.found.set(offset, {
      address: this.base + offset,
      offset,
      method,
      signature: ascii(this.memory, offset, 4),
      length: u32(this.memory, offset + 4),
      valid: isValid(result),
      problems: result.problems,
    });
  }

  /** Linux find_ibft_region: 16-byte steps over 0x80000-0x100000 minus VGA; the table must end before 0xFFFFF. */
  biosScan(): void {
    const m = this.memory;
    for (let addr = BIOS_SCAN.start; addr < BIOS_SCAN.end; addr += 16) {
      if (addr >= BIOS_SCAN.vgaStart && addr < BIOS_SCAN.vgaEnd) continue;
      const off = addr - this.base;
      if (off < 0 || off + 8 > m.length) continue;
      if (!BIOS_SIGNATURES.includes(ascii(m, off, 4))) continue;
      if (addr + u32(m, off + 4) <= BIOS_SCAN.end - 1) this.add(off, 'bios-scan');
    }
  }

  /** RSDP ("RSD PTR ", checksummed) -> XSDT (64-bit entries) or RSDT (32-bit) -> tables signed iBFT/IBFT/BIFT. */
  acpi(): void {
    const m = this.memory;
    for (let off = 0; off + 20 <= m.length; off += 16) {
      if (m[off] !== 0x52 || ascii(m, off, 8) !== 'RSD PTR ' || sum8(m, off, 20) !== 0) continue;
      const revision = m[off + 15];
      const sdts: [number, number][] = [];
      if (revision >= 2 && off + 36 <= m.length && sum8(m, off, u32(m, off + 20) || 36) === 0) {
        const xsdt = u64(m, off + 24);
        if (xsdt) sdts.push([xsdt, 8]);
      }
      const rsdt = u32(m, off + 16);
      if (rsdt) sdts.push([rsdt, 4]);
      for (const [address, entrySize] of sdts) this.walkSdt(address, entrySize);
    }
  }

  private walkSdt(address: number, entrySize: number): void {
    const m = this.memory;
    const off = address - this.base;
    if (!Number.isSafeInteger(off) || off < 0 || off + 36 > m.length) return;
    const sig = ascii(m, off, 4);
    if (sig !== (entrySize === 8 ? 'XSDT' : 'RSDT')) return;
    const length = Math.min(u32(m, off + 4), m.length - off);
    for (let e = off + 36; e + entrySize <= off + length; e += entrySize) {
      const tableAddr = entrySize === 8 ? u64(m, e) : u32(m, e);
      const t = tableAddr - this.base;
      if (Number.isSafeInteger(t) && t >= 0 && t + 4 <= m.length && ACPI_SIGNATURES.includes(ascii(m, t, 4))) this.add(t, 'acpi');
    }
  }

  /** Fallback: every 16-byte boundary of the whole buffer, any accepted signature. */
  memoryScan(): void {
    const m = this.memory;
    for (let off = 0; off + 4 <= m.length; off += 16) {
      const c = m[off];
      if (c !== 0x69 && c !== 0x49 && c !== 0x42) continue; // 'i', 'I', 'B'
      if (ACPI_SIGNATURES.includes(ascii(m, off, 4))) this.add(off, 'memory-scan');
    }
  }
}

/**
 * Every iBFT candidate in `memory`, in discovery order: a bare table at offset 0,
 * then the BIOS scan (when the dump covers 0x80000-0x100000), then the ACPI route,
 * then — only when none of those produced a valid table — a whole-buffer scan.
 */
export function locateIbft(memory: Uint8Array, options: LocateOptions = {}): Candidate[] {
  const base = options.baseAddress ?? 0;
  if (!(memory instanceof Uint8Array) || !Number.isSafeInteger(base)) return [];
  const f = new Finder(memory, base);
  if (ACPI_SIGNATURES.includes(ascii(memory, 0, 4))) f.add(0, 'bare');
  f.biosScan();
  f.acpi();
  if (![...f.found.values()].some((c) => c.valid)) f.memoryScan();
  return [...f.found.values()];
}

export const NO_IBFT_FOUND = 'no iBFT signature (iBFT, IBFT, BIFT) found on a 16-byte boundary, and no ACPI table points to one';

export type FindResult =
  | { found: true; address: number; offset: number; bytes: Uint8Array; table: IbftTable; candidate: Candidate; candidates: Candidate[] }
  | { found: false; reason: string; candidates: Candidate[] };

/** The first valid table in `memory` (its bytes, address and decoded form), or why there is none. */
export function findValidIbft(memory: Uint8Array, options: LocateOptions = {}): FindResult {
  const candidates = locateIbft(memory, options);
  const candidate = candidates.find((c) => c.valid);
  if (!candidate) {
    const reason = candidates.length
      ? `found ${candidates.length} iBFT candidate(s), none valid: ${candidates
          .map((c) => `0x${c.address.toString(16)} (${c.problems.filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`)[0] ?? 'invalid'})`)
          .join('; ')}`
      : NO_IBFT_FOUND;
    return { found: false, reason, candidates };
  }
  const bytes = memory.slice(candidate.offset, candidate.offset + candidate.length);
  const decoded: DecodeResult = decodeIbft(bytes);
  return { found: true, address: candidate.address, offset: candidate.offset, bytes, table: decoded.table!, candidate, candidates };
}
