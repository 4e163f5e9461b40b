import { scriptWithProbe } from './boot-lab';

describe('scriptWithProbe', () => {
  const script = '#!ipxe\ndhcp\nsanhook iscsi:10.0.2.2::3260:1:iqn.2003-01.org.example:lab ||\necho == config done ==\n';

  it('boots the probe guest right after the marker, with the salt on the kernel command line', () => {
    const { text, replaced } = scriptWithProbe(script, '== config done ==', 'f00d');
    expect(text).toMatch(/echo == config done ==\nkernel tftp:\/\/10\.0\.2\.2\/probe\/vmlinuz .*ibft_lab\.salt=f00d\ninitrd tftp:\/\/10\.0\.2\.2\/probe\/initrd\.cpio\nboot\n$/);
    expect(replaced).toEqual([]);
  });

  it("replaces the script's own next step after the marker, and says which lines", () => {
    const { text, replaced } = scriptWithProbe(`${script}prompt --key 0x02 --timeout 2000 Press && shell ||\nexit\n`, '== config done ==', 's');
    expect(replaced).toEqual(['prompt --key 0x02 --timeout 2000 Press && shell ||', 'exit']);
    expect(text).not.toMatch(/exit|prompt/);
  });

  it('refuses a script without the marker, naming the fix', () => {
    expect(() => scriptWithProbe('#!ipxe\ndhcp\n', '== config done ==', 's')).toThrow(/^script: no `echo == config done ==` line.*set marker/);
  });
});
