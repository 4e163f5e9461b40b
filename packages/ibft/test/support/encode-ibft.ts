// Test encoder: builds an iBFT from a plain description, laid out the way iPXE
// lays it out (src/drivers/block/ibft.c): header, control at 0x30 (grown past
// 18 bytes for more than two pairs), structures on 16-byte boundaries, then
// NUL-terminated strings. Raw hooks let tests break it. (The library's own
// encoder, src/lib/encode.ts, is tested separately; this one stays small and
// independent so decoder tests do not depend on it.)
import { parseAddressWords } from '../../src/lib/address';

export interface EncodeInitiator {
  index?: number;
  flags?: number;
  name?: string;
  isnsServer?: string;
  slpServer?: string;
  primaryRadiusServer?: string;
  secondaryRadiusServer?: string;
}

export interface EncodeNic {
  index?: number;
  flags?: number;
  ip?: string;
  prefix?: number;
  origin?: number;
  gateway?: string;
  dns?: string;
  secondaryDns?: string;
  dhcp?: string;
  vlan?: number;
  mac?: string;
  /** Raw PCI bus/dev/fn word (bus << 8 | dev << 3 | fn). */
  pci?: number;
  hostname?: string;
}

export interface EncodeTarget {
  index?: number;
  flags?: number;
  ip?: string;
  port?: number;
  /** Four 16-bit words (big-endian in the table); default LUN 0. */
  lunWords?: number[];
  chapType?: number;
  nicAssociation?: number;
  name?: string;
  chapName?: string;
  chapSecret?: string;
  reverseChapName?: string;
  reverseChapSecret?: string;
}

export interface EncodeSpec {
  signature?: string;
  revision?: number;
  oemId?: string;
  oemTableId?: string;
  initiator?: EncodeInitiator | null;
  /** nic0, nic1, ... slots; more than two grow the control structure. */
  nics?: EncodeNic[];
  /** target0, target1, ... slots. */
  targets?: EncodeTarget[];
  /** Control header length to write (default iPXE's 10 + 4 per pair, at least two pairs). */
  controlLength?: number;
}

/** Where the encoder put things, so tests can corrupt precise fields. */
export interface EncodedLayout {
  bytes: Uint8Array;
  initiatorOffset: number;
  nicOffsets: number[];
  targetOffsets: number[];
}

const align16 = (n: number) => (n + 15) & ~15;

export function encodeIbftLayout(spec: EncodeSpec = {}): EncodedLayout {
  const buf = new Uint8Array(0x20000);
  const view = new DataView(buf.buffer);
  const u8 = (o: number, v: number) => view.setUint8(o, v);
  const u16 = (o: number, v: number) => view.setUint16(o, v, true);
  const text = (o: number, s: string, n: number) => {
    for (let i = 0; i < n && i < s.length; i++) buf[o + i] = s.charCodeAt(i);
  };
  const addr = (o: number, s?: string) => {
    if (!s) return;
    const words = parseAddressWords(s);
    if (!words) throw new Error(`encoder: bad address ${s}`);
    words.forEach((w, i) => view.setUint16(o + i * 2, w, false));
  };
  const strings: { at: number; value: string }[] = [];
  const str = (lenAt: number, value?: string) => {
    if (value !== undefined) strings.push({ at: lenAt, value });
  };
  const hdr = (o: number, id: number, length: number, index: number, flags: number) => {
    u8(o, id);
    u8(o + 1, 1);
    u16(o + 2, length);
    u8(o + 4, index);
    u8(o + 5, flags);
  };

  text(0, spec.signature ?? 'iBFT', 4);
  u8(8, spec.revision ?? 1);
  text(10, spec.oemId ?? 'FENSYS', 6);
  text(16, spec.oemTableId ?? 'iPXE', 8);
  const pairs = Math.max(2, spec.nics?.length ?? 0, spec.targets?.length ?? 0);
  const controlLength = spec.controlLength ?? 10 + 4 * pairs;
  hdr(0x30, 1, controlLength, 0, 0);

  let pos = align16(0x30 + Math.max(18, controlLength, 10 + 4 * pairs));
  let initiatorOffset = 0;
  if (spec.initiator !== null) {
    const ini = spec.initiator ?? {};
    initiatorOffset = pos;
    hdr(pos, 2, 74, ini.index ?? 0, ini.flags ?? 3);
    addr(pos + 6, ini.isnsServer);
    addr(pos + 22, ini.slpServer);
    addr(pos + 38, ini.primaryRadiusServer);
    addr(pos + 54, ini.secondaryRadiusServer);
    str(pos + 70, ini.name);
    pos = align16(pos + 74);
  }
  const nicOffsets: number[] = [];
  (spec.nics ?? []).forEach((nic, i) => {
    nicOffsets.push(pos);
    hdr(pos, 3, 102, nic.index ?? i, nic.flags ?? 3);
    addr(pos + 6, nic.ip);
    u8(pos + 22, nic.prefix ?? 0);
    u8(pos + 23, nic.origin ?? 0);
    addr(pos + 24, nic.gateway);
    addr(pos + 40, nic.dns);
    addr(pos + 56, nic.secondaryDns);
    addr(pos + 72, nic.dhcp);
    u16(pos + 88, nic.vlan ?? 0);
    (nic.mac ?? '52:54:00:12:34:56').split(':').forEach((h, j) => u8(pos + 90 + j, parseInt(h, 16)));
    u16(pos + 96, nic.pci ?? 0x18);
    str(pos + 98, nic.hostname);
    pos = align16(pos + 102);
  });
  const targetOffsets: number[] = [];
  (spec.targets ?? []).forEach((t, i) => {
    targetOffsets.push(pos);
    hdr(pos, 4, 54, t.index ?? i, t.flags ?? 3);
    addr(pos + 6, t.ip);
    u16(pos + 22, t.port ?? 3260);
    (t.lunWords ?? [0, 0, 0, 0]).forEach((w, j) => view.setUint16(pos + 24 + j * 2, w, false));
    u8(pos + 32, t.chapType ?? 0);
    u8(pos + 33, t.nicAssociation ?? 0);
    str(pos + 34, t.name);
    str(pos + 38, t.chapName);
    str(pos + 42, t.chapSecret);
    str(pos + 46, t.reverseChapName);
    str(pos + 50, t.reverseChapSecret);
    pos = align16(pos + 54);
  });
  u16(0x38, initiatorOffset);
  for (let k = 0; k < pairs; k++) {
    u16(0x3a + 4 * k, nicOffsets[k] ?? 0);
    u16(0x3c + 4 * k, targetOffsets[k] ?? 0);
  }

  for (const s of strings) {
    const bytes = new TextEncoder().encode(s.value);
    u16(s.at, bytes.length);
    u16(s.at + 2, pos);
    buf.set(bytes, pos);
    pos += bytes.length + 1; // NUL terminator
  }
  view.setUint32(4, pos, true);
  const bytes = buf.slice(0, pos);
  fixChecksum(bytes);
  return { bytes, initiatorOffset, nicOffsets, targetOffsets };
}

export function encodeIbft(spec: EncodeSpec = {}): Uint8Array {
  return encodeIbftLayout(spec).bytes;
}

/** Set the checksum byte so the table's bytes (up to its declared length) sum to 0 mod 256. */
export function fixChecksum(bytes: Uint8Array): Uint8Array {
  const length = Math.min(bytes.length, new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true));
  bytes[9] = 0;
  let sum = 0;
  for (let i = 0; i < length; i++) sum = (sum + bytes[i]) & 0xff;
  bytes[9] = (0x100 - sum) & 0xff;
  return bytes;
}

/** Little-endian u16 write followed by a checksum fix: corrupt a field but keep the checksum right. */
export function patchU16(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint16(offset, value, true);
  return fixChecksum(bytes);
}

export function patchU8(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  bytes[offset] = value;
  return fixChecksum(bytes);
}
