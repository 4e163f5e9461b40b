// Where every field of a decoded iBFT (spec v1.03) sits in the table's bytes:
// offset, length, path and decoded value of each field of each structure, and
// the heap range of each string. Pure layout, for annotated hex dumps; the
// values are taken from the decoded table given (pass a redacted table and the
// secrets stay masked).
import type { IbftString, IbftTable, IpAddress, StructureHeader } from './structures';
import { STRUCTURE_SIZE } from './structures';

/** What a byte range belongs to; the colour of a hex dump. */
export type IbftRegionKind = 'acpi-header' | 'reserved' | 'control' | 'initiator' | 'nic' | 'target' | 'heap';

export interface IbftField {
  /**
   * The field's path in the decoded table: `header.oemId`, `control.nicOffsets[1]`, `nic[0].primaryDns`,
   * `target[0].chapName.length` (the length word), `target[0].chapName` (the string's bytes in the heap).
   */
  path: string;
  /** A human name: "Primary DNS server", "CHAP name (length)". */
  name: string;
  offset: number;
  length: number;
  kind: IbftRegionKind;
  /** The structure the field belongs to: `header`, `control`, `initiator`, `nic[0]`, `target[1]`; a string's owner for heap bytes. */
  structure: string;
  /** The decoded value as text. */
  value: string;
  /** compareIbft's path for this value (`nic[0].dns`, `target[0].lun`), when compareIbft checks it. */
  comparePath?: string;
  /** A CHAP or reverse CHAP secret's bytes (its heap range; the length and offset words are not secret). */
  secret?: true;
}

export interface IbftRegion {
  kind: IbftRegionKind;
  /** `header`, `reserved`, `control`, `initiator`, `nic[0]`, `target[1]`. */
  structure: string;
  offset: number;
  length: number;
}

export interface IbftFieldMap {
  /** The fixed structures in table order (the heap's strings are fields of kind `heap`). */
  regions: IbftRegion[];
  /** Every field, sorted by offset; no two overlap. */
  fields: IbftField[];
}

const hex = (n: number, digits: number) => `0x${n.toString(16).padStart(digits, '0')}`;
const address = (a: IpAddress) => (a.unset ? `${a.address} (unset)` : a.address);

function flagNames(kind: IbftRegionKind, flags: number): string {
  const bits: Record<string, string[]> = {
    initiator: ['valid', 'boot selected'],
    nic: ['valid', 'boot selected', 'global'],
    target: ['valid', 'boot selected', 'RADIUS CHAP', 'RADIUS reverse CHAP'],
  };
  const names = (bits[kind] ?? []).filter((_, i) => flags & (1 << i));
  return names.length ? `${hex(flags, 2)} (${names.join(', ')})` : hex(flags, 2);
}

/** Fields of the 6-byte header every structure starts with. */
function headerFields(structure: string, kind: IbftRegionKind, at: number, h: StructureHeader): IbftField[] {
  const f = (rel: number, length: number, key: string, name: string, value: string): IbftField => ({
    path: `${structure}.header.${key}`,
    name,
    offset: at + rel,
    length,
    kind,
    structure,
    value,
  });
  return [
    f(0, 1, 'id', 'Structure id', String(h.id)),
    f(1, 1, 'version', 'Structure version', String(h.version)),
    f(2, 2, 'length', 'Structure length', String(h.length)),
    f(4, 1, 'index', 'Structure index', String(h.index)),
    f(5, 1, 'flags', 'Flags', flagNames(kind, h.flags)),
  ];
}

interface StringSpec {
  key: string;
  name: string;
  /** Offset of the length word inside the structure; the offset word follows it. */
  at: number;
  value: IbftString | null;
  comparePath?: string;
  secret?: boolean;
}

/** The length and offset words of a string, and its bytes in the heap when it is present. */
function stringFields(structure: string, kind: IbftRegionKind, base: number, s: StringSpec): IbftField[] {
  const path = `${structure}.${s.key}`;
  const out: IbftField[] = [
    { path: `${path}.length`, name: `${s.name} (length)`, offset: base + s.at, length: 2, kind, structure, value: String(s.value?.length ?? 0) },
    { path: `${path}.offset`, name: `${s.name} (offset)`, offset: base + s.at + 2, length: 2, kind, structure, value: String(s.value?.offset ?? 0) },
  ];
  if (s.value && s.value.length > 0) {
    out.push({
      path,
      name: s.name,
      offset: s.value.offset,
      length: s.value.length,
      kind: 'heap',
      structure,
      value: s.value.value,
      ...(s.comparePath ? { comparePath: s.comparePath } : {}),
      ...(s.secret ? { secret: true as const } : {}),
    });
  }
  return out;
}

/** The byte layout of a decoded table: each structure's fields and each string's heap range. */
export function ibftFieldMap(table: IbftTable): IbftFieldMap {
  const regions: IbftRegion[] = [];
  const fields: IbftField[] = [];
  const h = table.header;

  regions.push({ kind: 'acpi-header', structure: 'header', offset: 0, length: STRUCTURE_SIZE.acpiHeader });
  const acpi = (offset: number, length: number, key: string, name: string, value: string) =>
    fields.push({ path: `header.${key}`, name, offset, length, kind: 'acpi-header', structure: 'header', value });
  acpi(0, 4, 'signature', 'Signature', h.signature);
  acpi(4, 4, 'length', 'Table length', String(h.length));
  acpi(8, 1, 'revision', 'Revision', String(h.revision));
  acpi(9, 1, 'checksum', 'Checksum', `${hex(h.checksum, 2)} (bytes sum to ${hex(table.checksumSum, 2)})`);
  acpi(10, 6, 'oemId', 'OEM id', h.oemId);
  acpi(16, 8, 'oemTableId', 'OEM table id', h.oemTableId);
  acpi(24, 4, 'oemRevision', 'OEM revision', String(h.oemRevision));
  acpi(28, 4, 'creatorId', 'Creator id', h.creatorId);
  acpi(32, 4, 'creatorRevision', 'Creator revision', String(h.creatorRevision));
  regions.push({ kind: 'reserved', structure: 'reserved', offset: STRUCTURE_SIZE.acpiHeader, length: STRUCTURE_SIZE.tableHeader - STRUCTURE_SIZE.acpiHeader });
  fields.push({
    path: 'reserved',
    name: 'Reserved',
    offset: STRUCTURE_SIZE.acpiHeader,
    length: STRUCTURE_SIZE.tableHeader - STRUCTURE_SIZE.acpiHeader,
    kind: 'reserved',
    structure: 'reserved',
    value: '',
  });

  const control = table.control;
  if (control) {
    const at = STRUCTURE_SIZE.tableHeader;
    // The initiator offset, then nic/target pairs for as long as the control structure is.
    const slots = 1 + control.nicOffsets.length + control.targetOffsets.length;
    regions.push({ kind: 'control', structure: 'control', offset: at, length: 8 + slots * 2 });
    fields.push(...headerFields('control', 'control', at, control.header));
    const c = (rel: number, key: string, name: string, value: number) =>
      fields.push({ path: `control.${key}`, name, offset: at + rel, length: 2, kind: 'control', structure: 'control', value: String(value) });
    c(6, 'extensions', 'Extensions', control.extensions);
    c(8, 'initiatorOffset', 'Initiator offset', control.initiatorOffset);
    for (let i = 0; i < slots - 1; i++) {
      const pair = Math.floor(i / 2);
      if (i % 2 === 0) c(10 + i * 2, `nicOffsets[${pair}]`, `NIC ${pair} offset`, control.nicOffsets[pair]);
      else c(10 + i * 2, `targetOffsets[${pair}]`, `Target ${pair} offset`, control.targetOffsets[pair]);
    }
  }

  const ini = table.initiator;
  if (ini) {
    const s = 'initiator';
    const at = ini.offset;
    regions.push({ kind: 'initiator', structure: s, offset: at, length: STRUCTURE_SIZE.initiator });
    fields.push(...headerFields(s, 'initiator', at, ini.header));
    const ip = (rel: number, key: string, name: string, value: IpAddress) =>
      fields.push({ path: `${s}.${key}`, name, offset: at + rel, length: 16, kind: 'initiator', structure: s, value: address(value) });
    ip(6, 'isnsServer', 'iSNS server', ini.isnsServer);
    ip(22, 'slpServer', 'SLP server', ini.slpServer);
    ip(38, 'primaryRadiusServer', 'Primary RADIUS server', ini.primaryRadiusServer);
    ip(54, 'secondaryRadiusServer', 'Secondary RADIUS server', ini.secondaryRadiusServer);
    fields.push(...stringFields(s, 'initiator', at, { key: 'name', name: 'Initiator name', at: 70, value: ini.name, comparePath: 'initiator.name' }));
  }

  for (const nic of table.nics) {
    const s = `nic[${nic.slot}]`;
    const at = nic.offset;
    regions.push({ kind: 'nic', structure: s, offset: at, length: STRUCTURE_SIZE.nic });
    fields.push(...headerFields(s, 'nic', at, nic.header));
    const f = (rel: number, length: number, key: string, name: string, value: string, compare?: string) =>
      fields.push({
        path: `${s}.${key}`,
        name,
        offset: at + rel,
        length,
        kind: 'nic',
        structure: s,
        value,
        ...(compare ? { comparePath: `${s}.${compare}` } : {}),
      });
    f(6, 16, 'ip', 'IP address', address(nic.ip), 'ip');
    f(22, 1, 'prefixLength', 'Prefix length', `${nic.prefixLength} (${nic.subnetMask})`, 'prefix');
    f(23, 1, 'origin', 'Origin', `${nic.origin} (${nic.originName})`, 'origin');
    f(24, 16, 'gateway', 'Gateway', address(nic.gateway), 'gateway');
    f(40, 16, 'primaryDns', 'Primary DNS server', address(nic.primaryDns), 'dns');
    f(56, 16, 'secondaryDns', 'Secondary DNS server', address(nic.secondaryDns), 'secondaryDns');
    f(72, 16, 'dhcp', 'DHCP server', address(nic.dhcp), 'dhcp');
    f(88, 2, 'vlan', 'VLAN', String(nic.vlan), 'vlan');
    f(90, 6, 'mac', 'MAC address', nic.mac, 'mac');
    const pci = `${nic.pci.bus.toString(16).padStart(2, '0')}:${nic.pci.device.toString(16).padStart(2, '0')}.${nic.pci.function}`;
    f(96, 2, 'pci', 'PCI bus/device/function', `${pci} (${hex(nic.pci.raw, 4)})`);
    fields.push(...stringFields(s, 'nic', at, { key: 'hostname', name: 'Hostname', at: 98, value: nic.hostname, comparePath: `${s}.hostname` }));
  }

  for (const t of table.targets) {
    const s = `target[${t.slot}]`;
    const at = t.offset;
    regions.push({ kind: 'target', structure: s, offset: at, length: STRUCTURE_SIZE.target });
    fields.push(...headerFields(s, 'target', at, t.header));
    const f = (rel: number, length: number, key: string, name: string, value: string, compare?: string) =>
      fields.push({
        path: `${s}.${key}`,
        name,
        offset: at + rel,
        length,
        kind: 'target',
        structure: s,
        value,
        ...(compare ? { comparePath: `${s}.${compare}` } : {}),
      });
    f(6, 16, 'ip', 'Target IP address', address(t.ip), 'ip');
    f(22, 2, 'port', 'Port', String(t.port), 'port');
    f(24, 8, 'lun', 'LUN', t.lun.number === null ? t.lun.text : `${t.lun.number} (${t.lun.text})`, 'lun');
    f(32, 1, 'chapType', 'CHAP type', `${t.chapType} (${t.chapTypeName})`, 'chapType');
    f(33, 1, 'nicAssociation', 'NIC association', String(t.nicAssociation), 'nicAssociation');
    const strings: StringSpec[] = [
      { key: 'name', name: 'Target name', at: 34, value: t.name },
      { key: 'chapName', name: 'CHAP name', at: 38, value: t.chapName },
      { key: 'chapSecret', name: 'CHAP secret', at: 42, value: t.chapSecret, secret: true },
      { key: 'reverseChapName', name: 'Reverse CHAP name', at: 46, value: t.reverseChapName },
      { key: 'reverseChapSecret', name: 'Reverse CHAP secret', at: 50, value: t.reverseChapSecret, secret: true },
    ];
    for (const spec of strings) fields.push(...stringFields(s, 'target', at, { ...spec, comparePath: `${s}.${spec.key}` }));
  }

  regions.sort((a, b) => a.offset - b.offset);
  // Two strings may share heap bytes (a table may point both at one string): keep the first, sorted by offset.
  fields.sort((a, b) => a.offset - b.offset || b.length - a.length);
  const kept: IbftField[] = [];
  for (const field of fields) {
    const last = kept[kept.length - 1];
    if (last && field.offset < last.offset + last.length) {
      // A secret always wins its bytes, so masking them never depends on the order.
      if (field.secret && !last.secret) kept[kept.length - 1] = field;
      continue;
    }
    kept.push(field);
  }
  return { regions, fields: kept };
}
