import { existsSync, readFileSync } from 'node:fs';
import { decodeAddress } from './address';
import { decodeIbft } from './decode';
import { ibftFieldMap, type IbftField, type IbftFieldMap } from './field-map';
import { MASKED_SECRET, redactTable } from './format';
import type { IbftTable } from './structures';
import { loadFixture } from '../../test/support/fixtures';
import { encodeIbftLayout, fixChecksum } from '../../test/support/encode-ibft';

// iBFT v1.03, written out again here rather than read from field-map.ts:
// [path suffix, offset inside the structure, length].
const HEADER: Array<[string, number, number]> = [
  ['header.id', 0, 1],
  ['header.version', 1, 1],
  ['header.length', 2, 2],
  ['header.index', 4, 1],
  ['header.flags', 5, 1],
];
const SPEC: Record<string, Array<[string, number, number]>> = {
  header: [
    ['signature', 0, 4],
    ['length', 4, 4],
    ['revision', 8, 1],
    ['checksum', 9, 1],
    ['oemId', 10, 6],
    ['oemTableId', 16, 8],
    ['oemRevision', 24, 4],
    ['creatorId', 28, 4],
    ['creatorRevision', 32, 4],
  ],
  control: [...HEADER, ['extensions', 6, 2], ['initiatorOffset', 8, 2], ['nicOffsets[0]', 10, 2], ['targetOffsets[0]', 12, 2], ['nicOffsets[1]', 14, 2], ['targetOffsets[1]', 16, 2]],
  initiator: [
    ...HEADER,
    ['isnsServer', 6, 16],
    ['slpServer', 22, 16],
    ['primaryRadiusServer', 38, 16],
    ['secondaryRadiusServer', 54, 16],
    ['name.length', 70, 2],
    ['name.offset', 72, 2],
  ],
  nic: [
    ...HEADER,
    ['ip', 6, 16],
    ['prefixLength', 22, 1],
    ['origin', 23, 1],
    ['gateway', 24, 16],
    ['primaryDns', 40, 16],
    ['secondaryDns', 56, 16],
    ['dhcp', 72, 16],
    ['vlan', 88, 2],
    ['mac', 90, 6],
    ['pci', 96, 2],
    ['hostname.length', 98, 2],
    ['hostname.offset', 100, 2],
  ],
  target: [
    ...HEADER,
    ['ip', 6, 16],
    ['port', 22, 2],
    ['lun', 24, 8],
    ['chapType', 32, 1],
    ['nicAssociation', 33, 1],
    ['name.length', 34, 2],
    ['name.offset', 36, 2],
    ['chapName.length', 38, 2],
    ['chapName.offset', 40, 2],
    ['chapSecret.length', 42, 2],
    ['chapSecret.offset', 44, 2],
    ['reverseChapName.length', 46, 2],
    ['reverseChapName.offset', 48, 2],
    ['reverseChapSecret.length', 50, 2],
    ['reverseChapSecret.offset', 52, 2],
  ],
};
const SIZE: Record<string, number> = { header: 36, control: 18, initiator: 74, nic: 102, target: 54 };

const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const ascii = (b: Uint8Array, f: IbftField) => Buffer.from(b.subarray(f.offset, f.offset + f.length)).toString('latin1');

function structureLayout(map: IbftFieldMap, structure: string): Array<[string, number, number]> {
  const region = map.regions.find((r) => r.structure === structure)!;
  return map.fields
    .filter((f) => f.structure === structure && f.kind !== 'heap')
    .map((f) => [f.path.slice(structure.length + 1), f.offset - region.offset, f.length]);
}

/** Checks that hold for any table: the spec's layout, full coverage, no overlap, values re-read from the bytes. */
function checkMap(bytes: Uint8Array, table: IbftTable): IbftFieldMap {
  const map = ibftFieldMap(table);
  // Spec layout of every structure present.
  expect(structureLayout(map, 'header')).toEqual(SPEC.header);
  expect(map.fields.find((f) => f.path === 'reserved')).toMatchObject({ offset: 36, length: 12, kind: 'reserved' });
  expect(structureLayout(map, 'control').slice(0, SPEC.control.length)).toEqual(SPEC.control);
  expect(structureLayout(map, 'initiator')).toEqual(SPEC.initiator);
  for (const nic of table.nics) expect(structureLayout(map, `nic[${nic.slot}]`)).toEqual(SPEC.nic);
  for (const t of table.targets) expect(structureLayout(map, `target[${t.slot}]`)).toEqual(SPEC.target);
  for (const region of map.regions) {
    if (SIZE[region.kind === 'acpi-header' ? 'header' : region.kind] && region.kind !== 'control') {
      expect(region.length).toBe(SIZE[region.kind === 'acpi-header' ? 'header' : region.kind]);
    }
  }

  // Sorted, no two fields overlap, all inside the table; every byte of every structure belongs to one of its fields.
  for (let i = 1; i < map.fields.length; i++) expect(map.fields[i].offset).toBeGreaterThanOrEqual(map.fields[i - 1].offset + map.fields[i - 1].length);
  for (const f of map.fields) expect(f.offset + f.length).toBeLessThanOrEqual(table.header.length);
  for (const region of map.regions) {
    for (let b = region.offset; b < region.offset + region.length; b++) {
      const owners = map.fields.filter((f) => b >= f.offset && b < f.offset + f.length);
      expect(owners.map((f) => f.structure)).toEqual([region.structure]);
    }
  }

  // Values, read again from the raw bytes at the mapped ranges.
  const field = (path: string) => map.fields.find((f) => f.path === path)!;
  expect(ascii(bytes, field('header.signature'))).toBe(field('header.signature').value);
  expect(ascii(bytes, field('header.oemId')).replace(/\0+$/, '')).toBe(field('header.oemId').value.replace(/\s+$/, ''));
  expect(String(u16(bytes, field('control.initiatorOffset').offset))).toBe(field('control.initiatorOffset').value);
  for (const f of map.fields) {
    const raw = bytes.subarray(f.offset, f.offset + f.length);
    if (f.kind === 'heap') expect(Buffer.from(raw).toString('utf8')).toBe(f.value);
    else if (f.length === 16) expect(f.value.replace(/ \(unset\)$/, '')).toBe(decodeAddress(raw).address);
    else if (/\.(length|offset)$/.test(f.path) && f.structure !== 'header' && !f.path.endsWith('header.length')) {
      expect(f.value).toBe(String(u16(bytes, f.offset)));
    }
  }
  for (const nic of table.nics) {
    const mac = field(`nic[${nic.slot}].mac`);
    expect(Array.from(bytes.subarray(mac.offset, mac.offset + 6), (b) => b.toString(16).padStart(2, '0')).join(':')).toBe(mac.value);
    expect(field(`nic[${nic.slot}].vlan`).value).toBe(String(u16(bytes, nic.offset + 88)));
  }
  for (const t of table.targets) {
    expect(field(`target[${t.slot}].port`).value).toBe(String(u16(bytes, t.offset + 22)));
    // The heap range of each string is where its length/offset words point.
    for (const key of ['name', 'chapName', 'chapSecret', 'reverseChapName', 'reverseChapSecret']) {
      const len = Number(field(`target[${t.slot}].${key}.length`).value);
      const off = Number(field(`target[${t.slot}].${key}.offset`).value);
      const heap = map.fields.find((f) => f.path === `target[${t.slot}].${key}`);
      if (len) expect(heap).toMatchObject({ offset: off, length: len, kind: 'heap' });
      else expect(heap).toBeUndefined();
    }
  }
  return map;
}

const sharedFixture = '/work/shared/fixtures/ibft/stock-ipxe-tgt/ibft.bin';

describe('ibftFieldMap on real tables', () => {
  const tables: Array<[string, Uint8Array]> = [
    ['packages/ibft/test/fixtures/stock-ipxe-tgt', loadFixture('stock-ipxe-tgt').bin],
    ['packages/ibft/test/fixtures/stock-ipxe-tgt-mutual-chap', loadFixture('stock-ipxe-tgt-mutual-chap').bin],
    ...(existsSync(sharedFixture) ? [['shared/fixtures/ibft/stock-ipxe-tgt', new Uint8Array(readFileSync(sharedFixture))] as [string, Uint8Array]] : []),
  ];

  it.each(tables)('%s: every field where the spec puts it, values re-read from the bytes', (_name, bytes) => {
    const { table, problems } = decodeIbft(bytes);
    expect(problems).toEqual([]);
    checkMap(bytes, table!);
  });

  it('stock iPXE (one NIC, one target): regions in table order, strings in the heap after the structures', () => {
    const bytes = loadFixture('stock-ipxe-tgt').bin;
    const map = ibftFieldMap(decodeIbft(bytes).table!);
    expect(map.regions.map((r) => [r.structure, r.offset, r.length])).toEqual([
      ['header', 0, 36],
      ['reserved', 36, 12],
      ['control', 48, 18],
      ['initiator', 80, 74],
      ['nic[0]', 160, 102],
      ['target[0]', 384, 54],
    ]);
    const heap = map.fields.filter((f) => f.kind === 'heap');
    expect(heap.map((f) => [f.path, f.value, f.comparePath])).toEqual([
      ['initiator.name', 'iqn.2010-04.org.ipxe:foobar', 'initiator.name'],
      ['target[0].name', 'iqn.2003-01.org.example:lab', 'target[0].name'],
    ]);
    expect(heap.map((f) => [f.offset, f.length])).toEqual([
      [512, 27],
      [540, 27],
    ]);
    const get = (path: string) => map.fields.find((f) => f.path === path);
    expect(get('nic[0].ip')).toMatchObject({ offset: 166, length: 16, value: '10.0.2.15', comparePath: 'nic[0].ip' });
    expect(get('nic[0].primaryDns')).toMatchObject({ value: '10.0.2.3', comparePath: 'nic[0].dns' });
    expect(get('nic[0].prefixLength')).toMatchObject({ value: '24 (255.255.255.0)', comparePath: 'nic[0].prefix' });
    expect(get('nic[0].origin')?.value).toBe('3 (dhcp)');
    expect(get('nic[0].pci')?.value).toBe('00:03.0 (0x0018)');
    expect(get('target[0].lun')).toMatchObject({ value: '1 (0001-0000-0000-0000)', comparePath: 'target[0].lun' });
    expect(get('target[0].chapType')?.value).toBe('0 (none)');
    expect(get('initiator.header.flags')?.value).toBe('0x03 (valid, boot selected)');
    expect(get('header.signature')?.value).toBe('iBFT');
    expect(get('control.nicOffsets[0]')?.value).toBe('160');
    expect(map.fields.some((f) => f.secret)).toBe(false);
  });

  it('mutual CHAP, two targets: secrets flagged at their heap bytes, masked when the table is redacted; every compared path has a field', () => {
    const fx = loadFixture('stock-ipxe-tgt-mutual-chap');
    const table = decodeIbft(fx.bin).table!;
    const map = ibftFieldMap(table);
    const secrets = map.fields.filter((f) => f.secret);
    expect(secrets.map((f) => [f.path, f.offset, f.length])).toEqual([
      ['target[0].chapSecret', 586, 16],
      ['target[0].reverseChapSecret', 613, 14],
      ['target[1].chapSecret', 673, 16],
      ['target[1].reverseChapSecret', 700, 14],
    ]);
    for (const f of secrets) {
      const want = f.path.endsWith('reverseChapSecret') ? fx.expected!.targets![0].reverseChapSecret : fx.expected!.targets![0].chapSecret;
      expect(Buffer.from(fx.bin.subarray(f.offset, f.offset + f.length)).toString('latin1')).toBe(want);
    }
    const redacted = ibftFieldMap(redactTable(table));
    for (const f of redacted.fields.filter((x) => x.secret)) expect(f.value).toBe(MASKED_SECRET);
    expect(JSON.stringify(redacted)).not.toContain(fx.expected!.targets![0].chapSecret);
    expect(JSON.stringify(redacted)).not.toContain(fx.expected!.targets![0].reverseChapSecret);

    const comparePaths = new Set(map.fields.map((f) => f.comparePath).filter(Boolean));
    const expected = fx.expected!;
    const paths = [
      ...Object.keys(expected.initiator ?? {}).map((k) => `initiator.${k}`),
      ...(expected.nics ?? []).flatMap((n, i) => Object.keys(n).map((k) => `nic[${i}].${k}`)),
      ...(expected.targets ?? []).flatMap((t, i) => Object.keys(t).map((k) => `target[${i}].${k}`)),
    ];
    expect(paths.length).toBeGreaterThan(20);
    for (const path of paths) expect(comparePaths).toContain(path);
  });

  it('a control structure longer than 18 bytes: its further NIC/target offset pairs are fields too', () => {
    const { bytes } = encodeIbftLayout({ initiator: { name: 'iqn.2010-04.org.ipxe:x' }, nics: [{ ip: '10.0.2.15' }], targets: [{ name: 'iqn.2003-01.org.example:t' }] });
    // Control at 0x30, 22 bytes long: a third pair (nic2 @18, target2 @20, both unused) before the initiator at 0x50.
    bytes[0x32] = 22;
    fixChecksum(bytes);
    const { table } = decodeIbft(bytes);
    expect(table!.control!.nicOffsets).toHaveLength(3);
    const map = checkMap(bytes, table!);
    expect(map.regions.find((r) => r.structure === 'control')).toMatchObject({ offset: 48, length: 22 });
    expect(structureLayout(map, 'control').slice(SPEC.control.length)).toEqual([
      ['nicOffsets[2]', 18, 2],
      ['targetOffsets[2]', 20, 2],
    ]);
  });

  it('strings that share heap bytes: one field per byte, and a secret keeps its bytes', () => {
    const { bytes, targetOffsets } = encodeIbftLayout({
      initiator: { name: 'iqn.2010-04.org.ipxe:x' },
      nics: [{ ip: '10.0.2.15' }],
      targets: [{ name: 'iqn.2003-01.org.example:t', chapType: 1, chapName: 'samesame', chapSecret: 'samesame' }],
    });
    // Point the CHAP name at the secret's bytes (same length).
    const view = new DataView(bytes.buffer);
    view.setUint16(targetOffsets[0] + 40, view.getUint16(targetOffsets[0] + 44, true), true);
    fixChecksum(bytes);
    const table = decodeIbft(bytes).table!;
    const map = ibftFieldMap(table);
    const at = table.targets[0].chapSecret!.offset;
    const owners = map.fields.filter((f) => at >= f.offset && at < f.offset + f.length);
    expect(owners.map((f) => [f.path, f.secret])).toEqual([['target[0].chapSecret', true]]);
  });
});
