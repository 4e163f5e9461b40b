import fc from 'fast-check';
import { decodeIbft, isValid } from './decode';
import { encodeIbft, encodeIbftReport } from './encode';
import { formatJson, formatSysfs } from './format';
import { IbftSpecError, parseIbftSpec, type IbftSpec } from './spec';
import { loadFixture } from '../../test/support/fixtures';

const INITIATOR = 'iqn.2010-04.org.ipxe:lab';
const TARGET = 'iqn.2003-01.org.example:lab';

/** The decoded table as `ibft decode --format json --reveal-secrets` prints it. */
const decodedJson = (bytes: Uint8Array) => JSON.parse(formatJson(decodeIbft(bytes).table!, { revealSecrets: true }));

/** A decoded table's JSON without anything about layout: offsets, string lengths, control, lengths, checksums. */
function withoutLayout(json: Record<string, unknown>): IbftSpec {
  const strip = (v: unknown, key?: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => strip(x));
    if (!v || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const isString = typeof o.value === 'string' || typeof o.hex === 'string';
    return Object.fromEntries(
      Object.entries(o)
        .filter(([k]) => !(k === 'offset' || (isString && k === 'length') || k === 'checksum' || k === 'checksumSum' || k === 'control' || (key === 'header' && k === 'length' && 'revision' in o)))
        .map(([k, x]) => [k, strip(x, k)]),
    );
  };
  return strip(json) as IbftSpec;
}

function specErrors(spec: unknown): { path: string; message: string }[] {
  try {
    encodeIbft(spec);
  } catch (e) {
    if (e instanceof IbftSpecError) return e.errors;
    throw e;
  }
  throw new Error('expected the spec to be refused');
}

describe('encodeIbft: the real fixtures', () => {
  it.each(['stock-ipxe-tgt', 'stock-ipxe-tgt-mutual-chap'])('%s: its decoded JSON encodes to the same bytes', (name) => {
    const fx = loadFixture(name);
    expect(Buffer.compare(encodeIbft(decodedJson(fx.bin)), Buffer.from(fx.bin))).toBe(0);
  });

  it.each(['stock-ipxe-tgt', 'stock-ipxe-tgt-mutual-chap'])('%s: without any offset or length, encode lays it out as iPXE did (same bytes)', (name) => {
    const fx = loadFixture(name);
    const spec = withoutLayout(decodedJson(fx.bin));
    expect(JSON.stringify(spec)).not.toMatch(/"offset"|"checksum"|"control"/);
    expect(Buffer.compare(encodeIbft(spec), Buffer.from(fx.bin))).toBe(0);
  });

  it('the fixture table object itself encodes (IbftTable is a spec)', () => {
    const fx = loadFixture('stock-ipxe-tgt');
    expect(Buffer.compare(encodeIbft(decodeIbft(fx.bin).table!), Buffer.from(fx.bin))).toBe(0);
  });
});

describe('encodeIbft: hand-written specs', () => {
  it('a small spec: iPXE defaults (FENSYS/iPXE, flags 3, port 3260), checksum right, Linux shows it', () => {
    const bytes = encodeIbft({
      initiator: { name: INITIATOR },
      nics: [{ ip: '10.0.2.15', prefixLength: 24, originName: 'dhcp', gateway: '10.0.2.2', primaryDns: '10.0.2.3', dhcp: '10.0.2.2', mac: '52:54:00:12:34:56', pci: { bus: 0, device: 3, function: 0 } }],
      targets: [{ ip: '10.0.2.2', lun: 1, name: 'iqn.2003-01.org.example:lab' }],
    });
    const fx = loadFixture('stock-ipxe-tgt');
    // The fixture's initiator name differs; everything else is what iPXE wrote.
    const result = decodeIbft(bytes);
    expect(result.problems).toEqual([]);
    expect(formatSysfs(result.table!)).toEqual(fx.sysfs.map((l) => l.replace('foobar', 'lab')).sort());
  });

  it('IPv6, VLAN, hostname, mutual CHAP, flags, BIFT, OEM ids, more than two pairs', () => {
    const spec: IbftSpec = {
      header: { signature: 'BIFT', oemId: 'BRCM', oemTableId: 'bnx2i', oemRevision: 7, creatorId: 'TEST', creatorRevision: 0x1234 },
      initiator: { name: INITIATOR, isnsServer: 'fd00::53' },
      nics: [
        { ip: 'fd00::15', prefixLength: 64, origin: 4, gateway: 'fd00::1', vlan: 42, hostname: 'node-a', global: true },
        { ip: '192.168.7.15', prefixLength: 24, origin: 1, mac: '52-54-00-AA-BB-CC' },
        { ip: '192.168.8.15', prefixLength: 16, bootSelected: false },
      ],
      targets: [
        { ip: 'fd00::2', name: `${TARGET}0`, chapName: 'u', chapSecret: 'one-way-secret', nicAssociation: 0 },
        { ip: '192.168.7.2', port: 3261, name: `${TARGET}1`, chapName: 'u', chapSecret: 's1', reverseChapName: 'tgt', reverseChapSecret: 's2', nicAssociation: 1, lun: '0002-0000-0000-0000' },
        { ip: '192.168.8.2', name: `${TARGET}2`, nicAssociation: 2, header: { flags: 1 } },
      ],
    };
    const { bytes, table, warnings } = encodeIbftReport(spec);
    expect(warnings).toEqual([]);
    expect(isValid(decodeIbft(bytes))).toBe(true);
    expect(table.header).toMatchObject({ signature: 'BIFT', oemId: 'BRCM', oemTableId: 'bnx2i', oemRevision: 7, creatorId: 'TEST', creatorRevision: 0x1234 });
    expect(table.control!.header.length).toBe(22);
    expect(table.initiator!.isnsServer.address).toBe('fd00::53');
    expect(table.nics.map((n) => [n.ip.address, n.prefixLength, n.vlan, n.hostname?.value ?? null, n.header.flags, n.mac])).toEqual([
      ['fd00::15', 64, 42, 'node-a', 7, '00:00:00:00:00:00'],
      ['192.168.7.15', 24, 0, null, 3, '52:54:00:aa:bb:cc'],
      ['192.168.8.15', 16, 0, null, 1, '00:00:00:00:00:00'],
    ]);
    expect(table.targets.map((t) => [t.chapTypeName, t.port, t.lun.number, t.header.flags])).toEqual([
      ['chap', 3260, 0, 3],
      ['mutual', 3261, 2, 3],
      ['none', 3260, 0, 1],
    ]);
    expect(table.targets[1].reverseChapSecret?.value).toBe('s2');
    expect(formatSysfs(table)).toContain('acpi_header/signature=BIFT');
    expect(formatSysfs(table)).toContain('ethernet0/ip-addr=fd00:0000:0000:0000:0000:0000:0000:0015');
  });

  it('sparse slots, explicit indices, raw string bytes (hex), a NUL inside, an empty hostname', () => {
    const { table, warnings } = encodeIbftReport({
      initiator: { name: { hex: Buffer.from('iqn.2010-04.org.ipxe:caf\xe9', 'latin1').toString('hex') } },
      nics: [{ slot: 1, header: { index: 5 }, ip: '10.0.2.15', hostname: '' }],
      targets: [{ slot: 3, ip: '10.0.2.2', name: { hex: '61620063' }, nicAssociation: 5 }],
    });
    expect(table.control!.nicOffsets[0]).toBe(0);
    expect(table.control!.targetOffsets).toHaveLength(4);
    expect(table.nics[0]).toMatchObject({ slot: 1, header: { index: 5 } });
    expect(table.nics[0].hostname).toMatchObject({ length: 0, value: '' });
    expect(table.targets[0]).toMatchObject({ slot: 3, name: { value: 'ab', hex: '61620063' } });
    expect(warnings.map((w) => w.path)).toEqual(['initiator.name', 'target[3].name']);
    expect(formatSysfs(table)).toContain('ethernet5/hostname=');
  });

  it('a decoded table edited by hand: a changed name moves to the end of the heap, the rest stays put', () => {
    const fx = loadFixture('stock-ipxe-tgt');
    const json = decodedJson(fx.bin);
    json.targets[0].name = 'iqn.2003-01.org.example:a-much-longer-target-name';
    delete json.header.length;
    const { bytes, table } = encodeIbftReport(json);
    expect(table.targets[0].name!.value).toBe('iqn.2003-01.org.example:a-much-longer-target-name');
    // Right after the initiator name (0x200, 27 bytes and its NUL): the old name's bytes are free again.
    expect(table.targets[0].name!.offset).toBe(0x21c);
    expect(table.initiator!.name!.offset).toBe(0x200);
    expect(Buffer.compare(Buffer.from(bytes.subarray(10, 0x1a2)), Buffer.from(fx.bin.subarray(10, 0x1a2)))).toBe(0);
    expect(table.header.length).toBe(0x21c + 49 + 1);
  });
});

describe('encodeIbft: layout "edk2" (IScsiDxe\'s IScsiIbft.c)', () => {
  const pair = (k: number) => ({
    nic: { ip: `192.0.2.${10 + k}`, prefixLength: 24, originName: 'manual', mac: `52:54:00:00:00:0${k}`, global: true },
    target: { ip: `192.0.2.${100 + k}`, lun: k, nicAssociation: k, name: `iqn.2003-01.org.example:t${k}`, ...(k === 1 ? { chapName: 'user1', chapSecret: 'secret-one-12' } : {}) },
  });
  const spec = (pairs: number) => ({
    layout: 'edk2' as const,
    initiator: { name: INITIATOR },
    nics: Array.from({ length: pairs }, (_, k) => pair(k).nic),
    targets: Array.from({ length: pairs }, (_, k) => pair(k).target),
  });

  it('8-byte aligned structures, NIC/target pairs interleaved, the heap growing down from 2048, 2048 bytes long', () => {
    const bytes = encodeIbft(spec(3));
    const t = decodeIbft(bytes);
    expect(isValid(t)).toBe(true);
    expect(t.table!.header.length).toBe(2048);
    expect(t.table!.control!.header.length).toBe(22);
    // initiator after the 22-byte control (48 + 22 = 70 -> 72); NIC 104 and target 56 bytes apart.
    expect(t.table!.control!.initiatorOffset).toBe(72);
    expect(t.table!.control!.nicOffsets).toEqual([152, 312, 472]);
    expect(t.table!.control!.targetOffsets).toEqual([256, 416, 576]);
    // Fill order from the top: the initiator name first, then each target's strings.
    const name = t.table!.initiator!.name!;
    expect(name.offset + name.length + 1).toBe(2048);
    const t0 = t.table!.targets[0].name!;
    expect(t0.offset + t0.length + 1).toBe(name.offset);
    expect(t.table!.targets[1].chapSecret!.offset).toBeLessThan(t.table!.targets[1].chapName!.offset);
  });

  it('decode -> encode gives the same bytes back (the offsets win), and layout with offsets is refused', () => {
    const bytes = encodeIbft(spec(2));
    expect(Buffer.compare(encodeIbft(decodedJson(bytes)), bytes)).toBe(0);
    expect(specErrors({ ...decodedJson(bytes), layout: 'edk2' })).toEqual([expect.objectContaining({ path: 'layout', message: expect.stringContaining('remove layout, or the offsets') })]);
    expect(specErrors({ layout: 'uefi' })[0]).toEqual({ path: 'layout', message: 'layout is "ipxe" or "edk2"' });
  });

  it('strings that do not fit under 2048 are refused, naming the string', () => {
    const long = { ...spec(1), initiator: { name: `iqn.2010-04.org.example:${'x'.repeat(1700)}` } };
    expect(specErrors(long)).toEqual([expect.objectContaining({ path: 'targets[0].name', message: expect.stringContaining("EDK2's layout keeps structures and strings in 2048 bytes") })]);
  });
});

describe('encodeIbft refuses malformed specs, naming the field and the fix', () => {
  const base = (): Record<string, unknown> => ({ initiator: { name: INITIATOR }, nics: [{ ip: '10.0.2.15', prefixLength: 24 }], targets: [{ ip: '10.0.2.2', name: TARGET }] });

  it.each([
    ['unknown field', { ...base(), targets: [{ ip: '10.0.2.2', nmae: TARGET }] }, 'targets[0].nmae', /unknown field: remove it \(a target has slot, offset, .*name/],
    ['unknown top-level field', { ...base(), extra: 1 }, 'extra', /unknown field: remove it/],
    ['unknown field inside an address object', { ...base(), nics: [{ ip: { family: 'ipv4', address: '10.0.2.15', mask: 24 } }] }, 'nics[0].ip.mask', /unknown field/],
    ['IPv6 text with family ipv4', { ...base(), nics: [{ ip: { family: 'ipv4', address: 'fd00::1' } }] }, 'nics[0].ip.family', /not an IPv4 address: set family to "ipv6"/],
    ['IPv4 text with family ipv6', { ...base(), targets: [{ ip: { family: 'ipv6', address: '10.0.2.2' }, name: TARGET }] }, 'targets[0].ip.family', /is an IPv4 address .*set family to "ipv4"/],
    ['not an address', { ...base(), nics: [{ gateway: '10.0.2.300' }] }, 'nics[0].gateway', /not an IPv4 or IPv6 address/],
    ['prefix too long for IPv4', { ...base(), nics: [{ ip: '10.0.2.15', prefixLength: 33 }] }, 'nics[0].prefixLength', /too long for an IPv4 address \(at most 32\)/],
    ['a u16 out of range', { ...base(), targets: [{ port: 70000 }] }, 'targets[0].port', /must be a whole number from 0 to 65535/],
    ['string length that does not match', { ...base(), targets: [{ name: { value: TARGET, length: 3 } }] }, 'targets[0].name.length', /is 3 but the string is 27 bytes: remove length/],
    ['header.length too short', { ...base(), header: { length: 100 } }, 'header.length', /need \d+ bytes: remove it/],
    ['header.length too long', { ...base(), header: { length: 1 << 20 } }, 'header.length', /from 0 to 131072/],
    ['odd control length', { ...base(), control: { header: { length: 19 } } }, 'control.header.length', /odd/],
    ['control shorter than 18', { ...base(), control: { header: { length: 16 } } }, 'control.header.length', /at least 18/],
    ['revision 2', { ...base(), header: { revision: 2 } }, 'header.revision', /revision is 1/],
    ['signature', { ...base(), header: { signature: 'ABCD' } }, 'header.signature', /"iBFT", "IBFT" or "BIFT"/],
    ['OEM id too long', { ...base(), header: { oemId: 'TOOLONG' } }, 'header.oemId', /at most 6 fit/],
    ['OEM id not one byte a character', { ...base(), header: { oemId: 'é€' } }, 'header.oemId', /not a one-byte character/],
    ['a masked secret', { ...base(), targets: [{ name: TARGET, chapName: 'u', chapSecret: { value: '********', masked: true } }] }, 'targets[0].chapSecret', /masked .*--reveal-secrets/],
    ['CHAP without a secret', { ...base(), targets: [{ name: TARGET, chapType: 1, chapName: 'u' }] }, 'targets[0].chapSecret', /needs a CHAP secret: add chapSecret, or set chapType to 0/],
    ['chapType 3', { ...base(), targets: [{ chapType: 3 }] }, 'targets[0].chapType', /0 \(none\), 1 \(chap\) or 2 \(mutual\)/],
    ['derived field that disagrees', { ...base(), targets: [{ chapType: 0, chapTypeName: 'chap' }] }, 'targets[0].chapTypeName', /remove chapTypeName \(it is derived\)/],
    ['flags and valid that disagree', { ...base(), nics: [{ header: { flags: 2 }, valid: true }] }, 'nics[0].valid', /bit 0 clear/],
    ['two NICs with one index', { ...base(), nics: [{}, { header: { index: 0 } }] }, 'nics[1].header.index', /also nics\[0\]'s: Linux names both kobjects ethernet0/],
    ['two targets in one slot', { ...base(), targets: [{ slot: 1 }, { slot: 1 }] }, 'targets[1].slot', /slot 1 is also targets\[0\]'s/],
    ['a bad MAC', { ...base(), nics: [{ mac: '52:54:00:12:34' }] }, 'nics[0].mac', /six hex pairs/],
    ['via', { ...base(), targets: [{ via: 'nic' }] }, 'targets[0].via', /remove via/],
    ['a string with neither value nor hex', { ...base(), targets: [{ name: {} }] }, 'targets[0].name', /neither value nor hex/],
    ['hex and value that disagree', { ...base(), targets: [{ name: { value: 'x', hex: '7979' } }] }, 'targets[0].name.value', /does not match hex, which reads "yy"/],
    ['a LUN whose forms disagree', { ...base(), targets: [{ lun: { hex: '0001000000000000', number: 2 } }] }, 'targets[0].lun.number', /is 2 but the LUN hex gives 1/],
    ['subnetMask that disagrees', { ...base(), nics: [{ ip: '10.0.2.15', prefixLength: 24, subnetMask: '255.255.0.0' }] }, 'nics[0].subnetMask', /make it 255.255.255.0/],
    ['overlapping offsets', { ...base(), nics: [{ offset: 0x50 }], initiator: { offset: 0x50, name: INITIATOR } }, 'nics[0]', /overlaps initiator/],
    ['a structure inside the control', { ...base(), targets: [{ offset: 0x40 }] }, 'targets[0].offset', /inside the table header or control/],
    ['control offsets that disagree', { ...base(), control: { targetOffsets: [0x180, 0x1c0] } }, 'control.targetOffsets[1]', /no target in targets has slot 1/],
    ['not an object', [1, 2], '', /expected an iBFT spec/],
  ])('%s', (_what, spec, path, message) => {
    expect(specErrors(spec)).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('a control length too short for the slots used', () => {
    expect(specErrors({ ...base(), control: { header: { length: 18 } }, targets: [{}, {}, {}] })).toEqual([
      { path: 'control.header.length', message: expect.stringMatching(/room for 2 NIC and 2 target slots, but the spec has a target in slot 2: raise it to 22/) },
    ]);
  });

  it('more strings than fit: the first one past the 16-bit offsets is named', () => {
    const long = 'x'.repeat(30000);
    const errors = specErrors({ initiator: { name: INITIATOR }, nics: [{}], targets: [{ name: long, chapName: 'u', chapSecret: long }, { name: long }, { name: 'does-not-fit' }] });
    expect(errors).toEqual([{ path: 'targets[2].name', message: expect.stringMatching(/no room: the string would start at byte \d+, but string offsets are 16-bit \(at most 65535\): shorten the strings/) }]);
  });

  it('no error message quotes a CHAP secret', () => {
    const hex = Buffer.from('the-real-secret').toString('hex');
    const errors = specErrors({ targets: [{ name: TARGET, chapName: 'u', chapSecret: { value: 'typo-secret', hex }, reverseChapName: 'r', reverseChapSecret: { value: 'other', hex } }] });
    expect(errors.map((e) => e.path)).toEqual(['targets[0].chapSecret.value', 'targets[0].reverseChapSecret.value']);
    expect(JSON.stringify(errors)).not.toMatch(/real-secret|typo-secret|other/);
  });

  it('a string longer than 65535 bytes', () => {
    expect(specErrors({ targets: [{ name: 'x'.repeat(70000) }] })).toContainEqual({ path: 'targets[0].name', message: expect.stringMatching(/at most 65535/) });
  });

  it('parseIbftSpec lists every error at once and never throws', () => {
    const r = parseIbftSpec({ nics: [{ ip: 'nope', prefixLength: 300 }], targets: [{ port: -1, chapType: 1 }] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path)).toEqual(['nics[0].prefixLength', 'targets[0].port']);
    expect(parseIbftSpec('garbage').ok).toBe(false);
  });
});

// ---------------------------------------------------------------- property: decode -> encode -> decode

const octet = fc.nat(255);
const ipv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
const ipv6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((w) => (w[0] === 0 && w[1] === 0 ? [0xfd00, ...w.slice(1)] : w).map((x) => x.toString(16)).join(':'));
const address = fc.oneof(ipv4, ipv6, fc.constant('0.0.0.0'), fc.constant('::'));
const text = fc.string({ maxLength: 24, unit: 'grapheme' });
const bytesString = fc.uint8Array({ maxLength: 16 }).map((b) => ({ hex: Buffer.from(b).toString('hex') }));
const str = fc.oneof(text, bytesString);
const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':'));
const idText = (n: number) => fc.string({ maxLength: n, unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });

const nic = fc.record(
  {
    flags: fc.nat(255),
    ip: address,
    ipv6Prefix: fc.nat(128),
    ipv4Prefix: fc.nat(32),
    origin: fc.constantFrom(0, 1, 2, 3, 4, 15),
    gateway: address,
    primaryDns: address,
    secondaryDns: address,
    dhcp: address,
    vlan: fc.nat(0xffff),
    mac,
    pci: fc.nat(0xffff),
    hostname: fc.option(str, { nil: undefined }),
  },
  { requiredKeys: ['ip', 'ipv4Prefix', 'ipv6Prefix'] },
).map(({ ipv4Prefix, ipv6Prefix, flags, ...n }) => ({ ...n, ...(flags === undefined ? {} : { header: { flags } }), prefixLength: n.ip.includes(':') && n.ip !== '::' ? ipv6Prefix : ipv4Prefix }));

const target = fc.record({
  flags: fc.nat(255),
  ip: address,
  port: fc.nat(0xffff),
  lun: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => ({ hex: Buffer.from(b).toString('hex') })),
  chapType: fc.constantFrom(0, 1, 2),
  nicAssociation: fc.nat(255),
  name: fc.option(str, { nil: undefined }),
  chapName: str,
  chapSecret: str,
  reverseChapName: str,
  reverseChapSecret: str,
}).map((t) => ({
  header: { flags: t.flags },
  ip: t.ip,
  port: t.port,
  lun: t.lun,
  chapType: t.chapType,
  nicAssociation: t.nicAssociation,
  name: t.name,
  ...(t.chapType >= 1 ? { chapName: t.chapName, chapSecret: t.chapSecret } : {}),
  ...(t.chapType === 2 ? { reverseChapName: t.reverseChapName, reverseChapSecret: t.reverseChapSecret } : {}),
}));

const spec = fc.record({
  header: fc.record({ signature: fc.constantFrom('iBFT', 'IBFT', 'BIFT'), oemId: idText(6), oemTableId: idText(8), oemRevision: fc.nat(), creatorId: idText(4), creatorRevision: fc.nat() }),
  initiator: fc.option(fc.record({ flags: fc.nat(255), name: fc.option(str, { nil: undefined }), isnsServer: address, slpServer: address }).map(({ flags, ...i }) => ({ ...i, header: { flags } })), { nil: null }),
  nics: fc.array(nic, { maxLength: 5 }),
  targets: fc.array(target, { maxLength: 6 }),
});

describe('property: decode -> encode -> decode is the identity', () => {
  it('random specs: the encoded table decodes cleanly, and its decoded JSON encodes to the same bytes', () => {
    fc.assert(
      fc.property(spec, (s) => {
        const first = encodeIbftReport(s as IbftSpec);
        expect(first.warnings.filter((w) => w.severity === 'error')).toEqual([]);
        const json = JSON.parse(JSON.stringify(first.table));
        const again = encodeIbft(json);
        expect(Buffer.compare(again, first.bytes)).toBe(0);
        expect(decodeIbft(again).table).toEqual(first.table);
        // Without any layout information, encode still writes a table that decodes to the same values.
        const canonical = decodeIbft(encodeIbft(withoutLayout(json))).table!;
        expect(JSON.parse(JSON.stringify(withoutLayout(JSON.parse(JSON.stringify(canonical)))))).toEqual(withoutLayout(json));
      }),
      { numRuns: 300 },
    );
  });
});
