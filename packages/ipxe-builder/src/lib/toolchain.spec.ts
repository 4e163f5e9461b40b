import { missingTools, missingToolsMessage } from './toolchain';

describe('toolchain check', () => {
  it('finds the build tools tools/setup installs', () => {
    expect(missingTools('bin/rtl8139.rom').map((m) => m.what)).toEqual([]);
  });
  it('reports missing programs with their Debian package names', () => {
    const missing = missingTools('bin/ipxe.iso', { PATH: '/nonexistent' });
    const message = missingToolsMessage(missing);
    expect(message).toMatch(/missing gcc, make, perl/);
    expect(message).toMatch(/apt-get install gcc make perl binutils/);
    expect(message).toMatch(/mtools/);
    expect(message).toMatch(/tools\/setup/);
  });
});
