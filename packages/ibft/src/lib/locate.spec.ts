import { findValidIbft, locateIbft } from './locate';
import { encodeIbft, fixChecksum } from '../../test/support/encode-ibft';
import { loadFixture } from '../../test/support/fixtures';

const fixture = () => loadFixture('stock-ipxe-tgt').bin;

function biosDump(at: number, table: Uint8Array, size = 1 << 20): Uint8Array {
  const memory = new Uint8Array(size);
  memory.set(table, at);
  return memory;
}

/** A UEFI-style dump: RSDP -> XSDT (and RSDT) -> an iBFT at an address no 16-byte scan would hit. */
function acpiDump(opts: { base: number; revision: number; signature: string; tableAt: number }) {
  const memory = new Uint8Array(0x40000);
  const view = new DataView(memory.buffer);
  const sig = (o: number, s: string) => memory.set([...s].map((c) => c.charCodeAt(0)), o);
  const sdtChecksum = (o: number, len: number) => {
    let sum = 0;
    for (let i = 0; i < len; i++) sum += memory[o + i];
    memory[o + 9] = (0x100 - (sum & 0xff)) & 0xff;
  };
  const rsdp = 0x1000;
  const xsdt = 0x2000;
  const rsdt = 0x2800;
  const facp = 0x3000;
  sig(rsdp, 'RSD PTR ');
  sig(rsdp + 9, 'OVMF  ');
  memory[rsdp + 15] = opts.revision;
  view.setUint32(rsdp + 16, opts.base + rsdt, true);
  if (opts.revision >= 2) {
    view.setUint32(rsdp + 20, 36, true);
    view.setBigUint64(rsdp + 24, BigInt(opts.base + xsdt), true);
  }
  let sum = 0;
  for (let i = 0; i < 20; i++) sum += memory[rsdp + i];
  memory[rsdp + 8] = (0x100 - (sum & 0xff)) & 0xff;
  if (opts.revision >= 2) {
    sum = 0;
    for (let i = 0; i < 36; i++) sum += memory[rsdp + i];
    memory[rsdp + 32] = (0x100 - (sum & 0xff)) & 0xff;
  }
  // An unrelated table first, as real firmware lists FACP, APIC, ... before the iBFT.
  sig(facp, 'FACP');
  view.setUint32(facp + 4, 36, true);
  sig(xsdt, 'XSDT');
  view.setUint32(xsdt + 4, 36 + 16, true);
  view.setBigUint64(xsdt + 36, BigInt(opts.base + facp), true);
  view.setBigUint64(xsdt + 44, BigInt(opts.base + opts.tableAt), true);
  sdtChecksum(xsdt, 52);
  sig(rsdt, 'RSDT');
  view.setUint32(rsdt + 4, 36 + 8, true);
  view.setUint32(rsdt + 36, opts.base + facp, true);
  view.setUint32(rsdt + 40, opts.base + opts.tableAt, true);
  sdtChecksum(rsdt, 44);
  const table = fixture().slice();
  table.set([...opts.signature].map((c) => c.charCodeAt(0)), 0);
  fixChecksum(table);
  memory.set(table, opts.tableAt);
  return memory;
}

describe('locateIbft', () => {
  it('BIOS rule: finds the real table where iPXE left it (0x9e620 in a 1 MiB dump)', () => {
    const candidates = locateIbft(biosDump(0x9e620, fixture()));
    expect(candidates).toEqual([{ address: 0x9e620, offset: 0x9e620, method: 'bios-scan', signature: 'iBFT', length: 568, valid: true, problems: [] }]);
    const found = findValidIbft(biosDump(0x9e620, fixture()));
    expect(found.found).toBe(true);
    if (found.found) {
      expect(found.address).toBe(0x9e620);
      expect(found.bytes).toEqual(fixture());
      expect(found.table.initiator?.name?.value).toBe('iqn.2010-04.org.ipxe:foobar');
    }
  });

  it('BIOS rule accepts BIFT and reports every candidate with validity', () => {
    const bift = fixture().slice();
    bift.set([0x42, 0x49, 0x46, 0x54], 0); // "BIFT"
    fixChecksum(bift);
    const broken = fixture().slice();
    broken[9] ^= 0xff;
    const memory = biosDump(0x90000, broken);
    memory.set(bift, 0xe0000);
    const candidates = locateIbft(memory);
    expect(candidates.map((c) => [c.address, c.signature, c.valid])).toEqual([
      [0x90000, 'iBFT', false],
      [0xe0000, 'BIFT', true],
    ]);
    expect(candidates[0].problems.map((p) => p.path)).toEqual(['header.checksum']);
    const found = findValidIbft(memory);
    expect(found.found && found.address).toBe(0xe0000);
  });

  it('BIOS rule skips the VGA hole; the whole-buffer scan still reports the table', () => {
    const candidates = locateIbft(biosDump(0xa0000, fixture()));
    expect(candidates.map((c) => [c.address, c.method])).toEqual([[0xa0000, 'memory-scan']]);
  });

  it('honours baseAddress for a dump that starts above 0', () => {
    const memory = new Uint8Array(0x80000);
    memory.set(fixture(), 0x1e620);
    expect(locateIbft(memory, { baseAddress: 0x80000 }).map((c) => [c.address, c.offset, c.method])).toEqual([[0x9e620, 0x1e620, 'bios-scan']]);
  });

  it('ACPI route (UEFI): RSDP rev 2 -> XSDT -> table signed IBFT at an unaligned address', () => {
    const base = 0x7e000000;
    const memory = acpiDump({ base, revision: 2, signature: 'IBFT', tableAt: 0x4004 });
    const candidates = locateIbft(memory, { baseAddress: base });
    expect(candidates.map((c) => [c.address, c.method, c.signature, c.valid])).toEqual([[base + 0x4004, 'acpi', 'IBFT', true]]);
    const found = findValidIbft(memory, { baseAddress: base });
    expect(found.found && found.table.targets[0].name?.value).toBe('iqn.2003-01.org.example:lab');
  });

  it('ACPI route: RSDP rev 0 -> RSDT (32-bit entries) -> iBFT', () => {
    const memory = acpiDump({ base: 0, revision: 0, signature: 'iBFT', tableAt: 0x5008 });
    expect(locateIbft(memory).map((c) => [c.address, c.method])).toEqual([[0x5008, 'acpi']]);
  });

  it('a bare table (the buffer starts with the signature)', () => {
    const table = encodeIbft({ initiator: { name: 'iqn.2010-04.org.ipxe:x' } });
    expect(locateIbft(table).map((c) => [c.offset, c.method, c.valid])).toEqual([[0, 'bare', true]]);
  });

  it('no table: an empty list and a reason', () => {
    expect(locateIbft(new Uint8Array(1 << 20))).toEqual([]);
    const found = findValidIbft(new Uint8Array(4096));
    expect(found.found).toBe(false);
    if (!found.found) expect(found.reason).toMatch(/no iBFT signature/);
  });

  it('only invalid candidates: the reason names the first error', () => {
    const broken = fixture().slice();
    broken[8] = 7;
    const found = findValidIbft(biosDump(0x9e620, broken));
    expect(found.found).toBe(false);
    if (!found.found) expect(found.reason).toMatch(/0x9e620 \(header\.revision: revision is 7/);
  });

  it('a crafted dump with an iBFT signature on every 16-byte boundary (1 MiB): every candidate, in linear time', () => {
    const size = 1 << 20;
    const memory = new Uint8Array(size);
    for (let o = 0; o < size; o += 16) memory.set([0x69, 0x42, 0x46, 0x54], o);
    const started = Date.now();
    const candidates = locateIbft(memory);
    // A hang guard only (it takes about 0.1 s); bench/ibft-locate measures 16 MiB.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(candidates).toHaveLength(size / 16);
    const byMethod = candidates.reduce<Record<string, number>>((n, c) => ({ ...n, [c.method]: (n[c.method] ?? 0) + 1 }), {});
    // BIOS window 0x80000-0x100000 minus the VGA hole: 0x60000 / 16; the rest by the whole-buffer scan.
    expect(byMethod).toEqual({ bare: 1, 'bios-scan': 0x60000 / 16, 'memory-scan': size / 16 - 1 - 0x60000 / 16 });
    expect(candidates.some((c) => c.valid)).toBe(false);
    // Revision 0 and length 0: header problems only, one shared list for equal headers.
    expect(candidates[5000].problems.map((p) => p.path)).toEqual(['header.revision', 'header.length']);
    expect(candidates[5000].problems).toBe(candidates[6000].problems);
    const found = findValidIbft(memory);
    expect(found.found).toBe(false);
    if (!found.found) {
      expect(found.reason).toMatch(/^found 65536 iBFT candidate\(s\), none valid: 0x0 \(header\.revision: .*; and 65531 more$/);
      expect(found.reason.length).toBeLessThan(2000);
    }
  });

  it('the fixture among thousands of decoys in the BIOS window is still found', () => {
    const memory = new Uint8Array(1 << 20);
    for (let o = 0x80000; o < 0x100000; o += 16) memory.set([0x69, 0x42, 0x46, 0x54], o);
    memory.fill(0, 0x9e600, 0x9e620 + 0x300);
    memory.set(fixture(), 0x9e620);
    const found = findValidIbft(memory);
    expect(found.found && found.address).toBe(0x9e620);
    expect(found.found && found.table.targets[0].name?.value).toBe('iqn.2003-01.org.example:lab');
  });
});
