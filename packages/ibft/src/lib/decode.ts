// Decode and validate an iBFT (spec v1.03). Never throws: every read is
// bounds-checked and everything wrong becomes a Problem with a field path.
//
// The walk follows Linux's drivers/firmware/iscsi_ibft.c (ibft_register_kobjects,
// ibft_create_kobject): every u16 slot of the control structure up to its
// length is read in order (initiator, NIC, target, NIC, target, ...), and the
// structure a slot points at is taken for what its own header id says.
import { decodeAddress, prefixToMask } from './address';
import { ascii, sum8, u16, u32, u8 } from './bytes';
import {
  CHAP_TYPE_NAMES,
  type Control,
  type DecodeResult,
  IBFT_SIGNATURES,
  type IbftString,
  type Initiator,
  type Lun,
  type Nic,
  ORIGIN_NAMES,
  type Problem,
  type SlotKind,
  STRUCTURE_ID,
  STRUCTURE_SIZE,
  type StructureHeader,
  type Target,
  type AcpiHeader,
} from './structures';

/** Reads little-endian fields from the table; callers check ranges first. */
class Reader {
  constructor(readonly bytes: Uint8Array) {}
  u8 = (o: number) => u8(this.bytes, o);
  u16 = (o: number) => u16(this.bytes, o);
  u32 = (o: number) => u32(this.bytes, o);
  slice = (o: number, n: number) => this.bytes.subarray(o, o + n);
  ascii = (o: number, n: number) => ascii(this.bytes, o, n, true);
}

// ignoreBOM: a leading EF BB BF is part of the string's bytes, not a marker to drop.
const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** What a structure id is, for messages and for the kobject Linux names after it. */
const KIND_BY_ID: Record<number, { kind: SlotKind; size: number; label: string }> = {
  [STRUCTURE_ID.initiator]: { kind: 'initiator', size: STRUCTURE_SIZE.initiator, label: 'initiator' },
  [STRUCTURE_ID.nic]: { kind: 'nic', size: STRUCTURE_SIZE.nic, label: 'NIC' },
  [STRUCTURE_ID.target]: { kind: 'target', size: STRUCTURE_SIZE.target, label: 'target' },
};
const ID_BY_KIND: Record<SlotKind, number> = { initiator: STRUCTURE_ID.initiator, nic: STRUCTURE_ID.nic, target: STRUCTURE_ID.target };

/** The control slot at u16 position `p` (after the extensions word): 0 initiator, then NIC k / target k alternating. */
export function slotAt(p: number): { kind: SlotKind; slot: number } {
  if (p === 0) return { kind: 'initiator', slot: 0 };
  return (p - 1) % 2 === 0 ? { kind: 'nic', slot: (p - 1) / 2 } : { kind: 'target', slot: (p - 2) / 2 };
}

/** Field path of a control slot, as problems name it. */
export function slotPath(kind: SlotKind, slot: number): string {
  return kind === 'initiator' ? 'control.initiatorOffset' : `control.${kind}Offsets[${slot}]`;
}

/** Path prefix of the structure a slot points at (nic[2], target[0], initiator). */
function structurePath(kind: SlotKind, slot: number): string {
  return kind === 'initiator' ? 'initiator' : `${kind}[${slot}]`;
}

/** The sysfs kobject name Linux gives a structure (iscsi_boot_create_initiator/ethernet/target). */
export function kobjectName(kind: SlotKind, index: number): string {
  return kind === 'initiator' ? 'initiator' : kind === 'nic' ? `ethernet${index}` : `target${index}`;
}

export interface DecodeOptions {
  /**
   * Sum mod 256 of `length` bytes of the input from its start (clipped to it). Locate passes one backed by
   * prefix sums so thousands of overlapping candidates cost O(1) each; default: add the bytes up.
   */
  checksum?: (length: number) => number;
}

class Decoder {
  readonly problems: Problem[] = [];
  readonly r: Reader;
  /** Bytes of the table we may read: the declared length, cut to what we were given. */
  readonly limit: number;
  /** Structures already decoded, by offset: a second slot pointing at one is a duplicate, not a second decode. */
  private readonly byOffset = new Map<number, { path: string; kind: SlotKind }>();
  /** Kobject names taken (initiator, ethernet0, target1): Linux cannot register one twice. */
  private readonly names = new Map<string, string>();

  constructor(
    readonly bytes: Uint8Array,
    readonly options: DecodeOptions = {},
  ) {
    this.r = new Reader(bytes);
    const declared = this.r.u32(4);
    // With a nonsense length, read no further than a u16 offset plus a u16 length can reach.
    this.limit = Math.min(bytes.length, declared >= STRUCTURE_SIZE.tableHeader ? declared : 0x20000);
  }

  error(path: string, message: string): void {
    this.problems.push({ path, message, severity: 'error' });
  }
  warn(path: string, message: string): void {
    this.problems.push({ path, message, severity: 'warning' });
  }

  header(): AcpiHeader {
    const r = this.r;
    const h: AcpiHeader = {
      signature: r.ascii(0, 4),
      length: r.u32(4),
      revision: r.u8(8),
      checksum: r.u8(9),
      oemId: r.ascii(10, 6),
      oemTableId: r.ascii(16, 8),
      oemRevision: r.u32(24),
      creatorId: r.ascii(28, 4),
      creatorRevision: r.u32(32),
    };
    for (const p of headerProblems(h, this.bytes.length)) this.problems.push(p);
    return h;
  }

  checksumSum(): number {
    return this.options.checksum ? this.options.checksum(this.limit) : sum8(this.bytes, 0, this.limit);
  }

  /** A structure header at `offset` (callers checked it fits), with id, version and length checked. */
  structHeader(path: string, offset: number, id: number, size: number): StructureHeader {
    const h: StructureHeader = {
      id: this.r.u8(offset),
      version: this.r.u8(offset + 1),
      length: this.r.u16(offset + 2),
      index: this.r.u8(offset + 4),
      flags: this.r.u8(offset + 5),
    };
    if (h.id !== id) this.error(`${path}.header.id`, `structure id is ${h.id}; expected ${id}`);
    if (h.version !== 1) this.error(`${path}.header.version`, `structure version is ${h.version}; expected 1`);
    if (h.length !== size) this.error(`${path}.header.length`, `structure length is ${h.length}; expected ${size} (Linux ignores the structure otherwise)`);
    return h;
  }

  /** The control structure and its slots (offsets at u16 positions 0, 1, 2, ... after the extensions word). */
  control(): { control: Control; slots: number[]; end: number } | null {
    const off = STRUCTURE_SIZE.tableHeader;
    if (off + STRUCTURE_SIZE.control > this.limit) {
      this.error('control', `structure at offset ${off} (${STRUCTURE_SIZE.control} bytes) runs past the end of the table (${this.limit} bytes)`);
      return null;
    }
    const r = this.r;
    const header: StructureHeader = { id: r.u8(off), version: r.u8(off + 1), length: r.u16(off + 2), index: r.u8(off + 4), flags: r.u8(off + 5) };
    if (header.id !== STRUCTURE_ID.control) {
      this.error('control.header.id', `control structure id is ${header.id}; expected 1 (Linux rejects the table: "Control header is invalid")`);
    }
    if (header.version !== 1) this.error('control.header.version', `structure version is ${header.version}; expected 1`);
    if (header.index !== 0) this.error('control.header.index', `control index is ${header.index}; expected 0 (Linux rejects the table)`);
    if (header.length < STRUCTURE_SIZE.control) {
      this.error('control.header.length', `control length is ${header.length}; it must be at least ${STRUCTURE_SIZE.control} (Linux rejects a shorter one)`);
    } else if (header.length % 2 !== 0) {
      this.warn('control.header.length', `control length ${header.length} is odd: slots are u16, Linux reads ${(header.length - 8) >> 1} of them and ignores the last byte`);
    }
    const linuxReadsSlots = header.id === STRUCTURE_ID.control && header.index === 0 && header.length >= STRUCTURE_SIZE.control;
    // Linux reads every whole u16 slot up to the control length; when it rejects the control it reads
    // none, and we decode the spec's five for diagnostics only.
    let end = off + STRUCTURE_SIZE.control;
    if (linuxReadsSlots && off + header.length > this.limit) {
      this.error(
        'control.header.length',
        `control length ${header.length} runs past the end of the table (${this.limit} bytes): Linux would read slots from beyond the table; only the standard five are decoded`,
      );
    } else if (linuxReadsSlots) {
      end = off + header.length;
    }
    const slots: number[] = [];
    for (let p = 0; off + 8 + 2 * p + 2 <= end; p++) slots.push(r.u16(off + 8 + 2 * p));
    const nicOffsets: number[] = [];
    const targetOffsets: number[] = [];
    slots.forEach((value, p) => {
      const at = slotAt(p);
      if (at.kind === 'nic') nicOffsets.push(value);
      else if (at.kind === 'target') targetOffsets.push(value);
    });
    const controlEnd = Math.max(end, off + STRUCTURE_SIZE.control);
    return { control: { header, extensions: r.u16(off + 6), initiatorOffset: slots[0], nicOffsets, targetOffsets }, slots, end: controlEnd };
  }

  string(path: string, lenAt: number, offAt: number): IbftString | null {
    const length = this.r.u16(lenAt);
    const offset = this.r.u16(offAt);
    if (offset === 0 && length === 0) return null;
    if (offset === 0) {
      this.error(path, `length ${length} with offset 0: the string has no location (Linux prints the table's first bytes for it)`);
    }
    if (offset + length > this.limit) {
      this.error(path, `string at offset ${offset}, length ${length} is outside the table (${this.limit} bytes)`);
      return null;
    }
    if (offset > 0 && offset < STRUCTURE_SIZE.tableHeader) this.warn(path, `string at offset ${offset} overlaps the table header`);
    const raw = this.r.slice(offset, length);
    const nul = raw.indexOf(0);
    if (nul >= 0) this.warn(path, `string holds a NUL at byte ${nul} of its ${length}-byte length (Linux prints up to the NUL)`);
    if (offset + length >= this.limit) this.error(path, `string at offset ${offset} is not NUL-terminated: it ends at the end of the table`);
    else if (this.r.u8(offset + length) !== 0) this.error(path, `string at offset ${offset}, length ${length} is not NUL-terminated`);
    // Linux prints it with %.*s: up to the length or the first NUL, raw bytes.
    const shown = nul >= 0 ? raw.subarray(0, nul) : raw;
    const value = utf8.decode(shown);
    const s: IbftString = { offset, length, value };
    if (!isUtf8(shown)) {
      this.warn(path, `bytes are not valid UTF-8: value shows U+FFFD for them and hex holds the bytes (Linux prints them raw)`);
    }
    if (nul >= 0 || !isUtf8(shown)) s.hex = Buffer.from(raw).toString('hex');
    return s;
  }

  address(o: number) {
    return decodeAddress(this.r.slice(o, 16));
  }

  initiator(path: string, offset: number, header: StructureHeader): Initiator {
    return {
      offset,
      header,
      valid: (header.flags & 1) !== 0,
      bootSelected: (header.flags & 2) !== 0,
      isnsServer: this.address(offset + 6),
      slpServer: this.address(offset + 22),
      primaryRadiusServer: this.address(offset + 38),
      secondaryRadiusServer: this.address(offset + 54),
      name: this.string(`${path}.name`, offset + 70, offset + 72),
    };
  }

  nic(path: string, slot: number, offset: number, header: StructureHeader): Nic {
    const r = this.r;
    const prefixLength = r.u8(offset + 22);
    const origin = r.u8(offset + 23);
    const mac = Array.from(r.slice(offset + 90, 6), (b) => b.toString(16).padStart(2, '0')).join(':');
    const pciRaw = r.u16(offset + 96);
    const ip = this.address(offset + 6);
    if (prefixLength > (ip.family === 'ipv4' ? 32 : 128)) {
      this.error(`${path}.prefixLength`, `prefix length ${prefixLength} is too long for an ${ip.family} address`);
    }
    if (!(origin in ORIGIN_NAMES)) this.warn(`${path}.origin`, `origin ${origin} is not a value the spec defines (0-4, 15)`);
    return {
      slot,
      offset,
      header,
      valid: (header.flags & 1) !== 0,
      bootSelected: (header.flags & 2) !== 0,
      global: (header.flags & 4) !== 0,
      ip,
      prefixLength,
      subnetMask: prefixToMask(prefixLength),
      origin,
      originName: ORIGIN_NAMES[origin] ?? 'unknown',
      gateway: this.address(offset + 24),
      primaryDns: this.address(offset + 40),
      secondaryDns: this.address(offset + 56),
      dhcp: this.address(offset + 72),
      vlan: r.u16(offset + 88),
      mac,
      pci: { raw: pciRaw, bus: pciRaw >> 8, device: (pciRaw >> 3) & 0x1f, function: pciRaw & 7 },
      hostname: this.string(`${path}.hostname`, offset + 98, offset + 100),
    };
  }

  target(path: string, slot: number, offset: number, header: StructureHeader): Target {
    const r = this.r;
    const chapType = r.u8(offset + 32);
    if (!(chapType in CHAP_TYPE_NAMES)) this.error(`${path}.chapType`, `CHAP type ${chapType} is not 0 (none), 1 (chap) or 2 (mutual)`);
    const t: Target = {
      slot,
      offset,
      header,
      valid: (header.flags & 1) !== 0,
      bootSelected: (header.flags & 2) !== 0,
      radiusChap: (header.flags & 4) !== 0,
      radiusReverseChap: (header.flags & 8) !== 0,
      ip: this.address(offset + 6),
      port: r.u16(offset + 22),
      lun: decodeLun(r.slice(offset + 24, 8)),
      chapType,
      chapTypeName: CHAP_TYPE_NAMES[chapType] ?? 'unknown',
      nicAssociation: r.u8(offset + 33),
      name: this.string(`${path}.name`, offset + 34, offset + 36),
      chapName: this.string(`${path}.chapName`, offset + 38, offset + 40),
      chapSecret: this.string(`${path}.chapSecret`, offset + 42, offset + 44),
      reverseChapName: this.string(`${path}.reverseChapName`, offset + 46, offset + 48),
      reverseChapSecret: this.string(`${path}.reverseChapSecret`, offset + 50, offset + 52),
    };
    if (t.chapTypeName === 'chap' || t.chapTypeName === 'mutual') {
      if (!t.chapName) this.error(`${path}.chapName`, `CHAP type is ${t.chapTypeName} but the CHAP name is missing`);
      if (!t.chapSecret) this.error(`${path}.chapSecret`, `CHAP type is ${t.chapTypeName} but the CHAP secret is missing`);
    }
    if (t.chapTypeName === 'mutual') {
      if (!t.reverseChapName) this.error(`${path}.reverseChapName`, 'CHAP type is mutual but the reverse CHAP name is missing');
      if (!t.reverseChapSecret) this.error(`${path}.reverseChapSecret`, 'CHAP type is mutual but the reverse CHAP secret is missing');
    }
    return t;
  }

  /**
   * The structure a slot points at, decoded as what its id says (Linux's ibft_create_kobject switches on
   * hdr->id, not on the slot), added to `out`. Nothing is added when there is nothing to decode there.
   */
  slot(kind: SlotKind, slot: number, offset: number, controlEnd: number, out: { initiator: Initiator | null; nics: Nic[]; targets: Target[] }): void {
    const where = slotPath(kind, slot);
    if (offset === 0) return;
    if (offset < controlEnd) {
      this.error(where, `offset ${offset} points into the table header or control structure (structures start at ${controlEnd} or later)`);
      return;
    }
    if (offset + 6 > this.limit) {
      this.error(where, `offset ${offset} + 6 header bytes is outside the table (${this.limit} bytes)`);
      return;
    }
    const earlier = this.byOffset.get(offset);
    if (earlier) {
      this.error(
        where,
        `points at the same structure as ${earlier.path} (offset ${offset}): Linux registers it twice, the second kobject_add fails (EEXIST), ibft_init fails and /sys/firmware/ibft shows nothing`,
      );
      return;
    }
    const id = this.r.u8(offset);
    const real = KIND_BY_ID[id];
    const expected = KIND_BY_ID[ID_BY_KIND[kind]];
    const path = structurePath(kind, slot);
    if (!real) {
      this.error(`${path}.header.id`, `structure id is ${id}; expected ${ID_BY_KIND[kind]} (${expected.label}); Linux ignores a structure with id ${id}`);
      return;
    }
    if (real.kind !== kind) {
      this.error(`${path}.header.id`, `structure id is ${id} (${real.label}); expected ${ID_BY_KIND[kind]} (${expected.label}): Linux registers it as a ${real.label} anyway`);
    }
    if (offset + real.size > this.limit) {
      this.error(where, `offset ${offset} + ${real.size} bytes is outside the table (${this.limit} bytes)`);
      return;
    }
    this.byOffset.set(offset, { path: where, kind: real.kind });
    // ibft_register_kobjects' end-of-table check: offset < length and offset < (length - 48) in a u16.
    const length = this.r.u32(4);
    const eot = (length - STRUCTURE_SIZE.tableHeader) & 0xffff;
    if (offset >= length || offset >= eot) {
      this.warn(where, `offset ${offset} is not below ${offset >= length ? `the table length ${length}` : `Linux's end-of-table offset ${eot} (length - 48, kept in 16 bits)`}: Linux skips this structure`);
    }
    const header = this.structHeader(path, offset, id, real.size);
    const via = real.kind !== kind ? { via: kind } : {};
    if (real.kind === 'initiator') {
      if (out.initiator) {
        this.error(`${path}.header.id`, 'a second initiator structure: Linux names both kobjects "initiator", the second kobject_add fails (EEXIST) and /sys/firmware/ibft shows nothing');
        return;
      }
      out.initiator = { ...this.initiator(path, offset, header), ...via };
      this.claimName(path, 'initiator', header);
    } else if (real.kind === 'nic') {
      out.nics.push({ ...this.nic(path, slot, offset, header), ...via });
      this.claimName(path, 'nic', header);
    } else {
      out.targets.push({ ...this.target(path, slot, offset, header), ...via });
      this.claimName(path, 'target', header);
    }
  }

  private claimName(path: string, kind: SlotKind, header: StructureHeader): void {
    // Linux skips a structure whose length is wrong (ibft_verify_hdr) before it names a kobject.
    if (header.length !== KIND_BY_ID[ID_BY_KIND[kind]].size) return;
    const name = kobjectName(kind, header.index);
    const first = this.names.get(name);
    if (first === undefined) {
      this.names.set(name, path);
      return;
    }
    this.error(
      `${path}.header.index`,
      `index ${header.index} is also ${first}'s: Linux names both kobjects ${name}, the second kobject_add fails (EEXIST), ibft_init fails and /sys/firmware/ibft shows nothing; give each ${kind === 'nic' ? 'NIC' : kind} its own index`,
    );
  }
}

/** The ACPI header's problems (signature, revision, length), given `available` bytes; the checksum is checked apart. */
export function headerProblems(h: Pick<AcpiHeader, 'signature' | 'revision' | 'length'>, available: number): Problem[] {
  const out: Problem[] = [];
  if (!(IBFT_SIGNATURES as readonly string[]).includes(h.signature)) {
    out.push({ path: 'header.signature', severity: 'error', message: `signature is ${JSON.stringify(h.signature)}; an iBFT is signed ${IBFT_SIGNATURES.join(', ')}` });
  }
  if (h.revision !== 1) out.push({ path: 'header.revision', severity: 'error', message: `revision is ${h.revision}; iBFT v1.03 tables have revision 1 (Linux rejects others)` });
  if (h.length < STRUCTURE_SIZE.tableHeader + STRUCTURE_SIZE.control) {
    out.push({
      path: 'header.length',
      severity: 'error',
      message: `length ${h.length} is shorter than the ACPI header plus the control structure (${STRUCTURE_SIZE.tableHeader + STRUCTURE_SIZE.control} bytes)`,
    });
  } else if (h.length > available) {
    out.push({ path: 'header.length', severity: 'error', message: `length ${h.length} runs past the ${available} bytes available: the table is truncated` });
  }
  return out;
}

export function checksumProblem(sum: number): Problem {
  return { path: 'header.checksum', severity: 'error', message: `bytes sum to 0x${sum.toString(16)} mod 256, not 0: the checksum byte is wrong or the table was altered` };
}

function isUtf8(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] >= 0x80) {
      try {
        strictUtf8.decode(bytes);
        return true;
      } catch {
        return false;
      }
    }
  }
  return true;
}

/** The LUN field: 8 bytes, four big-endian 16-bit words (SCSI LUN structure). */
export function decodeLun(bytes: ArrayLike<number>): Lun {
  const b = Array.from({ length: 8 }, (_, i) => bytes[i] ?? 0);
  const words = [0, 2, 4, 6].map((i) => (b[i] << 8) | b[i + 1]);
  const hex = b.map((x) => x.toString(16).padStart(2, '0')).join('');
  let number: number | null = null;
  if (words[1] === 0 && words[2] === 0 && words[3] === 0) {
    const method = words[0] >> 14;
    if (method === 0 && b[0] === 0) number = b[1]; // peripheral device addressing, bus 0
    else if (method === 1) number = words[0] & 0x3fff; // flat space addressing
  }
  return { hex, words, text: words.map((w) => w.toString(16).padStart(4, '0')).join('-'), number };
}

/** Decode and validate the table at the start of `bytes` (trailing bytes past its length are ignored). */
export function decodeIbft(bytes: Uint8Array, options: DecodeOptions = {}): DecodeResult {
  if (!(bytes instanceof Uint8Array)) {
    return { problems: [{ path: '', message: 'input is not a byte array', severity: 'error' }] };
  }
  if (bytes.length < STRUCTURE_SIZE.acpiHeader) {
    return {
      problems: [{ path: 'header', message: `only ${bytes.length} bytes: an iBFT needs at least the ${STRUCTURE_SIZE.acpiHeader}-byte ACPI header`, severity: 'error' }],
    };
  }
  const d = new Decoder(bytes, options);
  const header = d.header();
  const checksumSum = d.checksumSum();
  if (header.length <= bytes.length && checksumSum !== 0) d.problems.push(checksumProblem(checksumSum));
  const found = d.control();
  const out: { initiator: Initiator | null; nics: Nic[]; targets: Target[] } = { initiator: null, nics: [], targets: [] };
  if (found) {
    // Linux's order: slot 0, 1, 2, ... (initiator, nic0, target0, nic1, target1, ...).
    found.slots.forEach((offset, p) => {
      const at = slotAt(p);
      d.slot(at.kind, at.slot, offset, found.end, out);
    });
  }
  const { initiator, nics, targets } = out;
  nics.sort((a, b) => a.slot - b.slot);
  targets.sort((a, b) => a.slot - b.slot);
  for (const t of targets) {
    if (!nics.some((n) => n.header.index === t.nicAssociation)) {
      d.warn(
        `target[${t.slot}].nicAssociation`,
        `target is associated with NIC index ${t.nicAssociation}, but no NIC has that index (open-iscsi's iscsiadm -m fw skips the target: "Invalid nic-assoc")`,
      );
    }
  }
  if (found && !initiator) d.warn('control.initiatorOffset', 'the table has no initiator structure');
  return { table: { header, checksumSum, control: found?.control ?? null, initiator, nics, targets }, problems: d.problems };
}

/** True when no problem is an error. */
export function isValid(result: DecodeResult): boolean {
  return !!result.table && !result.problems.some((p) => p.severity === 'error');
}
