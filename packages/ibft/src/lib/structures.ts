// Types for a decoded iSCSI Boot Firmware Table (spec v1.03). Every value is
// JSON-friendly so a decoded table can be written to a report as it is.

/** Structure ids of the iBFT spec (Linux `enum ibft_id`). */
export const STRUCTURE_ID = {
  reserved: 0,
  control: 1,
  initiator: 2,
  nic: 3,
  target: 4,
  extensions: 5,
} as const;

/** Fixed sizes from the spec; Linux rejects a structure whose header length differs. */
export const STRUCTURE_SIZE = {
  acpiHeader: 36,
  /** ACPI header plus 12 reserved bytes: where the control structure starts. */
  tableHeader: 48,
  control: 18,
  initiator: 74,
  nic: 102,
  target: 54,
} as const;

/** Table signatures Linux accepts (ACPI spec says IBFT, iBFT spec says iBFT, Broadcom offload writes BIFT). */
export const IBFT_SIGNATURES = ['iBFT', 'IBFT', 'BIFT'] as const;

export interface Problem {
  /** Field path inside the table, e.g. `header.checksum`, `nic[0].hostname`, `target[1].header.length`. */
  path: string;
  message: string;
  /** `error` makes the table invalid; `warning` is odd but tolerated (Linux would still show it). */
  severity: 'error' | 'warning';
}

export interface AcpiHeader {
  signature: string;
  length: number;
  revision: number;
  checksum: number;
  oemId: string;
  oemTableId: string;
  oemRevision: number;
  creatorId: string;
  creatorRevision: number;
}

/** The 6-byte header every iBFT structure starts with. */
export interface StructureHeader {
  id: number;
  version: number;
  length: number;
  index: number;
  flags: number;
}

export interface Control {
  header: StructureHeader;
  extensions: number;
  initiatorOffset: number;
  /**
   * NIC structure offsets in slot order (nic0, nic1, ...); 0 = slot unused. The spec's 18 bytes hold two
   * pairs; a longer control (iPXE and EDK2 write one for more than two pairs) holds more u16 slots after
   * them, alternating NIC, target, and all of them are read.
   */
  nicOffsets: number[];
  /** Target structure offsets in slot order; 0 = slot unused. */
  targetOffsets: number[];
}

/** The kind of structure a control slot is for: slot 0 is the initiator, then NIC, target, NIC, target, ... */
export type SlotKind = 'initiator' | 'nic' | 'target';

/**
 * A 16-byte iBFT address. IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) and shown
 * as a dotted quad; anything else is IPv6 (RFC 5952 text here; formatters choose
 * their own notation).
 */
export interface IpAddress {
  family: 'ipv4' | 'ipv6';
  address: string;
  /** All zeros or ::ffff:0.0.0.0: Linux treats the field as absent. */
  unset: boolean;
}

/** A length/offset string. Absent strings (offset 0, length 0) decode to null. */
export interface IbftString {
  offset: number;
  length: number;
  /**
   * The text Linux prints (`%.*s`: up to the length or the first NUL), decoded as UTF-8. Bytes that are
   * not valid UTF-8 show as U+FFFD here; `hex` then holds the real bytes.
   */
  value: string;
  /**
   * All `length` bytes as lower-case hex, present only when `value` does not say them exactly (bytes that
   * are not valid UTF-8, or a NUL inside the length). Formatters print these bytes, as Linux does.
   */
  hex?: string;
  /** Set by the formatters' secret masking: `value` is MASKED_SECRET, not the table's bytes. */
  masked?: true;
}

export interface Initiator {
  offset: number;
  /** As Nic.via: the kind of control slot that pointed here, when it is not the initiator slot. */
  via?: SlotKind;
  header: StructureHeader;
  valid: boolean;
  bootSelected: boolean;
  isnsServer: IpAddress;
  slpServer: IpAddress;
  primaryRadiusServer: IpAddress;
  secondaryRadiusServer: IpAddress;
  name: IbftString | null;
}

/** Origin of a NIC's address (spec: Windows NL_PREFIX_ORIGIN values). */
export const ORIGIN_NAMES: Record<number, string> = {
  0: 'other',
  1: 'manual',
  2: 'well-known',
  3: 'dhcp',
  4: 'router-advertisement',
  15: 'unchanged',
};

export interface PciAddress {
  /** The raw 16-bit bus/device/function word. */
  raw: number;
  bus: number;
  device: number;
  function: number;
}

export interface Nic {
  /** Slot in the control structure (nic0 = 0, nic1 = 1, ...). */
  slot: number;
  /**
   * Present only when the structure was reached through a control slot of another kind (e.g. a NIC
   * structure in a target slot): Linux registers a structure by its own id, whatever slot points at it.
   */
  via?: SlotKind;
  offset: number;
  header: StructureHeader;
  valid: boolean;
  bootSelected: boolean;
  /** Flags bit 2: the address is global (not link-local). */
  global: boolean;
  ip: IpAddress;
  prefixLength: number;
  /** Dotted-quad mask derived from prefixLength (IPv4 tables). */
  subnetMask: string;
  origin: number;
  originName: string;
  gateway: IpAddress;
  primaryDns: IpAddress;
  secondaryDns: IpAddress;
  dhcp: IpAddress;
  vlan: number;
  /** Lower-case colon-separated MAC address. */
  mac: string;
  pci: PciAddress;
  hostname: IbftString | null;
}

export type ChapTypeName = 'none' | 'chap' | 'mutual' | 'unknown';
export const CHAP_TYPE_NAMES: Record<number, ChapTypeName> = { 0: 'none', 1: 'chap', 2: 'mutual' };

export interface Lun {
  /** The 8 bytes as 16 lower-case hex digits. */
  hex: string;
  /** The four big-endian 16-bit words (SCSI LUN levels). */
  words: number[];
  /** iPXE/SCSI notation: four 4-digit hex words joined by '-', e.g. 0001-0000-0000-0000. */
  text: string;
  /** Single-level LUN number when the encoding is peripheral or flat addressing; null otherwise. */
  number: number | null;
}

export interface Target {
  /** Slot in the control structure (target0 = 0, target1 = 1, ...). */
  slot: number;
  /** As Nic.via: the kind of control slot that pointed here, when it is not a target slot. */
  via?: SlotKind;
  offset: number;
  header: StructureHeader;
  valid: boolean;
  bootSelected: boolean;
  radiusChap: boolean;
  radiusReverseChap: boolean;
  ip: IpAddress;
  port: number;
  lun: Lun;
  chapType: number;
  chapTypeName: ChapTypeName;
  nicAssociation: number;
  name: IbftString | null;
  chapName: IbftString | null;
  chapSecret: IbftString | null;
  reverseChapName: IbftString | null;
  reverseChapSecret: IbftString | null;
}

export interface IbftTable {
  header: AcpiHeader;
  /** Sum of the table's bytes mod 256 (0 for a correct table). */
  checksumSum: number;
  control: Control | null;
  initiator: Initiator | null;
  nics: Nic[];
  targets: Target[];
}

export interface DecodeResult {
  /** Absent only when the bytes are too short to hold an ACPI header. */
  table?: IbftTable;
  problems: Problem[];
}
