// The ELF reader on real binaries of this (Debian) machine, and a copy of one
// with its libraries out of "/" taken as an unpacked root.
import { lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyBinariesWithLibraries, elfDynamicInfo } from './elf-libraries';
import { restoreMergedUsr } from './extract-debs';

describe('ELF libraries', () => {
  it('reads the interpreter and DT_NEEDED of a dynamic binary, and refuses what is not ELF', () => {
    const info = elfDynamicInfo(readFileSync('/usr/bin/true'), '/usr/bin/true');
    expect(info.interpreter).toBe('/lib64/ld-linux-x86-64.so.2');
    expect(info.needed).toContain('libc.so.6');
    expect(() => elfDynamicInfo(Buffer.from('#!/bin/sh\n'), 'script')).toThrow('script: not an ELF file');
  });

  it('copies a binary with every library it loads and the loader, links kept as links', () => {
    const to = mkdtempSync(join(tmpdir(), 'ibft-lab-elf-'));
    // A guest root is merged-usr, as Debian's: /lib64 → usr/lib64 and so on.
    restoreMergedUsr(to);
    try {
      const copied = copyBinariesWithLibraries('/', to, ['/usr/bin/true']);
      expect(copied.libraries).toContain('libc.so.6');
      expect(copied.libraries).toContain('ld-linux-x86-64.so.2');
      expect(copied.files).toContain('/usr/bin/true');
      for (const file of copied.files) expect(() => lstatSync(join(to, file))).not.toThrow();
      // A soname no root holds names the binary that needs it.
      const fake = mkdtempSync(join(tmpdir(), 'ibft-lab-elf-root-'));
      try {
        writeFileSync(join(fake, 'tool'), readFileSync('/usr/bin/true'));
        expect(() => copyBinariesWithLibraries(fake, to, ['/tool'])).toThrow(/libc\.so\.6, needed by \/tool, is in none of the unpacked packages/);
      } finally {
        rmSync(fake, { recursive: true, force: true });
      }
    } finally {
      rmSync(to, { recursive: true, force: true });
    }
  });
});
