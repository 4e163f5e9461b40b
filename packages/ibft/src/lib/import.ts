// Take a real machine's table (/sys/firmware/acpi/tables/iBFT, or any bare
// table or memory dump), validate it, and give it back as a spec for `ibft
// encode` or as table bytes, with CHAP secrets replaced by placeholders unless
// asked to keep them.
import { decodeIbft, isValid } from './decode';
import { formatJson } from './format';
import { type Candidate, locateIbft, NO_IBFT_FOUND } from './locate';
import type { IbftTable, Problem } from './structures';

/** Placeholder byte for secrets: '*', as many as the secret had, so every offset stays where it was. */
export const SECRET_PLACEHOLDER = 0x2a;

export interface ImportOptions {
  /** Keep CHAP and reverse-CHAP secrets as they are (default: replace them by placeholders). */
  keepSecrets?: boolean;
  /** Guest physical address of the input's first byte, for a memory dump; default 0. */
  baseAddress?: number;
}

export type ImportResult =
  | {
      ok: true;
      /** The table's bytes (its declared length), secrets replaced unless kept; checksum right. */
      bytes: Buffer;
      /** Those bytes decoded. */
      table: IbftTable;
      /** The spec `ibft encode` turns back into `bytes`: the decoded model as JSON, placeholders in clear. */
      spec: string;
      /** Secrets that were replaced, e.g. `target[0].chapSecret`; empty when kept or when there were none. */
      replaced: string[];
      /** Secrets left in the output because keepSecrets was set. */
      kept: string[];
      /** Warnings about the table (errors refuse it). */
      problems: Problem[];
      candidate: Candidate;
    }
  | { ok: false; reason: string; problems: Problem[] };

const SECRET_FIELDS = ['chapSecret', 'reverseChapSecret'] as const;

/** Find, validate and export the table in `data` (a bare table or a dump); never throws. */
export function importIbft(data: Uint8Array, options: ImportOptions = {}): ImportResult {
  const candidates = locateIbft(data, { baseAddress: options.baseAddress });
  const candidate = candidates.find((c) => c.valid);
  if (!candidate) {
    if (!candidates.length) return { ok: false, reason: NO_IBFT_FOUND, problems: [] };
    const first = candidates[0];
    // Decode it in full, so every problem is named (locate lists header problems only for some).
    const problems = decodeIbft(data.subarray(first.offset)).problems;
    return { ok: false, reason: `the iBFT at 0x${first.address.toString(16)} is invalid`, problems };
  }
  const bytes = Buffer.from(data.subarray(candidate.offset, candidate.offset + candidate.length));
  const original = decodeIbft(bytes).table!;
  const replaced: string[] = [];
  const kept: string[] = [];
  for (const t of original.targets) {
    for (const field of SECRET_FIELDS) {
      const s = t[field];
      if (!s || !s.length) continue;
      const path = `target[${t.slot}].${field}`;
      if (options.keepSecrets) {
        kept.push(path);
        continue;
      }
      bytes.fill(SECRET_PLACEHOLDER, s.offset, s.offset + s.length);
      replaced.push(path);
    }
  }
  if (replaced.length) {
    bytes[9] = 0;
    let sum = 0;
    for (const b of bytes) sum = (sum + b) & 0xff;
    bytes[9] = (0x100 - sum) & 0xff;
  }
  const decoded = decodeIbft(bytes);
  if (!isValid(decoded)) return { ok: false, reason: 'the table is invalid once its secrets are replaced (strings share bytes with them); pass keepSecrets', problems: decoded.problems };
  return {
    ok: true,
    bytes,
    table: decoded.table!,
    spec: `${formatJson(decoded.table!, { revealSecrets: true })}\n`,
    replaced,
    kept,
    problems: decoded.problems,
    candidate,
  };
}
