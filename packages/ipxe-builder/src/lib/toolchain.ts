// Checks that iPXE's build tools are present before a 45-second build fails
// halfway, and names the Debian packages that provide the missing ones.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface ToolRequirement {
  /** What is needed, as a user would recognise it. */
  what: string;
  /** Debian package that provides it. */
  debianPackage: string;
  /** Present when any of these files exists (absolute) or programs is on PATH. */
  programs?: string[];
  files?: string[];
}

const BASE: ToolRequirement[] = [
  { what: 'gcc', debianPackage: 'gcc', programs: ['gcc'] },
  { what: 'make', debianPackage: 'make', programs: ['make'] },
  { what: 'perl', debianPackage: 'perl', programs: ['perl'] },
  { what: 'objcopy, ld (binutils)', debianPackage: 'binutils', programs: ['objcopy'] },
  { what: 'lzma.h (liblzma headers)', debianPackage: 'liblzma-dev', files: ['/usr/include/lzma.h', '/usr/include/x86_64-linux-gnu/lzma.h'] },
];

const ISO: ToolRequirement[] = [
  { what: 'mtools (mformat, mcopy)', debianPackage: 'mtools', programs: ['mformat'] },
  { what: 'genisoimage or xorriso', debianPackage: 'genisoimage', programs: ['genisoimage', 'mkisofs', 'xorrisofs'] },
  { what: 'isolinux.bin', debianPackage: 'isolinux', files: ['/usr/lib/ISOLINUX/isolinux.bin', '/usr/lib/syslinux/isolinux.bin'] },
  { what: 'ldlinux.c32', debianPackage: 'syslinux-common', files: ['/usr/lib/syslinux/modules/bios/ldlinux.c32'] },
];

export function requirementsFor(makeTarget: string): ToolRequirement[] {
  const ext = makeTarget.slice(makeTarget.lastIndexOf('.') + 1);
  return ext === 'iso' || ext === 'usb' || ext === 'img' ? [...BASE, ...ISO] : BASE;
}

function onPath(program: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, program)));
}

export function missingTools(makeTarget: string, env: NodeJS.ProcessEnv = process.env): ToolRequirement[] {
  return requirementsFor(makeTarget).filter(
    (req) => !(req.programs?.some((p) => onPath(p, env)) || req.files?.some((f) => existsSync(f))),
  );
}

export function missingToolsMessage(missing: ToolRequirement[]): string {
  const packages = [...new Set(missing.map((m) => m.debianPackage))];
  return (
    `cannot build iPXE: missing ${missing.map((m) => m.what).join(', ')}. ` +
    `Install the Debian packages with: apt-get install ${packages.join(' ')} (tools/setup installs them all)`
  );
}
