import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { StartVmSpec } from '@ibft-lab/qemu-runner';
import { savedStatePath, savedStateUnavailable } from './saved-state';

// savedStatePath asks QEMU for its version (part of the key): real qemu-system-x86_64.
const maybe = existsSync('/usr/bin/qemu-system-x86_64') ? describe : describe.skip;
if (!existsSync('/usr/bin/qemu-system-x86_64')) console.log('saved-state key tests skipped: qemu-system-x86_64 is not installed (bash tools/setup)');

maybe("the saved appliance state's key", () => {
  const spec = (cache: string, append = 'console=ttyS0 rdinit=/init'): StartVmSpec => ({
    accel: 'tcg',
    memoryMiB: 768,
    firmware: 'bios',
    kernel: { path: `${cache}/lio-appliance/k1/vmlinuz`, initrd: `${cache}/lio-appliance/k1/initramfs`, append },
    nics: [{ model: 'virtio-net-pci', netdev: { kind: 'user', hostForwards: [{ hostPort: 40001, guestPort: 22 }] } }],
  });

  it('does not depend on where the cache lies (entries linked in from another cache restore there too)', () => {
    expect(basename(savedStatePath('/cache-a', 'k1', spec('/cache-a')))).toBe(basename(savedStatePath('/cache-b', 'k1', spec('/cache-b'))));
    expect(savedStatePath('/cache-b', 'k1', spec('/cache-b')).startsWith('/cache-b/lio-appliance-state/')).toBe(true);
  });

  it('nor on the host ports of the run, but on what the guest sees: its image, its command line', () => {
    const other = spec('/c');
    const ports = { ...other, nics: [{ ...other.nics[0], netdev: { kind: 'user' as const, hostForwards: [{ hostPort: 40999, guestPort: 22 }] } }] };
    expect(savedStatePath('/c', 'k1', ports)).toBe(savedStatePath('/c', 'k1', spec('/c')));
    expect(savedStatePath('/c', 'k2', spec('/c'))).not.toBe(savedStatePath('/c', 'k1', spec('/c')));
    expect(savedStatePath('/c', 'k1', spec('/c', 'console=ttyS0 rdinit=/init quiet'))).not.toBe(savedStatePath('/c', 'k1', spec('/c')));
  });
});

describe('the tool that carries a saved state', () => {
  const path = process.env.PATH;
  afterEach(() => (process.env.PATH = path));

  it('is zstd, found on PATH; without it the reason names the fix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-path-'));
    try {
      process.env.PATH = dir;
      expect(savedStateUnavailable()).toBe('zstd is not on PATH (bash tools/setup installs it)');
      // A real zstd (or the test's stand-in for where it lies): only its presence is asked.
      symlinkSync('/bin/true', join(dir, 'zstd'));
      expect(savedStateUnavailable()).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
