import { scriptWithProbe } from './boot-lab';

describe('scriptWithProbe', () => {
  const script = '#!ipxe\ndhcp\nsanhook iscsi:10.0.2.2::3260:1:iqn.2003-01.org.example:lab ||\necho == config done ==\n';

  it('boots the probe guest right after the marker, with the salt on the kernel command line', () => {
    const text = scriptWithProbe(script, '== config done ==', 'f00d');
    expect(text).toMatch(/echo == config done ==\nkernel tftp:\/\/10\.0\.2\.2\/probe\/vmlinuz .*ibft_lab\.salt=f00d\ninitrd tftp:\/\/10\.0\.2\.2\/probe\/initrd\.cpio\.gz\nboot\n$/);
  });

  it('refuses a script without the marker, or one that goes on after it, naming the fix', () => {
    expect(() => scriptWithProbe('#!ipxe\ndhcp\n', '== config done ==', 's')).toThrow(/^script: no `echo == config done ==` line/);
    expect(() => scriptWithProbe(`${script}sanboot\n`, '== config done ==', 's')).toThrow(/continues after the marker \(sanboot\).*set probe false/);
  });
});
