// Write a whole iBFT v1.03 from a spec (./spec.ts): `decode -> encode` gives
// back the same bytes, and a spec without offsets is laid out as iPXE lays
// its tables out (src/drivers/block/ibft.c ibft_install):
//   - ACPI header (48 bytes with the reserved 12), control at 0x30: 10 bytes + 4 per NIC/target pair, at
//     least two pairs (18 bytes), enough for the highest slot used;
//   - the initiator at the next 16-byte boundary, then one 112-byte (102 rounded to 16) place per NIC slot
//     and one 64-byte place per target slot, for as many pairs as the control has (unused places stay
//     zero, as iPXE leaves them);
//   - the string heap after them, in iPXE's fill order: initiator name, each NIC's hostname (slot order),
//     then per target (slot order) name, CHAP name, CHAP secret, reverse CHAP name, reverse CHAP secret;
//     each NUL-terminated, none shared;
//   - the table ends with the last string's NUL (or where the heap would start), unless header.length asks
//     for more (zero padding).
// With "layout": "edk2", as EDK2's IScsiDxe lays them out (NetworkPkg/IScsiDxe/IScsiIbft.c
// IScsiPublishIbft): structures 8-byte aligned; the initiator after the control; then NIC 0, target 0,
// NIC 1, target 1, ... interleaved (one pair per attempt); the heap grows down from byte 2048
// (IBFT_HEAP_OFFSET) in fill order (initiator name, then per pair the target's name, CHAP name, CHAP
// secret, reverse CHAP name, reverse CHAP secret; a NIC hostname, which IScsiDxe never writes, goes
// before its target's strings); the table is 2048 bytes long.
// Offsets the spec gives (structure `offset`, string `offset`, control offsets) are kept as they are;
// whatever has none is placed after everything that has, in the same order. Overlaps are refused, except
// strings that share the very same bytes.
import { decodeIbft } from './decode';
import { IbftSpecError, MAX_TABLE_LENGTH, type NormalSpec, type NormalString, type NormalStructure, parseIbftSpec, type IbftSpec, type SpecError } from './spec';
import { STRUCTURE_SIZE, type IbftTable, type Problem } from './structures';

const align16 = (n: number) => (n + 15) & ~15;
const align8 = (n: number) => (n + 7) & ~7;
/** EDK2's IBFT_HEAP_OFFSET: where IScsiDxe's heap starts (growing down) and its table's length. */
const EDK2_HEAP_TOP = 2048;
/** Room iPXE gives each structure (its size rounded up to 16). */
const PLACE = { initiator: align16(STRUCTURE_SIZE.initiator), nic: align16(STRUCTURE_SIZE.nic), target: align16(STRUCTURE_SIZE.target) } as const;

export interface EncodeResult {
  bytes: Buffer;
  /** The table decoded back: what the bytes say. */
  table: IbftTable;
  /** Warnings the decoder has about the table (encode refuses what would be an error). */
  warnings: Problem[];
}

interface Claim {
  path: string;
  string: boolean;
}

class Layout {
  readonly bytes = new Uint8Array(MAX_TABLE_LENGTH);
  /** Who owns each byte: 0 free, else 1 + index into claims. */
  private readonly owner = new Int32Array(MAX_TABLE_LENGTH);
  private readonly claims: Claim[] = [];
  readonly errors: SpecError[] = [];
  end = 0;

  claim(path: string, offset: number, data: Uint8Array, string: boolean, size = data.length): boolean {
    if (offset + size > MAX_TABLE_LENGTH) {
      this.errors.push({ path, message: `does not fit: it would end at byte ${offset + size}, past the ${MAX_TABLE_LENGTH} an iBFT can reach` });
      return false;
    }
    const id = this.claims.push({ path, string }) ;
    for (let i = 0; i < size; i++) {
      const at = offset + i;
      const value = data[i] ?? 0;
      const prev = this.owner[at];
      if (prev !== 0) {
        const other = this.claims[prev - 1];
        // Strings may share bytes (one string inside another, or a NUL), when they are the same bytes.
        if (!(string && other.string && this.bytes[at] === value)) {
          this.errors.push({
            path,
            message: `overlaps ${other.path} at byte ${at}: ${string && other.string ? 'the two strings want different bytes there' : 'structures and strings cannot share bytes'}; change or remove the offset(s) to let encode lay them out`,
          });
          return false;
        }
        continue;
      }
      this.owner[at] = id;
      this.bytes[at] = value;
    }
    this.end = Math.max(this.end, offset + size);
    return true;
  }
}

const put16 = (b: Uint8Array, o: number, v: number) => ((b[o] = v & 0xff), (b[o + 1] = (v >> 8) & 0xff));
const put32 = (b: Uint8Array, o: number, v: number) => (put16(b, o, v & 0xffff), put16(b, o + 2, v >>> 16));
const latin1 = (s: string) => Buffer.from(s, 'latin1');

/** Where each structure and string goes; errors when something does not fit. */
function place(spec: NormalSpec): { layout: Layout; length: number } {
  const layout = new Layout();
  const controlEnd = 48 + spec.controlLength;
  layout.claim('header', 0, new Uint8Array(48), false);
  layout.claim('control', 48, new Uint8Array(spec.controlLength), false);
  const structures = [...(spec.initiator ? [spec.initiator] : []), ...spec.nics, ...spec.targets];
  const strings = structures.flatMap((s) => s.strings);

  const putStructure = (s: NormalStructure, offset: number) => {
    if (offset > 0xffff) {
      layout.errors.push({ path: s.path, message: `no room: it would start at byte ${offset}, but control offsets are 16-bit (at most 65535): use fewer NICs/targets or shorter strings` });
      return;
    }
    if (offset < controlEnd) {
      layout.errors.push({ path: `${s.path}.offset`, message: `${offset} is inside the table header or control structure (which end at ${controlEnd}): use ${align16(controlEnd)} or later, or remove it` });
      return;
    }
    s.offset = offset;
    layout.claim(s.path, offset, s.bytes, false);
  };
  const putString = (str: NormalString, offset: number) => {
    if (offset > 0xffff) {
      layout.errors.push({ path: str.path, message: `no room: the string would start at byte ${offset}, but string offsets are 16-bit (at most 65535): shorten the strings or use fewer targets` });
      return;
    }
    str.offset = offset;
    layout.claim(str.path, offset, str.bytes, true, str.bytes.length + 1);
  };

  let length: number;
  if (!spec.explicit && spec.layout === 'edk2') {
    let pos = align8(controlEnd);
    if (spec.initiator) {
      putStructure(spec.initiator, pos);
      pos += align8(STRUCTURE_SIZE.initiator);
    }
    const pair = align8(STRUCTURE_SIZE.nic) + align8(STRUCTURE_SIZE.target);
    for (const n of spec.nics) putStructure(n, pos + n.slot * pair);
    for (const t of spec.targets) putStructure(t, pos + t.slot * pair + align8(STRUCTURE_SIZE.nic));
    const pairs = Math.max(0, ...spec.nics.map((n) => n.slot + 1), ...spec.targets.map((t) => t.slot + 1));
    const structuresEnd = pos + pairs * pair;
    const fillOrder = [
      ...(spec.initiator?.strings ?? []),
      ...Array.from({ length: pairs }, (_, k) => [
        ...(spec.nics.find((n) => n.slot === k)?.strings ?? []),
        ...(spec.targets.find((t) => t.slot === k)?.strings ?? []),
      ]).flat(),
    ];
    let top = EDK2_HEAP_TOP;
    for (const { string } of fillOrder) {
      top -= string.bytes.length + 1;
      if (top < structuresEnd) {
        layout.errors.push({ path: string.path, message: `does not fit: EDK2's layout keeps structures and strings in ${EDK2_HEAP_TOP} bytes: shorten the strings, use fewer pairs, or remove layout` });
        break;
      }
      if (layout.errors.length) break;
      putString(string, top);
    }
    length = EDK2_HEAP_TOP;
  } else if (!spec.explicit) {
    // iPXE's layout: fixed places per slot, then the heap.
    let pos = align16(controlEnd);
    if (spec.initiator) {
      putStructure(spec.initiator, pos);
      pos += PLACE.initiator;
    }
    const pairs = Math.max(2, ...spec.nics.map((n) => n.slot + 1), ...spec.targets.map((t) => t.slot + 1));
    const nicBase = pos;
    for (const n of spec.nics) putStructure(n, nicBase + n.slot * PLACE.nic);
    pos = nicBase + pairs * PLACE.nic;
    const targetBase = pos;
    for (const t of spec.targets) putStructure(t, targetBase + t.slot * PLACE.target);
    pos = targetBase + pairs * PLACE.target;
    for (const { string } of strings) {
      if (layout.errors.length) break;
      putString(string, pos);
      pos += string.bytes.length + 1;
    }
    length = pos;
  } else {
    // Given offsets first, then everything else after them.
    for (const s of structures) if (s.offset !== undefined) putStructure(s, s.offset);
    for (const { string } of strings) if (string.offset !== undefined) putString(string, string.offset);
    let pos = align16(Math.max(controlEnd, layout.end));
    let appended = false;
    for (const s of structures) {
      if (s.offset !== undefined || layout.errors.length) continue;
      putStructure(s, pos);
      pos += PLACE[s.kind];
      appended = true;
    }
    pos = appended ? Math.max(pos, layout.end) : layout.end;
    for (const { string } of strings) {
      if (string.offset !== undefined || layout.errors.length) continue;
      putString(string, pos);
      pos += string.bytes.length + 1;
    }
    length = Math.max(controlEnd, layout.end);
  }
  if (spec.length !== undefined && !layout.errors.length) {
    if (spec.length < length) {
      layout.errors.push({ path: 'header.length', message: `is ${spec.length} but the structures and strings need ${length} bytes: remove it (encode computes it) or raise it` });
    } else length = spec.length;
  }
  return { layout, length };
}

function write(spec: NormalSpec, layout: Layout, length: number): Buffer {
  const b = layout.bytes;
  b.set(latin1(spec.signature), 0);
  put32(b, 4, length);
  b[8] = 1;
  b.set(latin1(spec.oemId), 10);
  b.set(latin1(spec.oemTableId), 16);
  put32(b, 24, spec.oemRevision);
  b.set(latin1(spec.creatorId), 28);
  put32(b, 32, spec.creatorRevision);
  // Control: id 1, version 1, length, index 0, flags, extensions, then the slots.
  b[48] = 1;
  b[49] = 1;
  put16(b, 50, spec.controlLength);
  b[53] = spec.controlFlags;
  put16(b, 54, spec.extensions);
  put16(b, 56, spec.initiator?.offset ?? 0);
  for (const n of spec.nics) put16(b, 58 + 4 * n.slot, n.offset!);
  for (const t of spec.targets) put16(b, 60 + 4 * t.slot, t.offset!);
  for (const s of [...(spec.initiator ? [spec.initiator] : []), ...spec.nics, ...spec.targets]) {
    for (const { at, string } of s.strings) {
      put16(b, s.offset! + at, string.bytes.length);
      put16(b, s.offset! + at + 2, string.offset!);
    }
  }
  const out = Buffer.from(b.subarray(0, length));
  let sum = 0;
  for (const x of out) sum = (sum + x) & 0xff;
  out[9] = (0x100 - sum) & 0xff;
  return out;
}

/** Encode a spec (or a decoded table) and decode the result back; throws IbftSpecError for a bad spec. */
export function encodeIbftReport(spec: IbftSpec | IbftTable | unknown): EncodeResult {
  const parsed = parseIbftSpec(spec);
  if (!parsed.ok) throw new IbftSpecError(parsed.errors);
  const { layout, length } = place(parsed.spec);
  if (layout.errors.length) throw new IbftSpecError(layout.errors);
  const bytes = write(parsed.spec, layout, length);
  const decoded = decodeIbft(bytes);
  const errors = decoded.problems.filter((p) => p.severity === 'error');
  // The spec checks are meant to refuse everything the decoder would call an error.
  if (errors.length) throw new Error(`ibft encode wrote a table its own decoder rejects (a bug in encode): ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  return { bytes, table: decoded.table!, warnings: decoded.problems };
}

/**
 * A whole iBFT v1.03 from a spec: the model `ibft decode --format json` prints (every field optional), so
 * `encodeIbft(decodeIbft(bytes).table)` gives `bytes` back for any table encode could have written.
 * Throws IbftSpecError, listing every field that is wrong and how to fix it.
 */
export function encodeIbft(spec: IbftSpec | IbftTable | unknown): Buffer {
  return encodeIbftReport(spec).bytes;
}
