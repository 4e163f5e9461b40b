// What Linux's iscsi_ibft module makes of a decoded table: which kobjects it
// registers under /sys/firmware/ibft and the exact bytes of every attribute
// file. Follows drivers/firmware/iscsi_ibft.c (ibft_check_device,
// ibft_register_kobjects, ibft_create_kobject, ibft_verify_hdr, the
// ibft_attr_show_* and ibft_check_*_for functions) and
// drivers/scsi/iscsi_boot_sysfs.c (kobject names).
//
// Attribute contents are "byte strings": one JS char per byte (Latin-1), so
// raw, non-UTF-8 bytes survive; Buffer.from(content, 'latin1') gives the file.
import { linuxIpv6, prefixToMask } from './address';
import { kobjectName, slotAt } from './decode';
import { STRUCTURE_ID, STRUCTURE_SIZE, type IbftString, type IbftTable, type Initiator, type IpAddress, type Nic, type SlotKind, type Target } from './structures';

export interface SysfsAttribute {
  /** File name, e.g. `ip-addr`. */
  name: string;
  /** The file's bytes, one char per byte (Latin-1). Most end in "\n"; `subnet-mask` does not (Linux prints none). */
  content: string;
  /** chap-secret and rev-chap-name-secret. */
  secret?: true;
}

export interface SysfsKobject {
  /** Directory name under /sys/firmware/ibft: acpi_header, initiator, ethernet<index>, target<index>. */
  name: string;
  kind: 'acpi_header' | SlotKind;
  attributes: SysfsAttribute[];
  /** The decoded structure behind it (absent for acpi_header). */
  structure?: Initiator | Nic | Target;
}

export type LinuxSysfs =
  | { shown: true; kobjects: SysfsKobject[] }
  /** Linux shows no /sys/firmware/ibft at all; `reason` says which check in iscsi_ibft.c refuses it. */
  | { shown: false; reason: string; kobjects: [] };

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

/** sprintf_ipaddr: IPv4-mapped as %pI4, anything else as %pI6 (never compressed); then "\n". */
function ipaddr(a: IpAddress): string {
  return `${a.family === 'ipv4' ? a.address : linuxIpv6(a.address)}\n`;
}

/** address_not_null: neither all zeros nor ::ffff:0.0.0.0. */
const notNull = (a: IpAddress) => !a.unset;

/** The bytes Linux's "%.*s" prints for a string field: up to its length or the first NUL, raw. */
export function stringBytes(s: IbftString | null): Uint8Array {
  if (!s) return new Uint8Array(0);
  const raw = s.hex !== undefined && !s.masked ? Buffer.from(s.hex, 'hex') : Buffer.from(s.value, 'utf8');
  const nul = raw.indexOf(0);
  return nul >= 0 ? raw.subarray(0, nul) : raw;
}

/** sprintf_string: "%.*s\n". */
const str = (s: IbftString | null) => `${latin1(stringBytes(s))}\n`;
const dec = (n: number) => `${n}\n`;

function acpiHeader(table: IbftTable): SysfsKobject {
  // The header ids were decoded one char per byte up to a NUL, which is what "%.*s" prints.
  const h = table.header;
  return {
    name: 'acpi_header',
    kind: 'acpi_header',
    attributes: [
      { name: 'signature', content: `${h.signature}\n` },
      { name: 'oem_id', content: `${h.oemId}\n` },
      { name: 'oem_table_id', content: `${h.oemTableId}\n` },
    ],
  };
}

function initiatorAttributes(ini: Initiator): SysfsAttribute[] {
  const a: SysfsAttribute[] = [
    { name: 'index', content: dec(ini.header.index) },
    { name: 'flags', content: dec(ini.header.flags) },
  ];
  if (notNull(ini.isnsServer)) a.push({ name: 'isns-server', content: ipaddr(ini.isnsServer) });
  if (notNull(ini.slpServer)) a.push({ name: 'slp-server', content: ipaddr(ini.slpServer) });
  if (notNull(ini.primaryRadiusServer)) a.push({ name: 'pri-radius-server', content: ipaddr(ini.primaryRadiusServer) });
  if (notNull(ini.secondaryRadiusServer)) a.push({ name: 'sec-radius-server', content: ipaddr(ini.secondaryRadiusServer) });
  if (ini.name && ini.name.length) a.push({ name: 'initiator-name', content: str(ini.name) });
  return a;
}

function nicAttributes(nic: Nic): SysfsAttribute[] {
  const a: SysfsAttribute[] = [
    { name: 'index', content: dec(nic.header.index) },
    { name: 'flags', content: dec(nic.header.flags) },
  ];
  if (notNull(nic.ip)) a.push({ name: 'ip-addr', content: ipaddr(nic.ip) });
  if (nic.prefixLength) {
    a.push({ name: 'prefix-len', content: dec(nic.prefixLength) });
    // ISCSI_BOOT_ETH_SUBNET_MASK is printed "%pI4" with no newline.
    a.push({ name: 'subnet-mask', content: prefixToMask(nic.prefixLength) });
  }
  a.push({ name: 'origin', content: dec(nic.origin) });
  if (notNull(nic.gateway)) a.push({ name: 'gateway', content: ipaddr(nic.gateway) });
  if (notNull(nic.primaryDns)) a.push({ name: 'primary-dns', content: ipaddr(nic.primaryDns) });
  if (notNull(nic.secondaryDns)) a.push({ name: 'secondary-dns', content: ipaddr(nic.secondaryDns) });
  if (notNull(nic.dhcp)) a.push({ name: 'dhcp', content: ipaddr(nic.dhcp) });
  a.push({ name: 'vlan', content: dec(nic.vlan) });
  a.push({ name: 'mac', content: `${nic.mac}\n` });
  // Visible whenever hostname_off is non-zero, even with length 0.
  if (nic.hostname && nic.hostname.offset) a.push({ name: 'hostname', content: str(nic.hostname) });
  return a;
}

function targetAttributes(t: Target): SysfsAttribute[] {
  const a: SysfsAttribute[] = [
    { name: 'index', content: dec(t.header.index) },
    { name: 'flags', content: dec(t.header.flags) },
    { name: 'ip-addr', content: ipaddr(t.ip) },
    { name: 'port', content: dec(t.port) },
    // Eight bytes, each "%x" without padding: LUN 1 (00 01 00 ...) prints 01000000.
    { name: 'lun', content: `${t.lun.hex.match(/../g)!.map((b) => parseInt(b, 16).toString(16)).join('')}\n` },
    { name: 'chap-type', content: dec(t.chapType) },
    { name: 'nic-assoc', content: dec(t.nicAssociation) },
  ];
  if (t.name && t.name.length) a.push({ name: 'target-name', content: str(t.name) });
  // chap-name and chap-secret are both visible when chap_name_len is non-zero; the secret file shows
  // whatever chap_secret_len/off say (empty when there is none). Same for the reverse pair.
  if (t.chapName && t.chapName.length) {
    a.push({ name: 'chap-name', content: str(t.chapName) });
    a.push({ name: 'chap-secret', content: str(t.chapSecret), secret: true });
  }
  if (t.reverseChapName && t.reverseChapName.length) {
    a.push({ name: 'rev-chap-name', content: str(t.reverseChapName) });
    a.push({ name: 'rev-chap-name-secret', content: str(t.reverseChapSecret), secret: true });
  }
  return a;
}

/**
 * ibft_register_kobjects' `eot_offset`: the table length minus the 48-byte header, kept in a u16, so it
 * wraps for tables over 65583 bytes. A slot registers only when `offset < length && offset < eot_offset`.
 */
export function linuxEndOfTable(length: number): number {
  return (length - STRUCTURE_SIZE.tableHeader) & 0xffff;
}

const SIZE: Record<SlotKind, number> = { initiator: STRUCTURE_SIZE.initiator, nic: STRUCTURE_SIZE.nic, target: STRUCTURE_SIZE.target };
const ID: Record<SlotKind, number> = { initiator: STRUCTURE_ID.initiator, nic: STRUCTURE_ID.nic, target: STRUCTURE_ID.target };

/**
 * What Linux shows under /sys/firmware/ibft for `table`: nothing when ibft_check_device (revision 1,
 * checksum 0) or the control check (id 1, index 0, length >= 18) fails, or when two structures would get
 * the same kobject name (kobject_add fails with EEXIST, ibft_register_kobjects returns the error, ibft_init
 * tears the whole kset down); else one kobject per structure a control slot points at whose offset passes
 * `offset < length && offset < eot_offset` (length - 48, in 16 bits: see linuxEndOfTable) and whose header id
 * and length are right, in slot order, plus acpi_header.
 */
export function linuxSysfs(table: IbftTable): LinuxSysfs {
  const refuse = (reason: string): LinuxSysfs => ({ shown: false, reason, kobjects: [] });
  if (table.header.revision !== 1) return refuse(`revision is ${table.header.revision}, not 1 (ibft_check_device)`);
  if (table.checksumSum !== 0) return refuse('the checksum is wrong (ibft_check_device)');
  const c = table.control;
  if (!c) return refuse('the table has no room for a control structure');
  if (c.header.id !== STRUCTURE_ID.control || c.header.index !== 0 || c.header.length < STRUCTURE_SIZE.control) {
    return refuse('Control header is invalid (ibft_register_kobjects: id must be 1, index 0, length at least 18)');
  }
  const length = table.header.length;
  const eot = linuxEndOfTable(length);
  const byOffset = new Map<number, { kind: SlotKind; structure: Initiator | Nic | Target }>();
  if (table.initiator) byOffset.set(table.initiator.offset, { kind: 'initiator', structure: table.initiator });
  for (const n of table.nics) byOffset.set(n.offset, { kind: 'nic', structure: n });
  for (const t of table.targets) byOffset.set(t.offset, { kind: 'target', structure: t });

  const slots = [c.initiatorOffset];
  for (let k = 0; k < Math.max(c.nicOffsets.length, c.targetOffsets.length); k++) {
    if (k < c.nicOffsets.length) slots.push(c.nicOffsets[k]);
    if (k < c.targetOffsets.length) slots.push(c.targetOffsets[k]);
  }
  const kobjects: SysfsKobject[] = [];
  const names = new Set<string>();
  for (let p = 0; p < slots.length; p++) {
    const offset = slots[p];
    if (!offset || offset >= length || offset >= eot) continue;
    const found = byOffset.get(offset);
    // Nothing decoded there: an id Linux ignores, or a structure the decoder could not read (its problems say why).
    if (!found) continue;
    const { kind, structure } = found;
    if (structure.header.id !== ID[kind] || structure.header.length !== SIZE[kind]) continue;
    const name = kobjectName(kind, structure.header.index);
    if (names.has(name)) {
      const { kind: slotKind, slot } = slotAt(p);
      return refuse(`two structures would both be ${name} (the second from the ${slotKind} slot ${slot}): kobject_add fails with EEXIST and ibft_init removes everything`);
    }
    names.add(name);
    const attributes = kind === 'initiator' ? initiatorAttributes(structure as Initiator) : kind === 'nic' ? nicAttributes(structure as Nic) : targetAttributes(structure as Target);
    kobjects.push({ name, kind, attributes, structure });
  }
  kobjects.push(acpiHeader(table));
  return { shown: true, kobjects };
}

/**
 * Linux's kernfs name hash (fs/kernfs/dir.c kernfs_name_hash with a NULL namespace): the order readdir
 * lists a sysfs directory in (ascending hash, then strcmp). Checked against `ls -f` of live sysfs
 * directories. partial_name_hash is `(prev + (c << 4) + (c >> 4)) * 11` on an unsigned long; end_name_hash
 * is hash_long(hash, 32), i.e. (hash * GOLDEN_RATIO_64) >> 32 on 64-bit.
 */
export function kernfsNameHash(name: string): number {
  const MASK = (1n << 64n) - 1n;
  let hash = 0n;
  for (const byte of Buffer.from(name, 'latin1')) {
    // `*name++` is a (signed) char promoted to unsigned long.
    const c = BigInt.asUintN(64, BigInt(byte >= 0x80 ? byte - 256 : byte));
    hash = ((hash + (c << 4n) + (c >> 4n)) * 11n) & MASK;
  }
  let h = Number(((hash * 0x61c8864680b583ebn) & MASK) >> 32n) & 0x7fffffff;
  if (h < 2) h += 2;
  if (h >= 0x7fffffff) h = 0x7ffffffe;
  return h;
}

/** Names in the order readdir returns them from a sysfs directory. */
export function kernfsOrder(names: string[]): string[] {
  return names
    .map((name) => ({ name, hash: kernfsNameHash(name) }))
    .sort((a, b) => a.hash - b.hash || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((e) => e.name);
}
