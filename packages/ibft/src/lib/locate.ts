// Find iBFT candidates in a guest-memory dump (or accept a bare table).
// Routes: the BIOS rule Linux uses (iscsi_ibft_find.c), the ACPI tables
// (RSDP -> RSDT/XSDT) that UEFI firmware uses, and a whole-buffer scan.
//
// Linear in the dump: checksums come from one prefix-sum pass (O(1) per
// candidate, however long its declared length), a candidate whose ACPI header
// already fails (revision, length, checksum) is not decoded further, and the
// problem lists of such candidates are shared when they say the same thing,
// so a dump with a signature on every 16-byte boundary costs a few bytes of
// memory per candidate.
import { ascii, sum8, u32, u64 } from './bytes';
import { checksumProblem, decodeIbft, headerProblems, isValid } from './decode';
import { type DecodeResult, IBFT_SIGNATURES, type IbftTable, type Problem, STRUCTURE_SIZE } from './structures';

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
  /**
   * What is wrong with it. A candidate whose ACPI header fails (revision, length, checksum) lists only
   * those problems: its structures are not decoded (`ibft decode --offset` decodes them anyway). Candidates
   * with the same header problems share one frozen array.
   */
  problems: readonly Problem[];
}

export interface LocateOptions {
  /** Guest physical address of the buffer's first byte; default 0. */
  baseAddress?: number;
}

/** Linux's legacy BIOS window for the iBFT, and the VGA hole it skips. */
export const BIOS_SCAN = { start: 0x80000, end: 0x100000, vgaStart: 0xa0000, vgaEnd: 0xc0000 } as const;

/** The signature at `o` as one of the constants (no string built per probe), or null. */
function signatureAt(m: Uint8Array, o: number, accepted: readonly string[]): string | null {
  if (o < 0 || o + 4 > m.length || m[o + 2] !== 0x46 || m[o + 3] !== 0x54) return null; // "..FT"
  const a = m[o];
  const b = m[o + 1];
  const sig = a === 0x69 && b === 0x42 ? 'iBFT' : a === 0x49 && b === 0x42 ? 'IBFT' : a === 0x42 && b === 0x49 ? 'BIFT' : null;
  return sig && accepted.includes(sig) ? sig : null;
}

/** Linux's BIOS scan accepts these two signatures; the ACPI route also accepts IBFT. */
const BIOS_SIGNATURES = ['iBFT', 'BIFT'];
const ACPI_SIGNATURES = IBFT_SIGNATURES as readonly string[];
const NONSENSE_LENGTH_LIMIT = 0x20000;
const SIGNATURE_INDEX: Record<string, number> = { iBFT: 0, IBFT: 1, BIFT: 2 };

class Finder {
  /** Candidates from the bare/BIOS/ACPI routes, by offset (few). */
  readonly found = new Map<number, Candidate>();
  /** Candidates of the whole-buffer scan, in order. */
  readonly scanned: Candidate[] = [];
  private prefix: Uint8Array | null = null;
  /** Bytes summed directly so far (see sum). */
  private summed = 0;
  private lastKey: string | number | null = null;
  private lastShared: readonly Problem[] = [];
  private readonly shared = new Map<string | number, readonly Problem[]>();

  constructor(
    readonly memory: Uint8Array,
    readonly base: number,
  ) {}

  /**
   * Sum mod 256 of memory[from, from + length), clipped to the buffer. Sums directly while that has cost
   * less than one pass over the dump, then builds prefix sums once: O(1) per candidate from there on, so
   * the total stays linear however many overlapping candidates there are.
   */
  sum(from: number, length: number): number {
    const m = this.memory;
    const end = Math.min(m.length, from + length);
    if (!this.prefix) {
      if (this.summed + (end - from) <= m.length) {
        this.summed += end - from;
        return sum8(m, from, end - from);
      }
      const p = new Uint8Array(m.length + 1);
      let s = 0;
      for (let i = 0; i < m.length; i++) p[i + 1] = s = (s + m[i]) & 0xff;
      this.prefix = p;
    }
    return (this.prefix[end] - this.prefix[from]) & 0xff;
  }

  /** A candidate at `offset`: header checks first, the full decode only when the header holds. */
  evaluate(offset: number, method: LocateMethod, signature: string): Candidate {
    const m = this.memory;
    const available = m.length - offset;
    const address = this.base + offset;
    const length = u32(m, offset + 4);
    if (available < STRUCTURE_SIZE.acpiHeader) {
      return { address, offset, method, signature, length, valid: false, problems: decodeIbft(m.subarray(offset)).problems };
    }
    const revision = m[offset + 8];
    // decodeIbft's checksum rule: over the declared length when it is sane, and only when the table is all there.
    const sum = this.sum(offset, Math.min(available, length >= STRUCTURE_SIZE.tableHeader ? length : NONSENSE_LENGTH_LIMIT));
    const truncated = length > available;
    const headerFails = revision !== 1 || length < STRUCTURE_SIZE.tableHeader + STRUCTURE_SIZE.control || truncated || sum !== 0;
    if (!headerFails) {
      const result = decodeIbft(m.subarray(offset), { checksum: (n) => this.sum(offset, n) });
      return { address, offset, method, signature, length, valid: isValid(result), problems: result.problems };
    }
    // The header's problems depend on these numbers only: share one frozen list per combination.
    const key = truncated ? `${signature}|${revision}|${length}|${available}` : ((SIGNATURE_INDEX[signature] * 256 + revision) * 256 + sum) * 2 ** 32 + length;
    let problems = key === this.lastKey ? this.lastShared : this.shared.get(key);
    if (!problems) {
      const list = headerProblems({ signature, revision, length }, available);
      if (!truncated && sum !== 0) list.push(checksumProblem(sum));
      problems = Object.freeze(list.map((p) => Object.freeze(p)));
      this.shared.set(key, problems);
    }
    this.lastKey = key;
    this.lastShared = problems;
    return { address, offset, method, signature, length, valid: false, problems };
  }

  add(offset: number, method: LocateMethod): void {
    if (offset < 0 || offset >= this.memory.length || this.found.has(offset)) return;
    this.found.set(offset, this.evaluate(offset, method, ascii(this.memory, offset, 4)));
  }

  /** Linux find_ibft_region: 16-byte steps over 0x80000-0x100000 minus VGA; the table must end before 0xFFFFF. */
  biosScan(): void {
    const m = this.memory;
    const first = Math.max(BIOS_SCAN.start, this.base + ((16 - (this.base % 16)) % 16));
    for (let addr = first; addr < BIOS_SCAN.end; addr += 16) {
      if (addr >= BIOS_SCAN.vgaStart && addr < BIOS_SCAN.vgaEnd) continue;
      const off = addr - this.base;
      if (off < 0) continue;
      if (off + 8 > m.length) break;
      if (!signatureAt(m, off, BIOS_SIGNATURES)) continue;
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
      if (Number.isSafeInteger(t) && t >= 0 && signatureAt(m, t, ACPI_SIGNATURES)) this.add(t, 'acpi');
    }
  }

  /** Fallback: every 16-byte boundary of the whole buffer, any accepted signature. */
  memoryScan(): void {
    const m = this.memory;
    for (let off = 0; off + 4 <= m.length; off += 16) {
      const sig = signatureAt(m, off, ACPI_SIGNATURES);
      if (sig && !this.found.has(off)) this.scanned.push(this.evaluate(off, 'memory-scan', sig));
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
  if (signatureAt(memory, 0, ACPI_SIGNATURES)) f.add(0, 'bare');
  f.biosScan();
  f.acpi();
  const early = [...f.found.values()];
  if (early.some((c) => c.valid)) return early;
  f.memoryScan();
  return early.concat(f.scanned);
}

export const NO_IBFT_FOUND = 'no iBFT signature (iBFT, IBFT, BIFT) found on a 16-byte boundary, and no ACPI table points to one';

export type FindResult =
  | { found: true; address: number; offset: number; bytes: Uint8Array; table: IbftTable; candidate: Candidate; candidates: Candidate[] }
  | { found: false; reason: string; candidates: Candidate[] };

/** How many candidates a reason names before it says "and N more". */
const REASON_CANDIDATES = 5;

/** The first valid table in `memory` (its bytes, address and decoded form), or why there is none. */
export function findValidIbft(memory: Uint8Array, options: LocateOptions = {}): FindResult {
  const candidates = locateIbft(memory, options);
  const candidate = candidates.find((c) => c.valid);
  if (!candidate) {
    const named = candidates
      .slice(0, REASON_CANDIDATES)
      .map((c) => `0x${c.address.toString(16)} (${c.problems.filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`)[0] ?? 'invalid'})`)
      .join('; ');
    const more = candidates.length > REASON_CANDIDATES ? `; and ${candidates.length - REASON_CANDIDATES} more` : '';
    const reason = candidates.length ? `found ${candidates.length} iBFT candidate(s), none valid: ${named}${more}` : NO_IBFT_FOUND;
    return { found: false, reason, candidates };
  }
  const bytes = memory.slice(candidate.offset, candidate.offset + candidate.length);
  const decoded: DecodeResult = decodeIbft(bytes);
  return { found: true, address: candidate.address, offset: candidate.offset, bytes, table: decoded.table!, candidate, candidates };
}
