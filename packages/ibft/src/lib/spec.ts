// The JSON description `ibft encode` writes a table from: the same model
// `ibft decode --format json` prints (IbftTable), every field optional, so a
// decoded table encodes back to the same bytes and a hand-written one needs
// only what it cares about. Shapes and ranges are a zod 4 schema; what one
// field says about another (flags and the booleans derived from them, an
// address and its family, a prefix and its mask, CHAP type and its strings,
// slots, indices, offsets) is checked after it. Every error names the field by
// its JSON path and says how to fix it.
import { z } from 'zod';
import { decodeAddress, parseAddressWords, prefixToMask } from './address';
import { decodeLun } from './decode';
import { CHAP_TYPE_NAMES, ORIGIN_NAMES, STRUCTURE_SIZE, type SlotKind } from './structures';

// ---------------------------------------------------------------- schema

const keysOf = (shape: z.ZodRawShape) => Object.keys(shape).join(', ');

/** A strict object whose unknown-field error names the fields it has. */
function obj<T extends z.ZodRawShape>(shape: T, what: string) {
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code === 'unrecognized_keys') {
        const keys = (iss as unknown as { keys: string[] }).keys;
        return `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => JSON.stringify(k)).join(', ')}: remove ${keys.length > 1 ? 'them' : 'it'} (${what} has ${keysOf(shape)})`;
      }
      if (iss.code === 'invalid_type') return `expected ${what} (an object with ${keysOf(shape)})`;
      return undefined;
    },
  });
}

function uint(max: number, what = 'number') {
  const range = `a whole ${what} from 0 to ${max}`;
  return z
    .number({ error: `expected ${range}` })
    .int({ error: `expected ${range}` })
    .min(0, { error: `must be ${range}` })
    .max(max, { error: `must be ${range}` });
}
const u8 = () => uint(0xff);
const u16 = () => uint(0xffff);
const u32 = () => uint(0xffffffff);
const bool = () => z.boolean({ error: 'expected true or false' });
const text = (what: string) => z.string({ error: `expected ${what} (a string)` });

const AddressSchema = z.union(
  [
    text('an address'),
    obj({ family: z.enum(['ipv4', 'ipv6'], { error: 'family is "ipv4" or "ipv6"' }), address: text('an address'), unset: bool().optional() }, 'an address'),
  ],
  { error: 'expected an address: "10.0.2.15", "fd00::1", or { "family", "address" } as decode prints it' },
);

const StringSchema = z
  .union(
    [
      z.string(),
      obj(
        {
          offset: u16().optional(),
          length: u16().optional(),
          value: text('the text').optional(),
          hex: text('hex bytes').optional(),
          masked: z.literal(true).optional(),
        },
        'a string',
      ),
    ],
    { error: 'expected a string: "text", or { "value" } / { "hex" } as decode prints it, or null' },
  )
  .nullable();

const LunSchema = z.union(
  [
    uint(16383, 'LUN number'),
    text('a LUN'),
    obj({ hex: text('16 hex digits').optional(), words: z.array(u16(), { error: 'expected four 16-bit words' }).optional(), text: text('LUN text').optional(), number: uint(16383).nullable().optional() }, 'a LUN'),
  ],
  { error: 'expected a LUN: a number (1), iPXE text ("1", "0001-0000-0000-0000"), or { "hex" } as decode prints it' },
);

const PciSchema = z.union([u16(), obj({ raw: u16().optional(), bus: u8().optional(), device: uint(31).optional(), function: uint(7).optional() }, 'a PCI address')], {
  error: 'expected a PCI address: the 16-bit bus/device/function word, or { "bus", "device", "function" }',
});

function structureHeader(id: number, size: number, label: string) {
  return obj(
    {
      id: z.literal(id, { error: `a ${label} structure's id is ${id}` }).optional(),
      version: z.literal(1, { error: 'structure version is 1 (iBFT v1.03)' }).optional(),
      length: z.literal(size, { error: `a ${label} structure is ${size} bytes` }).optional(),
      index: u8().optional(),
      flags: u8().optional(),
    },
    `a ${label} structure header`,
  );
}

const slotField = () => z.any().optional();

const InitiatorSchema = obj(
  {
    offset: u16().optional(),
    via: slotField(),
    header: structureHeader(2, STRUCTURE_SIZE.initiator, 'initiator').optional(),
    valid: bool().optional(),
    bootSelected: bool().optional(),
    isnsServer: AddressSchema.optional(),
    slpServer: AddressSchema.optional(),
    primaryRadiusServer: AddressSchema.optional(),
    secondaryRadiusServer: AddressSchema.optional(),
    name: StringSchema.optional(),
  },
  'the initiator',
);

const NicSchema = obj(
  {
    slot: uint(16380).optional(),
    offset: u16().optional(),
    via: slotField(),
    header: structureHeader(3, STRUCTURE_SIZE.nic, 'NIC').optional(),
    valid: bool().optional(),
    bootSelected: bool().optional(),
    global: bool().optional(),
    ip: AddressSchema.optional(),
    prefixLength: u8().optional(),
    subnetMask: text('a dotted mask').optional(),
    origin: u8().optional(),
    originName: text('an origin name').optional(),
    gateway: AddressSchema.optional(),
    primaryDns: AddressSchema.optional(),
    secondaryDns: AddressSchema.optional(),
    dhcp: AddressSchema.optional(),
    vlan: u16().optional(),
    mac: text('a MAC address').optional(),
    pci: PciSchema.optional(),
    hostname: StringSchema.optional(),
  },
  'a NIC',
);

const TargetSchema = obj(
  {
    slot: uint(16380).optional(),
    offset: u16().optional(),
    via: slotField(),
    header: structureHeader(4, STRUCTURE_SIZE.target, 'target').optional(),
    valid: bool().optional(),
    bootSelected: bool().optional(),
    radiusChap: bool().optional(),
    radiusReverseChap: bool().optional(),
    ip: AddressSchema.optional(),
    port: u16().optional(),
    lun: LunSchema.optional(),
    chapType: u8().optional(),
    chapTypeName: z.enum(['none', 'chap', 'mutual', 'unknown'], { error: 'chapTypeName is "none", "chap" or "mutual"' }).optional(),
    nicAssociation: u8().optional(),
    name: StringSchema.optional(),
    chapName: StringSchema.optional(),
    chapSecret: StringSchema.optional(),
    reverseChapName: StringSchema.optional(),
    reverseChapSecret: StringSchema.optional(),
  },
  'a target',
);

/**
 * Where encode places what has no offset: as iPXE's ibft.c does (the default), or as EDK2's IScsiDxe
 * (IScsiIbft.c) does. Encode input only: a decoded table carries its offsets, which win.
 */
export const SPEC_LAYOUTS = ['ipxe', 'edk2'] as const;
export type SpecLayout = (typeof SPEC_LAYOUTS)[number];

/** Largest table encode writes: past it nothing is reachable by the table's 16-bit offsets and lengths. */
export const MAX_TABLE_LENGTH = 0x20000;

const HeaderSchema = obj(
  {
    signature: z.enum(['iBFT', 'IBFT', 'BIFT'], { error: 'signature is "iBFT", "IBFT" or "BIFT"' }).optional(),
    length: uint(MAX_TABLE_LENGTH, 'length').optional(),
    revision: z.literal(1, { error: 'revision is 1 (iBFT v1.03; Linux rejects others)' }).optional(),
    checksum: u8().optional(),
    oemId: text('the OEM id').optional(),
    oemTableId: text('the OEM table id').optional(),
    oemRevision: u32().optional(),
    creatorId: text('the creator id').optional(),
    creatorRevision: u32().optional(),
  },
  'the ACPI header',
);

const ControlSchema = obj(
  {
    header: obj(
      {
        id: z.literal(1, { error: "the control structure's id is 1" }).optional(),
        version: z.literal(1, { error: 'structure version is 1 (iBFT v1.03)' }).optional(),
        length: u16().optional(),
        index: z.literal(0, { error: 'the control index is 0 (Linux rejects others)' }).optional(),
        flags: u8().optional(),
      },
      'the control header',
    ).optional(),
    extensions: u16().optional(),
    initiatorOffset: u16().optional(),
    nicOffsets: z.array(u16(), { error: 'expected a list of offsets' }).optional(),
    targetOffsets: z.array(u16(), { error: 'expected a list of offsets' }).optional(),
  },
  'the control structure',
);

/**
 * The schema of an encode spec. `checksum` and `checksumSum` are read-outs of a decoded table: accepted,
 * and ignored (encode computes the checksum). Derived fields (valid, bootSelected, subnetMask, originName,
 * chapTypeName, the LUN's forms, the PCI fields) may be given alongside what they derive from, and must agree.
 */
export const IbftSpecSchema = obj(
  {
    layout: z
      .enum(SPEC_LAYOUTS, { error: `layout is ${SPEC_LAYOUTS.map((l) => JSON.stringify(l)).join(' or ')}` })
      .optional(),
    header: HeaderSchema.optional(),
    checksumSum: u8().optional(),
    control: ControlSchema.optional(),
    initiator: InitiatorSchema.nullable().optional(),
    nics: z.array(NicSchema, { error: 'expected a list of NICs' }).optional(),
    targets: z.array(TargetSchema, { error: 'expected a list of targets' }).optional(),
  },
  'an iBFT spec',
);

export type IbftSpec = z.input<typeof IbftSpecSchema>;
type Parsed = z.output<typeof IbftSpecSchema>;
type ParsedString = z.output<typeof StringSchema>;
type ParsedAddress = z.output<typeof AddressSchema>;

// ---------------------------------------------------------------- errors

export interface SpecError {
  /** JSON path of the field, e.g. `targets[1].chapSecret`, `header.oemId`; '' for the whole spec. */
  path: string;
  /** What is wrong and how to fix it. */
  message: string;
}

export class IbftSpecError extends Error {
  constructor(readonly errors: SpecError[]) {
    super(errors.map((e) => `${e.path || '(spec)'}: ${e.message}`).join('\n'));
    this.name = 'IbftSpecError';
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

type Issue = z.core.$ZodIssue;

/** zod issues as SpecErrors; a union's error comes from the branch that matches the value's type. */
function issueErrors(issues: readonly Issue[], base: readonly PropertyKey[] = []): SpecError[] {
  const out: SpecError[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'invalid_union') {
      const branches = (issue as unknown as { errors: Issue[][] }).errors;
      // The branch the value's type fits: its root issue is not an invalid_type.
      const fitting = branches.find((b) => b.length && !b.some((i) => i.path.length === 0 && i.code === 'invalid_type'));
      if (fitting) {
        out.push(...issueErrors(fitting, path));
        continue;
      }
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of (issue as unknown as { keys: string[] }).keys) out.push({ path: formatPath([...path, key]), message: issue.message.replace(/^unknown fields? .*?: remove (it|them)/, 'unknown field: remove it') });
      continue;
    }
    out.push({ path: formatPath(path), message: issue.message });
  }
  return out;
}

// ---------------------------------------------------------------- normalized model

/** A string to place: its bytes and, when the spec says so, its offset. */
export interface NormalString {
  path: string;
  bytes: Uint8Array;
  offset?: number;
}

/** A structure to place: its bytes (string fields left zero) and the strings it points at. */
export interface NormalStructure {
  kind: SlotKind;
  /** JSON path, e.g. targets[2]. */
  path: string;
  slot: number;
  index: number;
  offset?: number;
  bytes: Uint8Array;
  /** Where in the structure each string's length/offset pair goes. */
  strings: { at: number; string: NormalString }[];
}

export interface NormalSpec {
  signature: string;
  length?: number;
  oemId: string;
  oemTableId: string;
  oemRevision: number;
  creatorId: string;
  creatorRevision: number;
  controlLength: number;
  controlFlags: number;
  extensions: number;
  initiator: NormalStructure | null;
  nics: NormalStructure[];
  targets: NormalStructure[];
  /** True when any structure or string has an offset from the spec (else `layout` places them). */
  explicit: boolean;
  layout: SpecLayout;
}

export type SpecResult = { ok: true; spec: NormalSpec } | { ok: false; errors: SpecError[] };

// ---------------------------------------------------------------- checks

const ORIGIN_BY_NAME = Object.fromEntries(Object.entries(ORIGIN_NAMES).map(([n, name]) => [name, Number(n)]));
const CHAP_BY_NAME: Record<string, number> = { none: 0, chap: 1, mutual: 2 };
const lossyUtf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

class Checker {
  readonly errors: SpecError[] = [];
  explicit = false;

  err(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  /** An ACPI id: at most `n` one-byte characters, written NUL-padded. */
  id(path: string, value: string | undefined, n: number, fallback: string): string {
    if (value === undefined) return fallback;
    const wide = [...value].find((c) => c.charCodeAt(0) > 0xff);
    if (wide) this.err(path, `holds ${JSON.stringify(wide)} (U+${wide.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}), not a one-byte character: ACPI ids are ASCII`);
    else if (value.length > n) this.err(path, `is ${value.length} characters; at most ${n} fit: shorten it`);
    return value;
  }

  address(path: string, a: ParsedAddress | undefined): Uint8Array {
    const bytes = new Uint8Array(16);
    if (a === undefined) return bytes;
    const isObj = typeof a !== 'string';
    const textValue = isObj ? a.address : a;
    const words = parseAddressWords(textValue);
    if (!words) {
      this.err(isObj ? `${path}.address` : path, `${JSON.stringify(textValue)} is not an IPv4 or IPv6 address: write a dotted quad (10.0.2.15) or IPv6 text (fd00::1)`);
      return bytes;
    }
    words.forEach((w, i) => {
      bytes[2 * i] = w >> 8;
      bytes[2 * i + 1] = w & 0xff;
    });
    if (isObj) {
      const decoded = decodeAddress(bytes);
      if (a.family !== decoded.family) {
        this.err(
          `${path}.family`,
          decoded.family === 'ipv4'
            ? `${textValue} is an IPv4 address (the table holds it IPv4-mapped, ::ffff:a.b.c.d): set family to "ipv4"`
            : `${textValue} is not an IPv4 address: set family to "ipv6", or give a dotted quad`,
        );
      }
      if (a.unset !== undefined && a.unset !== decoded.unset) {
        this.err(`${path}.unset`, `is ${a.unset} but ${textValue} is ${decoded.unset ? '' : 'not '}the all-zero address: remove unset (it is derived) or fix it`);
      }
    }
    return bytes;
  }

  /** A string field; for a `secret` one, no message quotes its text. */
  string(path: string, s: ParsedString | undefined, secret = false): NormalString | null {
    if (s === undefined || s === null) return null;
    if (typeof s === 'string') return this.sized(path, { path, bytes: Buffer.from(s, 'utf8') });
    if (s.masked) {
      this.err(path, 'is masked (decode prints CHAP secrets as ******** unless --reveal-secrets): put the secret in "value" and remove "masked", or decode with --reveal-secrets');
      return null;
    }
    let bytes: Uint8Array;
    if (s.hex !== undefined) {
      if (!/^([0-9a-fA-F]{2})*$/.test(s.hex)) {
        this.err(`${path}.hex`, 'is not hex bytes (pairs of 0-9, a-f): fix it, or remove hex and give value');
        return null;
      }
      bytes = Buffer.from(s.hex, 'hex');
      if (s.value !== undefined) {
        const nul = bytes.indexOf(0);
        const says = lossyUtf8.decode(nul >= 0 ? bytes.subarray(0, nul) : bytes);
        if (says !== s.value) {
          this.err(`${path}.value`, `does not match hex${secret ? '' : `, which reads ${JSON.stringify(says)}`}: remove value (hex is the bytes) or make them agree`);
        }
      }
    } else if (s.value !== undefined) {
      bytes = Buffer.from(s.value, 'utf8');
    } else {
      this.err(path, 'has neither value nor hex: give the text as "value" (or the bytes as "hex"), or make the field null');
      return null;
    }
    if (s.length !== undefined && s.length !== bytes.length) {
      this.err(`${path}.length`, `is ${s.length} but the string is ${bytes.length} bytes: remove length (encode computes it) or fix it`);
    }
    const out: NormalString = { path, bytes };
    if (s.offset !== undefined) {
      if (s.offset === 0) this.err(`${path}.offset`, 'is 0, which means "no string": make the field null, or remove offset to let encode place it');
      out.offset = s.offset;
      this.explicit = true;
    }
    return this.sized(path, out);
  }

  private sized(path: string, s: NormalString): NormalString {
    if (s.bytes.length > 0xffff) this.err(path, `is ${s.bytes.length} bytes; a string holds at most 65535 (its length is 16-bit): shorten it`);
    return s;
  }

  /** Flags from header.flags and/or the booleans derived from them; they must agree. */
  flags(path: string, given: number | undefined, bits: [name: string, bit: number, value: boolean | undefined, fallback: boolean][]): number {
    if (given !== undefined) {
      for (const [name, bit, value] of bits) {
        if (value !== undefined && value !== ((given & bit) !== 0)) {
          this.err(`${path}.${name}`, `is ${value} but header.flags ${given} has bit ${Math.log2(bit)} ${value ? 'clear' : 'set'}: remove ${name} (it is derived) or make them agree`);
        }
      }
      return given;
    }
    return bits.reduce((f, [, bit, value, fallback]) => ((value ?? fallback) ? f | bit : f), 0);
  }

  mac(path: string, mac: string | undefined): Uint8Array {
    if (mac === undefined) return new Uint8Array(6);
    if (!/^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i.test(mac)) {
      this.err(path, `${JSON.stringify(mac)} is not a MAC address: write six hex pairs, e.g. 52:54:00:12:34:56`);
      return new Uint8Array(6);
    }
    return Uint8Array.from(mac.split(/[:-]/), (h) => parseInt(h, 16));
  }

  pci(path: string, pci: z.output<typeof PciSchema> | undefined): number {
    if (pci === undefined) return 0;
    if (typeof pci === 'number') return pci;
    const fromFields = ((pci.bus ?? 0) << 8) | ((pci.device ?? 0) << 3) | (pci.function ?? 0);
    if (pci.raw === undefined) return fromFields;
    const fields = pci.bus !== undefined || pci.device !== undefined || pci.function !== undefined;
    if (fields && fromFields !== pci.raw) {
      this.err(path, `raw ${pci.raw} is bus ${pci.raw >> 8}, device ${(pci.raw >> 3) & 0x1f}, function ${pci.raw & 7}, not what bus/device/function say: give raw or the fields, or make them agree`);
    }
    return pci.raw;
  }

  lun(path: string, lun: z.output<typeof LunSchema> | undefined): Uint8Array {
    const bytes = new Uint8Array(8);
    if (lun === undefined) return bytes;
    const fromNumber = (n: number) => {
      // Single level, as decode reads it: peripheral addressing up to 255, flat space above.
      if (n <= 255) bytes[1] = n;
      else {
        bytes[0] = 0x40 | (n >> 8);
        bytes[1] = n & 0xff;
      }
    };
    const fromWords = (words: number[]) => words.forEach((w, i) => ((bytes[2 * i] = w >> 8), (bytes[2 * i + 1] = w & 0xff)));
    const textWords = (t: string, at: string) => {
      const parts = t.trim().split('-');
      if (parts.length > 4 || parts.some((p) => !/^[0-9a-f]{1,4}$/i.test(p))) {
        this.err(at, `${JSON.stringify(t)} is not a LUN: write up to four hex words joined by "-" as iPXE does ("1", "0001-0000-0000-0000")`);
        return null;
      }
      return [0, 1, 2, 3].map((i) => (parts[i] ? parseInt(parts[i], 16) : 0));
    };
    if (typeof lun === 'number') fromNumber(lun);
    else if (typeof lun === 'string') {
      const w = textWords(lun, path);
      if (w) fromWords(w);
    } else {
      // The bytes come from the first form given; the others are derived and must agree.
      const source = lun.hex !== undefined ? 'hex' : lun.words !== undefined ? 'words' : lun.text !== undefined ? 'text' : lun.number !== undefined && lun.number !== null ? 'number' : null;
      if (source === 'hex') {
        if (!/^[0-9a-f]{16}$/i.test(lun.hex!)) this.err(`${path}.hex`, 'is not 16 hex digits (the 8 LUN bytes): fix it');
        else bytes.set(Buffer.from(lun.hex!, 'hex'));
      } else if (source === 'words') {
        if (lun.words!.length !== 4) this.err(`${path}.words`, `has ${lun.words!.length} words; a LUN is 4: fix it`);
        else fromWords(lun.words!);
      } else if (source === 'text') {
        const w = textWords(lun.text!, `${path}.text`);
        if (w) fromWords(w);
      } else if (source === 'number') fromNumber(lun.number!);
      else {
        this.err(path, 'gives no LUN: write hex, words, text or number');
        return bytes;
      }
      const d = decodeLun(bytes);
      const check = (field: 'words' | 'text' | 'number', said: unknown, is: unknown) => {
        if (field === source || said === undefined || JSON.stringify(said) === JSON.stringify(is)) return;
        this.err(`${path}.${field}`, `is ${JSON.stringify(said)} but the LUN ${source} gives ${JSON.stringify(is)}: remove ${field} (it is derived) or make them agree`);
      };
      check('words', lun.words, d.words);
      check('text', lun.text, d.text);
      check('number', lun.number, d.number);
    }
    return bytes;
  }
}

const put16 = (b: Uint8Array, o: number, v: number) => ((b[o] = v & 0xff), (b[o + 1] = v >> 8));

function header(b: Uint8Array, id: number, size: number, index: number, flags: number): void {
  b[0] = id;
  b[1] = 1;
  put16(b, 2, size);
  b[4] = index;
  b[5] = flags;
}

/** Slot numbers: the spec's, else the lowest free ones in list order; duplicates are errors. */
function assignSlots(c: Checker, list: { slot?: number }[], name: string, label: string): number[] {
  const taken = new Map<number, number>();
  list.forEach((x, i) => {
    if (x.slot === undefined) return;
    const first = taken.get(x.slot);
    if (first !== undefined) c.err(`${name}[${i}].slot`, `slot ${x.slot} is also ${name}[${first}]'s: each control slot holds one ${label}; give it another slot or remove slot`);
    else taken.set(x.slot, i);
  });
  let next = 0;
  return list.map((x) => {
    if (x.slot !== undefined) return x.slot;
    while (taken.has(next)) next++;
    taken.set(next, -1);
    return next++;
  });
}

function checkIndices(c: Checker, list: NormalStructure[], kobject: string, label: string): void {
  const seen = new Map<number, string>();
  for (const s of list) {
    const first = seen.get(s.index);
    if (first !== undefined) {
      c.err(`${s.path}.header.index`, `index ${s.index} is also ${first}'s: Linux names both kobjects ${kobject}${s.index} and then shows no table at all; give each ${label} its own index`);
    } else seen.set(s.index, s.path);
  }
}

/** A key whose value is undefined is no key (as in JSON). */
function withoutUndefined(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutUndefined);
  if (!v || typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, withoutUndefined(x)]));
}

/** Validate a spec and bring it to what the layout needs. Never throws. */
export function parseIbftSpec(input: unknown): SpecResult {
  const parsed = IbftSpecSchema.safeParse(withoutUndefined(input));
  if (!parsed.success) return { ok: false, errors: issueErrors(parsed.error.issues) };
  return normalize(parsed.data);
}

function normalize(p: Parsed): SpecResult {
  const c = new Checker();
  const h = p.header ?? {};
  const initiatorIn = p.initiator ?? null;
  const nicsIn = p.nics ?? [];
  const targetsIn = p.targets ?? [];

  for (const [name, list] of [['initiator', initiatorIn ? [initiatorIn] : []], ['nics', nicsIn], ['targets', targetsIn]] as const) {
    list.forEach((x, i) => {
      if (x.via !== undefined) {
        c.err(name === 'initiator' ? 'initiator.via' : `${name}[${i}].via`, 'encode writes each structure in a control slot of its own kind: remove via (decode sets it for a structure found through a slot of another kind)');
      }
    });
  }

  // NICs
  const nicSlots = assignSlots(c, nicsIn, 'nics', 'NIC');
  const nics: NormalStructure[] = nicsIn.map((n, i) => {
    const path = `nics[${i}]`;
    const slot = nicSlots[i];
    const b = new Uint8Array(STRUCTURE_SIZE.nic);
    const index = n.header?.index ?? slot;
    if (index > 255) c.err(`${path}.header.index`, `the NIC in slot ${slot} needs an index (0-255): give header.index`);
    const flags = c.flags(path, n.header?.flags, [
      ['valid', 1, n.valid, true],
      ['bootSelected', 2, n.bootSelected, true],
      ['global', 4, n.global, false],
    ]);
    header(b, 3, STRUCTURE_SIZE.nic, index & 0xff, flags);
    const ip = c.address(`${path}.ip`, n.ip);
    b.set(ip, 6);
    const family = decodeAddress(ip).family;
    const prefix = n.prefixLength ?? 0;
    const maxPrefix = family === 'ipv4' ? 32 : 128;
    if (prefix > maxPrefix) c.err(`${path}.prefixLength`, `${prefix} is too long for an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address (at most ${maxPrefix}): lower it${family === 'ipv4' ? ' or give an IPv6 ip' : ''}`);
    b[22] = prefix;
    if (n.subnetMask !== undefined && n.subnetMask !== prefixToMask(prefix)) {
      c.err(`${path}.subnetMask`, `is derived from prefixLength (Linux's formula gives ${prefixToMask(prefix)} for ${prefix}): remove it or make it ${prefixToMask(prefix)}`);
    }
    let origin = n.origin;
    if (n.originName !== undefined) {
      const byName = ORIGIN_BY_NAME[n.originName];
      if (origin === undefined && byName === undefined) {
        c.err(`${path}.originName`, `${JSON.stringify(n.originName)} is not an origin name (${Object.values(ORIGIN_NAMES).join(', ')}): use one, or give origin as a number`);
      } else if (origin !== undefined && (ORIGIN_NAMES[origin] ?? 'unknown') !== n.originName) {
        c.err(`${path}.originName`, `is ${JSON.stringify(n.originName)} but origin ${origin} is ${JSON.stringify(ORIGIN_NAMES[origin] ?? 'unknown')}: remove originName (it is derived) or make them agree`);
      }
      origin ??= byName;
    }
    b[23] = origin ?? 0;
    b.set(c.address(`${path}.gateway`, n.gateway), 24);
    b.set(c.address(`${path}.primaryDns`, n.primaryDns), 40);
    b.set(c.address(`${path}.secondaryDns`, n.secondaryDns), 56);
    b.set(c.address(`${path}.dhcp`, n.dhcp), 72);
    put16(b, 88, n.vlan ?? 0);
    b.set(c.mac(`${path}.mac`, n.mac), 90);
    put16(b, 96, c.pci(`${path}.pci`, n.pci));
    const hostname = c.string(`${path}.hostname`, n.hostname);
    if (n.offset !== undefined) c.explicit = true;
    return { kind: 'nic', path, slot, index, offset: n.offset, bytes: b, strings: hostname ? [{ at: 98, string: hostname }] : [] };
  });

  // Targets
  const targetSlots = assignSlots(c, targetsIn, 'targets', 'target');
  const targets: NormalStructure[] = targetsIn.map((t, i) => {
    const path = `targets[${i}]`;
    const slot = targetSlots[i];
    const b = new Uint8Array(STRUCTURE_SIZE.target);
    const index = t.header?.index ?? slot;
    if (index > 255) c.err(`${path}.header.index`, `the target in slot ${slot} needs an index (0-255): give header.index`);
    const flags = c.flags(path, t.header?.flags, [
      ['valid', 1, t.valid, true],
      ['bootSelected', 2, t.bootSelected, true],
      ['radiusChap', 4, t.radiusChap, false],
      ['radiusReverseChap', 8, t.radiusReverseChap, false],
    ]);
    header(b, 4, STRUCTURE_SIZE.target, index & 0xff, flags);
    b.set(c.address(`${path}.ip`, t.ip), 6);
    put16(b, 22, t.port ?? 3260);
    b.set(c.lun(`${path}.lun`, t.lun), 24);
    const name = c.string(`${path}.name`, t.name);
    const chapName = c.string(`${path}.chapName`, t.chapName);
    const chapSecret = c.string(`${path}.chapSecret`, t.chapSecret, true);
    const reverseChapName = c.string(`${path}.reverseChapName`, t.reverseChapName);
    const reverseChapSecret = c.string(`${path}.reverseChapSecret`, t.reverseChapSecret, true);
    let chapType = t.chapType;
    if (chapType !== undefined && !(chapType in CHAP_TYPE_NAMES)) {
      c.err(`${path}.chapType`, `is ${chapType}; encode writes 0 (none), 1 (chap) or 2 (mutual)`);
    }
    if (t.chapTypeName !== undefined) {
      if (t.chapTypeName === 'unknown') c.err(`${path}.chapTypeName`, 'is "unknown": encode writes "none", "chap" or "mutual"; use one (or give chapType)');
      else if (chapType !== undefined && CHAP_TYPE_NAMES[chapType] !== undefined && CHAP_TYPE_NAMES[chapType] !== t.chapTypeName) {
        c.err(`${path}.chapTypeName`, `is ${JSON.stringify(t.chapTypeName)} but chapType ${chapType} is ${JSON.stringify(CHAP_TYPE_NAMES[chapType])}: remove chapTypeName (it is derived) or make them agree`);
      }
      chapType ??= CHAP_BY_NAME[t.chapTypeName];
    }
    // Without a type, the strings given say it.
    chapType ??= reverseChapName || reverseChapSecret ? 2 : chapName || chapSecret ? 1 : 0;
    const typeName = CHAP_TYPE_NAMES[chapType];
    if (chapType === 1 || chapType === 2) {
      if (!chapName) c.err(`${path}.chapName`, `CHAP type ${typeName} needs a CHAP name: add chapName, or set chapType to 0 (none)`);
      if (!chapSecret) c.err(`${path}.chapSecret`, `CHAP type ${typeName} needs a CHAP secret: add chapSecret, or set chapType to 0 (none)`);
    }
    if (chapType === 2) {
      if (!reverseChapName) c.err(`${path}.reverseChapName`, 'CHAP type mutual needs a reverse CHAP name: add reverseChapName, or set chapType to 1 (chap)');
      if (!reverseChapSecret) c.err(`${path}.reverseChapSecret`, 'CHAP type mutual needs a reverse CHAP secret: add reverseChapSecret, or set chapType to 1 (chap)');
    }
    b[32] = chapType;
    b[33] = t.nicAssociation ?? 0;
    const strings: NormalStructure['strings'] = [];
    for (const [at, s] of [[34, name], [38, chapName], [42, chapSecret], [46, reverseChapName], [50, reverseChapSecret]] as const) if (s) strings.push({ at, string: s });
    if (t.offset !== undefined) c.explicit = true;
    return { kind: 'target', path, slot, index, offset: t.offset, bytes: b, strings };
  });

  // Initiator
  let initiator: NormalStructure | null = null;
  if (initiatorIn) {
    const ini = initiatorIn;
    const path = 'initiator';
    const b = new Uint8Array(STRUCTURE_SIZE.initiator);
    const flags = c.flags(path, ini.header?.flags, [
      ['valid', 1, ini.valid, true],
      ['bootSelected', 2, ini.bootSelected, true],
    ]);
    const index = ini.header?.index ?? 0;
    header(b, 2, STRUCTURE_SIZE.initiator, index, flags);
    b.set(c.address(`${path}.isnsServer`, ini.isnsServer), 6);
    b.set(c.address(`${path}.slpServer`, ini.slpServer), 22);
    b.set(c.address(`${path}.primaryRadiusServer`, ini.primaryRadiusServer), 38);
    b.set(c.address(`${path}.secondaryRadiusServer`, ini.secondaryRadiusServer), 54);
    const name = c.string(`${path}.name`, ini.name);
    if (ini.offset !== undefined) c.explicit = true;
    initiator = { kind: 'initiator', path, slot: 0, index, offset: ini.offset, bytes: b, strings: name ? [{ at: 70, string: name }] : [] };
  }

  checkIndices(c, nics, 'ethernet', 'NIC');
  checkIndices(c, targets, 'target', 'target');

  // Control: its length says how many slots there are; its offsets, when given, must agree with the structures.
  const ctl = p.control ?? {};
  const maxNic = Math.max(-1, ...nics.map((n) => n.slot));
  const maxTarget = Math.max(-1, ...targets.map((t) => t.slot));
  const lastPosition = Math.max(4, 1 + 2 * maxNic, 2 + 2 * maxTarget);
  const needed = 8 + 2 * (lastPosition + 1);
  const pairs = Math.max(2, maxNic + 1, maxTarget + 1);
  const fromArrays = 8 + 2 * (Math.max(4, 2 * (ctl.nicOffsets?.length ?? 0) - 1, 2 * (ctl.targetOffsets?.length ?? 0)) + 1);
  let controlLength = ctl.header?.length ?? Math.max(10 + 4 * pairs, fromArrays);
  if (ctl.header?.length !== undefined) {
    const L = ctl.header.length;
    if (L < STRUCTURE_SIZE.control) c.err('control.header.length', `is ${L}; a control structure is at least 18 bytes (Linux rejects a shorter one): raise it or remove it`);
    else if (L % 2) c.err('control.header.length', `is ${L}, odd: slots are 16-bit, so the length is even: make it ${L + 1} or remove it`);
    else if (L < needed) {
      const pos = (L - 8) >> 1;
      const which = maxTarget >= 0 && 2 + 2 * maxTarget === lastPosition ? `a target in slot ${maxTarget}` : `a NIC in slot ${maxNic}`;
      c.err('control.header.length', `is ${L}: room for ${pos >> 1} NIC and ${(pos - 1) >> 1} target slots, but the spec has ${which}: raise it to ${needed} or remove it`);
    }
    if (L < STRUCTURE_SIZE.control) controlLength = STRUCTURE_SIZE.control;
  }
  const positions = (controlLength - 8) >> 1;
  const nicSlotCount = positions >> 1;
  const targetSlotCount = (positions - 1) >> 1;
  const checkOffsets = (list: number[] | undefined, structures: NormalStructure[], name: 'nicOffsets' | 'targetOffsets', label: string, slotCount: number, arrayName: string) => {
    if (!list) return;
    if (ctl.header?.length !== undefined && list.length !== slotCount) {
      c.err(`control.${name}`, `has ${list.length} entries but a control of ${controlLength} bytes has ${slotCount} ${label} slots: remove control (encode builds it), or make them agree`);
    }
    list.forEach((v, k) => {
      const s = structures.find((x) => x.slot === k);
      if (v === 0 && s) c.err(`control.${name}[${k}]`, `is 0 (slot unused) but ${s.path} is in slot ${k}: remove control (encode builds it), or fix it`);
      else if (v !== 0 && !s) c.err(`control.${name}[${k}]`, `is ${v} but no ${label} in ${arrayName} has slot ${k}: set it to 0, or remove control (encode builds it)`);
      else if (s && v !== 0) {
        if (s.offset === undefined) {
          s.offset = v;
          c.explicit = true;
        } else if (s.offset !== v) c.err(`control.${name}[${k}]`, `is ${v} but ${s.path}.offset is ${s.offset}: remove one, or make them agree`);
      }
    });
  };
  checkOffsets(ctl.nicOffsets, nics, 'nicOffsets', 'NIC', nicSlotCount, 'nics');
  checkOffsets(ctl.targetOffsets, targets, 'targetOffsets', 'target', targetSlotCount, 'targets');
  if (ctl.initiatorOffset !== undefined) {
    if (ctl.initiatorOffset === 0 && initiator) c.err('control.initiatorOffset', 'is 0 (no initiator) but the spec has an initiator: remove control.initiatorOffset, or fix it');
    else if (ctl.initiatorOffset !== 0 && !initiator) c.err('control.initiatorOffset', `is ${ctl.initiatorOffset} but the spec has no initiator: set it to 0, or add the initiator`);
    else if (initiator && ctl.initiatorOffset !== 0) {
      if (initiator.offset === undefined) {
        initiator.offset = ctl.initiatorOffset;
        c.explicit = true;
      } else if (initiator.offset !== ctl.initiatorOffset) c.err('control.initiatorOffset', `is ${ctl.initiatorOffset} but initiator.offset is ${initiator.offset}: remove one, or make them agree`);
    }
  }

  const spec: NormalSpec = {
    signature: h.signature ?? 'iBFT',
    length: h.length,
    oemId: c.id('header.oemId', h.oemId, 6, 'FENSYS'),
    oemTableId: c.id('header.oemTableId', h.oemTableId, 8, 'iPXE'),
    oemRevision: h.oemRevision ?? 0,
    creatorId: c.id('header.creatorId', h.creatorId, 4, ''),
    creatorRevision: h.creatorRevision ?? 0,
    controlLength,
    controlFlags: ctl.header?.flags ?? 0,
    extensions: ctl.extensions ?? 0,
    initiator,
    nics: [...nics].sort((a, b) => a.slot - b.slot),
    targets: [...targets].sort((a, b) => a.slot - b.slot),
    explicit: c.explicit,
    layout: p.layout ?? 'ipxe',
  };
  if (p.layout !== undefined && c.explicit) {
    c.err('layout', 'places only what has no offset, but this spec gives offsets (a decoded table has them all): remove layout, or the offsets');
  }
  return c.errors.length ? { ok: false, errors: c.errors } : { ok: true, spec };
}
