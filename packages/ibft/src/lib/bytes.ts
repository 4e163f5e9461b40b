// Bounds-safe little-endian reads: out-of-range bytes read as 0, so callers
// that validate ranges separately can never throw on hostile input.
export const u8 = (b: Uint8Array, o: number): number => b[o] ?? 0;
export const u16 = (b: Uint8Array, o: number): number => u8(b, o) | (u8(b, o + 1) << 8);
export const u32 = (b: Uint8Array, o: number): number => (u16(b, o) | (u16(b, o + 2) << 16)) >>> 0;
export const u64 = (b: Uint8Array, o: number): number => u32(b, o) + u32(b, o + 4) * 2 ** 32;

/** `n` bytes as Latin-1 text; with `stopAtNul`, up to the first NUL (ACPI's padded ids). */
export function ascii(b: Uint8Array, o: number, n: number, stopAtNul = false): string {
  let s = '';
  for (let i = 0; i < n && o + i < b.length; i++) {
    if (stopAtNul && b[o + i] === 0) break;
    s += String.fromCharCode(b[o + i]);
  }
  return s;
}

/** Sum of `n` bytes from `o` (clipped to the buffer) mod 256: 0 for a correctly checksummed ACPI table. */
export function sum8(b: Uint8Array, o: number, n: number): number {
  let s = 0;
  const end = Math.min(b.length, o + n);
  for (let i = o; i < end; i++) s = (s + b[i]) & 0xff;
  return s;
}
