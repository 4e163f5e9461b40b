import { decodeIbft } from './decode';
import { encodeIbft } from './encode';
import { importIbft, SECRET_PLACEHOLDER } from './import';
import { loadFixture } from '../../test/support/fixtures';

describe('importIbft', () => {
  const fx = loadFixture('stock-ipxe-tgt-mutual-chap');
  const secrets = [fx.expected!.targets![0].chapSecret!, fx.expected!.targets![0].reverseChapSecret!];

  it('replaces CHAP secrets by same-length placeholders; the spec encodes to exactly those bytes', () => {
    const r = importIbft(fx.bin);
    if (!r.ok) throw new Error(r.reason);
    expect(r.replaced).toEqual(['target[0].chapSecret', 'target[0].reverseChapSecret', 'target[1].chapSecret', 'target[1].reverseChapSecret']);
    expect(r.kept).toEqual([]);
    for (const s of secrets) {
      expect(r.bytes.includes(s)).toBe(false);
      expect(r.spec).not.toContain(s);
    }
    expect(r.bytes.length).toBe(fx.bin.length);
    expect(r.table.targets[0].chapSecret!.value).toBe(String.fromCharCode(SECRET_PLACEHOLDER).repeat(secrets[0].length));
    expect(Buffer.compare(encodeIbft(JSON.parse(r.spec)), r.bytes)).toBe(0);
    expect(decodeIbft(r.bytes).problems).toEqual([]);
  });

  it('keepSecrets: the table as it was', () => {
    const r = importIbft(fx.bin, { keepSecrets: true });
    if (!r.ok) throw new Error(r.reason);
    expect(Buffer.compare(r.bytes, Buffer.from(fx.bin))).toBe(0);
    expect(r.kept).toHaveLength(4);
    expect(r.spec).toContain(secrets[0]);
  });

  it('refuses an invalid table or none, with the problems', () => {
    const broken = fx.bin.slice();
    broken[9] ^= 1;
    const r = importIbft(broken);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.path)).toEqual(['header.checksum']);
    expect(importIbft(new Uint8Array(100))).toMatchObject({ ok: false, reason: expect.stringMatching(/no iBFT signature/) });
  });
});
