// Property tests: no input bytes make the decoder, locator, formatters or
// comparer throw. Mutations start from the real fixture so they reach deep paths.
import fc from 'fast-check';
import { compareIbft } from './compare';
import { decodeIbft } from './decode';
import { formatIscsiadm, formatJson, formatSysfs, formatTable } from './format';
import { findValidIbft, locateIbft } from './locate';
import { encodeIbft } from './encode';
import { IbftSpecError } from './spec';
import { predictIscsiadmFw } from './format';
import { fixChecksum } from '../../test/support/encode-ibft';
import { loadFixture } from '../../test/support/fixtures';

const fixture = loadFixture('stock-ipxe-tgt').bin;

function exerciseEverything(bytes: Uint8Array): void {
  const result = decodeIbft(bytes);
  expect(Array.isArray(result.problems)).toBe(true);
  for (const p of result.problems) expect(typeof p.path === 'string' && typeof p.message === 'string').toBe(true);
  if (result.table) {
    formatSysfs(result.table);
    formatSysfs(result.table, { revealSecrets: true });
    JSON.parse(formatJson(result.table));
    formatIscsiadm(result.table);
    predictIscsiadmFw(result.table, { revealSecrets: true, netIfaceName: (n) => (n.slot % 2 ? null : 'eth0') });
    formatTable(result.table);
    compareIbft(
      {
        initiator: { name: 'x' },
        nics: [{ ip: '10.0.2.15', prefix: 24, dns: 'fd00::1', origin: 'dhcp', mac: '52:54:00:12:34:56', vlan: 1, hostname: 'h' }, {}],
        targets: [{ ip: '10.0.2.2', lun: '1-2-3-4', chapType: 'mutual', chapSecret: 's', reverseChapSecret: 'r' }, { lun: 7 }],
      },
      result.table,
    );
  }
  locateIbft(bytes);
  findValidIbft(bytes, { baseAddress: 0x80000 });
}

/** A mutation of the fixture: byte flips, u16 overwrites (offsets/lengths), truncation; checksum optionally repaired. */
const mutatedFixture = fc
  .record({
    flips: fc.array(fc.record({ at: fc.nat({ max: fixture.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 8 }),
    words: fc.array(fc.record({ at: fc.nat({ max: fixture.length - 2 }), value: fc.integer({ min: 0, max: 0xffff }) }), { maxLength: 4 }),
    cut: fc.option(fc.nat({ max: fixture.length }), { nil: undefined }),
    repairChecksum: fc.boolean(),
  })
  .map(({ flips, words, cut, repairChecksum }) => {
    const bytes = fixture.slice();
    for (const f of flips) bytes[f.at] = f.value;
    for (const w of words) {
      bytes[w.at] = w.value & 0xff;
      bytes[w.at + 1] = w.value >> 8;
    }
    if (repairChecksum) fixChecksum(bytes);
    return cut === undefined ? bytes : bytes.slice(0, cut);
  });

describe('fuzz: random and mutated bytes never throw', () => {
  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1024 }), (bytes) => exerciseEverything(bytes)), { numRuns: 500 });
  });

  it('random bytes behind an iBFT signature', () => {
    const withSignature = fc.uint8Array({ minLength: 0, maxLength: 800 }).map((tail) => {
      const bytes = new Uint8Array(tail.length + 4);
      bytes.set([0x69, 0x42, 0x46, 0x54], 0);
      bytes.set(tail, 4);
      return bytes;
    });
    fc.assert(fc.property(withSignature, (bytes) => exerciseEverything(bytes)), { numRuns: 500 });
  });

  it('mutated real fixture (with and without a repaired checksum)', () => {
    fc.assert(fc.property(mutatedFixture, (bytes) => exerciseEverything(bytes)), { numRuns: 2000 });
  });

  it('mutated fixture embedded in a BIOS-range dump', () => {
    fc.assert(
      fc.property(mutatedFixture, fc.nat({ max: 0x7ff }), (table, slot) => {
        const memory = new Uint8Array(0x100000);
        memory.set(table, 0x80000 + slot * 16);
        expect(() => locateIbft(memory)).not.toThrow();
      }),
      { numRuns: 50 },
    );
  });

  it('a valid mutated table always formats every kobject line as key=value', () => {
    fc.assert(
      fc.property(mutatedFixture, (bytes) => {
        const table = decodeIbft(bytes).table;
        if (!table) return;
        for (const line of formatSysfs(table)) expect(line).toMatch(/^(acpi_header|initiator|ethernet\d+|target\d+)\/[a-z_-]+=/);
      }),
      { numRuns: 500 },
    );
  });

  it('a valid decoded table encodes to one that decodes the same, or is refused with an IbftSpecError', () => {
    const withoutChecksum = (t: object) => JSON.parse(JSON.stringify(t, (k, v) => (k === 'checksum' ? undefined : v)));
    let encoded = 0;
    // Mutations that mostly stay valid: a few byte flips, checksum repaired, on the fixture with CHAP strings.
    const chap = loadFixture('stock-ipxe-tgt-mutual-chap').bin;
    const nearlyValid = fc.array(fc.record({ at: fc.nat({ max: chap.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }).map((flips) => {
      const bytes = chap.slice();
      for (const f of flips) bytes[f.at] = f.value;
      return fixChecksum(bytes);
    });
    fc.assert(
      fc.property(nearlyValid, (bytes) => {
        const result = decodeIbft(bytes);
        if (!result.table || result.problems.some((p) => p.severity === 'error')) return;
        let out: Uint8Array;
        try {
          out = encodeIbft(JSON.parse(formatJson(result.table, { revealSecrets: true })));
        } catch (e) {
          // Decoder warnings encode does not write (an odd control length, a string over the header or a structure).
          expect(e).toBeInstanceOf(IbftSpecError);
          return;
        }
        encoded++;
        // Bytes outside the model (padding, reserved) are zeros now, so only the checksum byte may differ.
        expect(withoutChecksum(decodeIbft(out).table!)).toEqual(withoutChecksum(result.table));
      }),
      { numRuns: 500 },
    );
    expect(encoded).toBeGreaterThan(150);
  });
});
