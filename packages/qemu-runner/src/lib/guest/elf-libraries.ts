// Copies chosen ELF binaries out of an unpacked Debian root with exactly the
// shared libraries they load (DT_NEEDED, transitively) and their program
// interpreter, so a guest gets a few tools without whole packages (their
// docs, locales, plugins and the rest of their dependency trees). Reads the
// ELF headers itself: no readelf/ldd on the host, and nothing is executed.
import { copyFileSync, lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync, symlinkSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';

export interface ElfDynamicInfo {
  /** PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2; null for a static binary or a library. */
  interpreter: string | null;
  /** DT_NEEDED sonames in file order. */
  needed: string[];
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;

/** The interpreter and DT_NEEDED entries of a 64-bit little-endian ELF file (x86-64 guests). */
export function elfDynamicInfo(bytes: Buffer, name = 'file'): ElfDynamicInfo {
  if (bytes.length < 64 || bytes.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${name}: not an ELF file`);
  if (bytes[4] !== 2 || bytes[5] !== 1) throw new Error(`${name}: not a 64-bit little-endian ELF file`);
  const phoff = Number(bytes.readBigUInt64LE(0x20));
  const phentsize = bytes.readUInt16LE(0x36);
  const phnum = bytes.readUInt16LE(0x38);
  const loads: Array<{ vaddr: bigint; offset: bigint; filesz: bigint }> = [];
  let dynamic: { offset: number; size: number } | null = null;
  let interpreter: string | null = null;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 56 > bytes.length) throw new Error(`${name}: program header ${i} is past the end of the file`);
    const type = bytes.readUInt32LE(at);
    const offset = bytes.readBigUInt64LE(at + 8);
    const vaddr = bytes.readBigUInt64LE(at + 16);
    const filesz = bytes.readBigUInt64LE(at + 32);
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    if (type === PT_DYNAMIC) dynamic = { offset: Number(offset), size: Number(filesz) };
    if (type === PT_INTERP) interpreter = cString(bytes, Number(offset));
  }
  if (!dynamic) return { interpreter, needed: [] };
  const entries: Array<[bigint, bigint]> = [];
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.size; at += 16) {
    const tag = bytes.readBigInt64LE(at);
    if (tag === DT_NULL) break;
    entries.push([tag, bytes.readBigUInt64LE(at + 8)]);
  }
  const strtabAddress = entries.find(([tag]) => tag === DT_STRTAB)?.[1];
  if (strtabAddress === undefined) throw new Error(`${name}: dynamic section has no string table`);
  // DT_STRTAB is a virtual address: find the file offset through the load segment holding it.
  const segment = loads.find((l) => strtabAddress >= l.vaddr && strtabAddress < l.vaddr + l.filesz);
  if (!segment) throw new Error(`${name}: string table address 0x${strtabAddress.toString(16)} is in no load segment`);
  const strtab = Number(strtabAddress - segment.vaddr + segment.offset);
  const needed = entries.filter(([tag]) => tag === DT_NEEDED).map(([, value]) => cString(bytes, strtab + Number(value)));
  return { interpreter, needed };
}

function cString(bytes: Buffer, offset: number): string {
  const end = bytes.indexOf(0, offset);
  return bytes.subarray(offset, end < 0 ? bytes.length : end).toString('latin1');
}

/** Where the Debian x86-64 loader looks (ld.so.conf.d/x86_64-linux-gnu.conf, then the defaults). */
export const LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib', '/lib', '/usr/lib64', '/lib64'];

export interface CopiedBinaries {
  /** Guest paths of every file copied (binaries, libraries, interpreter), sorted. */
  files: string[];
  /** Sonames resolved, sorted. */
  libraries: string[];
}

/**
 * Copies `binaries` (guest paths, e.g. /usr/sbin/iscsiadm) from `fromRoot` to
 * `toRoot`, with every library they need resolved in `fromRoot`. A soname
 * found nowhere is an error naming the binary that needs it.
 */
export function copyBinariesWithLibraries(fromRoot: string, toRoot: string, binaries: string[]): CopiedBinaries {
  const copied = new Set<string>();
  const libraries = new Set<string>();
  const queue: Array<{ path: string; neededBy: string }> = binaries.map((path) => ({ path, neededBy: 'the list' }));
  const copyFile = (guestPath: string) => {
    if (copied.has(guestPath)) return;
    copied.add(guestPath);
    copyPreservingLinks(fromRoot, toRoot, guestPath);
  };
  while (queue.length) {
    const { path, neededBy } = queue.shift()!;
    const source = resolveInRoot(fromRoot, path);
    if (!source) throw new Error(`${path} (needed by ${neededBy}) is not in the unpacked packages`);
    if (copied.has(path)) continue;
    copyFile(path);
    const info = elfDynamicInfo(readFileSync(source), path);
    if (info.interpreter) queue.push({ path: info.interpreter, neededBy: path });
    for (const soname of info.needed) {
      if (libraries.has(soname)) continue;
      const dir = LIBRARY_DIRS.find((d) => resolveInRoot(fromRoot, posix.join(d, soname)));
      if (!dir) throw new Error(`${soname}, needed by ${path}, is in none of the unpacked packages (${LIBRARY_DIRS.join(', ')}): add the package that ships it`);
      libraries.add(soname);
      queue.push({ path: posix.join(dir, soname), neededBy: path });
    }
  }
  return { files: [...copied].sort(), libraries: [...libraries].sort() };
}

/** A guest path resolved inside root (following links, absolute ones relative to root); null when absent. */
function resolveInRoot(root: string, guestPath: string, depth = 0): string | null {
  if (depth > 16) return null;
  const parts = guestPath.split('/').filter(Boolean);
  let current = root;
  for (const [i, part] of parts.entries()) {
    const next = join(current, part);
    let stat;
    try {
      stat = lstatSync(next);
    } catch {
      return null;
    }
    if (stat.isSymbolicLink()) {
      const target = readlinkSync(next);
      const rest = parts.slice(i + 1).join('/');
      const base = target.startsWith('/') ? target : posix.join('/', relative(root, current), target);
      return resolveInRoot(root, posix.join(base, rest), depth + 1);
    }
    current = next;
  }
  return current;
}

/** Copies one guest path; a symbolic link is copied as a link and its target copied too. */
function copyPreservingLinks(fromRoot: string, toRoot: string, guestPath: string, depth = 0): void {
  const source = resolveInRoot(fromRoot, posix.dirname(guestPath));
  if (!source) throw new Error(`${posix.dirname(guestPath)} is not in the unpacked packages`);
  const file = join(source, posix.basename(guestPath));
  const guestDir = posix.join('/', relative(fromRoot, source));
  const destination = join(toRoot, guestDir, posix.basename(guestPath));
  mkdirSync(dirname(destination), { recursive: true });
  const stat = lstatSync(file);
  if (stat.isSymbolicLink() && depth < 16) {
    const target = readlinkSync(file);
    // Relative links keep working in the guest; absolute ones are guest paths already.
    if (!isPresent(destination)) symlinkSync(target, destination);
    copyPreservingLinks(fromRoot, toRoot, target.startsWith('/') ? target : posix.join(guestDir, target), depth + 1);
    return;
  }
  copyFileSync(realpathSync(file), destination);
}

function isPresent(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
