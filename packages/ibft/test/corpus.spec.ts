// The replay corpus on the host: every entry is what its README says (a spec encode writes, or bytes the
// decoder rejects), and decode -> encode -> decode is the identity on each. What Linux and the consumers
// read from them is checked by packages/qemu-runner/test/replay-corpus.spec.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeIbft, isValid } from '../src/lib/decode';
import { encodeIbft } from '../src/lib/encode';
import { formatJson } from '../src/lib/format';
import { CORPUS_DIR, corpusEntries } from './support/corpus';

const entries = corpusEntries();
const decodedJson = (bytes: Uint8Array) => JSON.parse(formatJson(decodeIbft(bytes).table!, { revealSecrets: true }));

describe('the replay corpus', () => {
  it('holds EDK2, Broadcom-style and iPXE tables, and tables Linux rejects', () => {
    const names = entries.map((e) => e.name);
    for (const prefix of ['edk2-', 'broadcom-', 'ipxe-', 'reject-']) expect(names.some((n) => n.startsWith(prefix))).toBe(true);
    const readme = readFileSync(join(CORPUS_DIR, 'README.md'), 'utf8');
    for (const name of names) expect(readme).toContain(`\`${name}\``);
  });

  it.each(entries.map((e) => [e.name, e] as const))('%s: accepted entries decode cleanly and re-encode to the same bytes; rejected ones are refused', (_name, entry) => {
    const decoded = decodeIbft(entry.bytes);
    expect(entry.readings).toBeDefined();
    if (entry.readings!.accepted) {
      expect(decoded.problems.filter((p) => p.severity === 'error')).toEqual([]);
      expect(isValid(decoded)).toBe(true);
      const again = encodeIbft(decodedJson(entry.bytes));
      expect(Buffer.compare(again, entry.bytes)).toBe(0);
      expect(decodedJson(again)).toEqual(decodedJson(entry.bytes));
    } else {
      expect(entry.specPath).toBeUndefined();
      expect(isValid(decoded)).toBe(false);
    }
  });

  it('the EDK2 entries have IScsiDxe\'s shape: 2048 bytes, 8-byte aligned structures, pairs interleaved', () => {
    for (const entry of entries.filter((e) => e.name.startsWith('edk2-'))) {
      const t = decodeIbft(entry.bytes).table!;
      expect(t.header.length).toBe(2048);
      const offsets = [t.control!.initiatorOffset, ...t.control!.nicOffsets, ...t.control!.targetOffsets].filter((o) => o);
      expect(offsets.every((o) => o % 8 === 0)).toBe(true);
      t.nics.forEach((n, k) => expect(t.targets[k].offset - n.offset).toBe(104));
    }
  });
});
