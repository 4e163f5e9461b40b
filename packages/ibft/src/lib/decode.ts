// Decode and validate an iBFT (spec v1.03). Never throws: every read is
// bounds-checked and everything wrong becomes a Problem with a field path.
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

const utf8 = new TextDecoder('utf-8', { fatal: false });

class Decoder {
  readonly problems: Problem[] = [];
  readonly r: Reader;
  /** Bytes of the table we may read: the declared length, cut to what we were given. */
  readonly limit: number;

  constructor(readonly bytes: Uint8Array) {
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
    if (!(IBFT_SIGNATURES as readonly string[]).includes(h.signature)) {
      this.error('header.signature', `signature is ${JSON.stringify(h.signature)}; an iBFT is signed ${IBFT_SIGNATURES.join(', ')}`);
    }
    if (h.revision !== 1) this.error('header.revision', `revision is ${h.revision}; iBFT v1.03 tables have revision 1 (Linux rejects others)`);
    if (h.length < STRUCTURE_SIZE.tableHeader + STRUCTURE_SIZE.control) {
      this.error('header.length', `length ${h.length} is shorter than the ACPI header plus the control structure (${STRUCTURE_SIZE.tableHeader + STRUCTURE_SIZE.control} bytes)`);
    } else if (h.length > this.bytes.length) {
      this.error('header.length', `length ${h.length} runs past the ${this.bytes.length} bytes available: the table is truncated`);
    }
    return h;
  }

  checksumSum(): number {
    return sum8(this.bytes, 0, this.limit);
  }

  /** A structure header at `offset`, or null (with a problem) when it does not fit. */
  structHeader(path: string, offset: number, id: number, size: number): StructureHeader | null {
    if (offset + size > this.limit) {
      this.error(`${path}`, `structure at offset ${offset} (${size} bytes) runs past the end of the table (${this.limit} bytes)`);
      return null;
    }
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

  control(): Control | null {
    const off = STRUCTURE_SIZE.tableHeader;
    const header = this.structHeader('control', off, STRUCTURE_ID.control, STRUCTURE_SIZE.control);
    if (!header) return null;
    if (header.index !== 0) this.error('control.header.index', `control index is ${header.index}; expected 0 (Linux rejects the table)`);
    // Offsets continue to the end of the declared control length (the spec's 18 bytes hold five slots).
    const slotBytes = Math.max(STRUCTURE_SIZE.control, Math.min(header.length, this.limit - off)) - 8;
    const offsets: number[] = [];
    for (let i = 0; i + 2 <= slotBytes; i += 2) offsets.push(this.r.u16(off + 8 + i));
    const [initiatorOffset, ...rest] = offsets;
    return {
      header,
      extensions: this.r.u16(off + 6),
      initiatorOffset,
      nicOffsets: rest.filter((_, i) => i % 2 === 0),
      targetOffsets: rest.filter((_, i) => i % 2 === 1),
    };
  }

  /** Check a structure offset from the control slot; returns false when it cannot be decoded. */
  offsetUsable(path: string, offset: number, size: number): boolean {
    if (offset === 0) return false;
    const min = STRUCTURE_SIZE.tableHeader + STRUCTURE_SIZE.control;
    if (offset < min) {
      this.error(path, `offset ${offset} points into the table header or control structure (structures start at ${min} or later)`);
      return false;
    }
    if (offset + size > this.limit) {
      this.error(path, `offset ${offset} + ${size} bytes is outside the table (${this.limit} bytes)`);
      return false;
    }
    return true;
  }

  string(path: string, lenAt: number, offAt: number): IbftString | null {
    const length = this.r.u16(lenAt);
    const offset = this.r.u16(offAt);
    if (offset === 0 && length === 0) return null;
    if (offset === 0) {
      this.error(path, `length ${length} with offset 0: the string has no location`);
      return null;
    }
    if (offset + length > this.limit) {
      this.error(path, `string at offset ${offset}, length ${length} is outside the table (${this.limit} bytes)`);
      return null;
    }
    if (offset < STRUCTURE_SIZE.tableHeader) this.warn(path, `string at offset ${offset} overlaps the table header`);
    const raw = this.r.slice(offset, length);
    const nul = raw.indexOf(0);
    if (nul >= 0) this.warn(path, `string holds a NUL at byte ${nul} of its ${length}-byte length`);
    if (offset + length >= this.limit) this.error(path, `string at offset ${offset} is not NUL-terminated: it ends at the end of the table`);
    else if (this.r.u8(offset + length) !== 0) this.error(path, `string at offset ${offset}, length ${length} is not NUL-terminated`);
    // Linux prints it with %.*s: up to the length or the first NUL.
    return { offset, length, value: utf8.decode(nul >= 0 ? raw.subarray(0, nul) : raw) };
  }

  address(o: number) {
    return decodeAddress(this.r.slice(o, 16));
  }

  initiator(offset: number): Initiator | null {
    const path = 'initiator';
    if (!this.offsetUsable(`control.initiatorOffset`, offset, STRUCTURE_SIZE.initiator)) return null;
    const header = this.structHeader(path, offset, STRUCTURE_ID.initiator, STRUCTURE_SIZE.initiator);
    if (!header) return null;
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

  nic(slot: number, offset: number): Nic | null {
    const path = `nic[${slot}]`;
    if (!this.offsetUsable(`control.nicOffsets[${slot}]`, offset, STRUCTURE_SIZE.nic)) return null;
    const header = this.structHeader(path, offset, STRUCTURE_ID.nic, STRUCTURE_SIZE.nic);
    if (!header) return null;
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

  target(slot: number, offset: number): Target | null {
    const path = `target[${slot}]`;
    if (!this.offsetUsable(`control.targetOffsets[${slot}]`, offset, STRUCTURE_SIZE.target)) return null;
    const header = this.structHeader(path, offset, STRUCTURE_ID.target, STRUCTURE_SIZE.target);
    if (!header) return null;
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
export function decodeIbft(bytes: Uint8Array): DecodeResult {
  if (!(bytes instanceof Uint8Array)) {
    return { problems: [{ path: '', message: 'input is not a byte array', severity: 'error' }] };
  }
  if (bytes.length < STRUCTURE_SIZE.acpiHeader) {
    return {
      problems: [{ path: 'header', message: `only ${bytes.length} bytes: an iBFT needs at least the ${STRUCTURE_SIZE.acpiHeader}-byte ACPI header`, severity: 'error' }],
    };
  }
  const d = new Decoder(bytes);
  const header = d.header();
  const checksumSum = d.checksumSum();
  if (header.length <= bytes.length && checksumSum !== 0) {
    d.error('header.checksum', `bytes sum to 0x${checksumSum.toString(16)} mod 256, not 0: the checksum byte is wrong or the table was altered`);
  }
  const control = d.control();
  const initiator = control ? d.initiator(control.initiatorOffset) : null;
  const nics: Nic[] = [];
  const targets: Target[] = [];
  control?.nicOffsets.forEach((off, slot) => {
    const nic = d.nic(slot, off);
    if (nic) nics.push(nic);
  });
  control?.targetOffsets.forEach((off, slot) => {
    const t = d.target(slot, off);
    if (t) targets.push(t);
  });
  for (const t of targets) {
    if (!nics.some((n) => n.header.index === t.nicAssociation)) {
      d.warn(`target[${t.slot}].nicAssociation`, `target is associated with NIC index ${t.nicAssociation}, but no NIC has that index`);
    }
  }
  if (control && !initiator) d.warn('control.initiatorOffset', 'the table has no initiator structure');
  return { table: { header, checksumSum, control, initiator, nics, targets }, problems: d.problems };
}

/** True when no problem is an error. */
export function isValid(result: DecodeResult): boolean {
  return !!result.table && !result.problems.some((p) => p.severity === 'error');
}
