// 16-byte iBFT addresses: decoding, and the notations Linux and humans use.
import type { IpAddress } from './structures';

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

function isMappedIpv4(b: ArrayLike<number>): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** Decode 16 bytes the way Linux's sprintf_ipaddr decides between IPv4 and IPv6. */
export function decodeAddress(b: ArrayLike<number>): IpAddress {
  if (isMappedIpv4(b)) {
    const address = `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
    return { family: 'ipv4', address, unset: address === '0.0.0.0' };
  }
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i] << 8) | b[i + 1]);
  return { family: 'ipv6', address: compressIpv6(words), unset: words.every((w) => w === 0) };
}

/** RFC 5952 text: longest run (>= 2) of zero words becomes '::', lower-case, no leading zeros. */
export function compressIpv6(words: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const parts = words.map((w) => w.toString(16));
  if (bestStart < 0) return parts.join(':');
  const head = parts.slice(0, bestStart).join(':');
  const tail = parts.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}`;
}

/** Parse IPv4 or IPv6 text into 8 words (IPv4 becomes IPv4-mapped); null when malformed. */
export function parseAddressWords(text: string): number[] | null {
  const t = text.trim().replace(/^\[|\]$/g, '');
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(t);
  if (v4) {
    const o = v4.slice(1).map(Number);
    if (o.some((x) => x > 255)) return null;
    return [0, 0, 0, 0, 0, 0xffff, (o[0] << 8) | o[1], (o[2] << 8) | o[3]];
  }
  if (!t.includes(':')) return null;
  let body = t;
  let tailV4: number[] = [];
  const embedded = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(t);
  if (embedded) {
    const mapped = parseAddressWords(embedded[2]);
    if (!mapped) return null;
    tailV4 = mapped.slice(6);
    body = embedded[1].endsWith('::') ? embedded[1] : embedded[1].slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((p) => (/^[0-9a-f]{1,4}$/i.test(p) ? parseInt(p, 16) : NaN)));
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? [...parse(halves[1]), ...tailV4] : [];
  const all = halves.length === 2 ? head : [...head, ...tailV4];
  if ([...all, ...tail].some((n) => Number.isNaN(n))) return null;
  if (halves.length === 1) return all.length === 8 ? all : null;
  const zeros = 8 - head.length - tail.length;
  if (zeros < 1) return null;
  return [...head, ...new Array<number>(zeros).fill(0), ...tail];
}

/** Canonical text for comparisons: dotted quad for IPv4(-mapped), RFC 5952 for IPv6; null when malformed. */
export function canonicalAddress(text: string): string | null {
  const words = parseAddressWords(text);
  if (!words) return null;
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  return decodeAddress(bytes).address;
}

/** Linux `%pI6`: eight 4-digit lower-case hex groups, never compressed. */
export function linuxIpv6(address: string): string {
  const words = parseAddressWords(address) ?? new Array<number>(8).fill(0);
  return words.map(hex4).join(':');
}

/** Linux's NIC subnet-mask: cpu_to_be32(~((1 << (32 - prefix)) - 1)). JS shifts count mod 32 like x86 does. */
export function prefixToMask(prefix: number): string {
  const mask = ~((1 << (32 - prefix)) - 1) >>> 0;
  return [mask >>> 24, (mask >>> 16) & 0xff, (mask >>> 8) & 0xff, mask & 0xff].join('.');
}
