import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { seedModel } from '../../test/fixtures/seed';
import { LabScriptError, renderScript } from './render';

const commands = (text: string) => text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
const IQN = 'iqn.2003-01.org.ibft-lab:lab';

describe('renderScript', () => {
  it('renders the seed script: same commands in the same order', () => {
    const seed = readFileSync(join(__dirname, '../../test/fixtures/seed.ipxe'), 'utf8');
    const rendered = renderScript(seedModel);
    expect(rendered.startsWith('#!ipxe\n')).toBe(true);
    expect(commands(rendered)).toEqual(commands(seed));
    expect(commands(rendered)).toEqual([
      'dhcp',
      'set initiator-iqn iqn.2010-04.org.ipxe:f43',
      'sanhook iscsi:10.42.0.11::::iqn.2003-01.org.linux-iscsi.f43.x8664:sn.f1eec5c8304a ||',
      'show initiator-iqn',
      'route',
      'echo == config done ==',
      'prompt --key 0x02 --timeout 10000 Press Ctrl-B for the iPXE command line... && shell ||',
    ]);
  });

  it('keeps the firmware lease when asked: DHCP only if net0 has no address yet', () => {
    const text = renderScript({ network: { mode: 'dhcp', keepFirmwareLease: true } });
    expect(commands(text)[0]).toBe('isset ${net0/ip} || dhcp');
    expect(commands(renderScript({ network: { mode: 'dhcp' } }))[0]).toBe('dhcp');
  });

  it('renders more NICs: a VLAN device by vcreate, DHCP by name, a static one, clears, and a sanhook per NIC with a multipath and a root-path one', () => {
    const text = renderScript({
      interfaces: [
        { netdev: 'net1', vlan: 42, network: { mode: 'dhcp' } },
        { netdev: 'net2', network: { mode: 'static', ip: '192.168.20.10', prefix: 24 } },
      ],
      clearSettings: ['net0.dhcp/dns'],
      sanhooks: [
        { targets: [{ server: '192.168.42.1', targetIqn: IQN }, { server: '192.168.20.1', targetIqn: IQN }] },
        { settingUris: ['net1-42/root-path'], drive: 0x81 },
      ],
    });
    expect(commands(text)).toEqual([
      'dhcp net0',
      'vcreate --tag 42 net1',
      'dhcp net1-42',
      'set net2/ip 192.168.20.10',
      'set net2/netmask 255.255.255.0',
      'ifopen net2',
      'clear net0.dhcp/dns ||',
      `sanhook iscsi:192.168.42.1::::${IQN} iscsi:192.168.20.1::::${IQN} ||`,
      'sanhook --drive 0x81 ${net1-42/root-path} ||',
      'echo == config done ==',
    ]);
    expect(() => renderScript({ sanhooks: [{}] })).toThrow(/sanhooks\.0\.targets: a sanhook needs at least one target/);
    expect(() => renderScript({ interfaces: [{ netdev: 'net1', vlan: 4095, network: { mode: 'dhcp' } }] })).toThrow(/interfaces\.0\.vlan/);
  });

  it('renders a static network with several DNS servers', () => {
    const text = renderScript({
      network: { mode: 'static', ip: '10.0.2.15', prefix: 24, gateway: '10.0.2.2', dns: ['10.0.2.3', '8.8.8.8'], hostname: 'lab1' },
      next: { action: 'exit' },
    });
    expect(commands(text)).toEqual([
      'set net0/ip 10.0.2.15',
      'set net0/netmask 255.255.255.0',
      'set net0/gateway 10.0.2.2',
      'set net0/dns:hex 0a:00:02:03:08:08:08:08',
      'set hostname lab1',
      'ifopen net0',
      'echo == config done ==',
      'exit',
    ]);
  });

  it('renders multipath, drive, no-describe, and CHAP set/cleared around each sanhook', () => {
    const chap = { username: 'lab', password: 'secret123456', mutual: { username: 'tgt', password: 'other1234567' } };
    const text = renderScript({
      sanhooks: [
        { targets: [{ server: '10.0.2.2', port: 3261, lun: 1, targetIqn: IQN }, { server: 'fd00::2', targetIqn: IQN }], drive: 0x80, chap },
        { targets: [{ server: 'san.example', lun: '0-1', targetIqn: IQN }], drive: 0x81, noDescribe: true, keepGoing: false },
      ],
      next: { action: 'sanboot', drive: 0x80 },
    });
    expect(commands(text)).toEqual([
      'dhcp',
      'set username lab',
      'set password secret123456',
      'set reverse-username tgt',
      'set reverse-password other1234567',
      `sanhook --drive 0x80 iscsi:10.0.2.2::3261:1:${IQN} iscsi:[fd00::2]::::${IQN} ||`,
      'clear username',
      'clear password',
      'clear reverse-username',
      'clear reverse-password',
      `sanhook --drive 0x81 --no-describe iscsi:san.example:::0-1:${IQN}`,
      'echo == config done ==',
      'sanboot --drive 0x80 ||',
    ]);
  });

  it('renders a kernel/initrd boot', () => {
    const text = renderScript({
      next: { action: 'kernel', kernelUrl: 'tftp://10.0.2.2/vmlinuz', initrdUrls: ['tftp://10.0.2.2/a.cpio', 'tftp://10.0.2.2/b.cpio'], cmdline: 'console=ttyS0 quiet' },
    });
    expect(commands(text).slice(-4)).toEqual([
      'kernel tftp://10.0.2.2/vmlinuz console=ttyS0 quiet',
      'initrd tftp://10.0.2.2/a.cpio',
      'initrd tftp://10.0.2.2/b.cpio',
      'boot',
    ]);
  });

  it('renders shell as next step', () => {
    expect(commands(renderScript({ next: { action: 'shell' } })).at(-1)).toBe('shell');
  });

  it('rejects bad input naming the field', () => {
    expect(() => renderScript({ initiatorIqn: 'iqn.2010-04.org.ipxe:Bad' })).toThrow(LabScriptError);
    expect(() => renderScript({ initiatorIqn: 'iqn.2010-04.org.ipxe:Bad' })).toThrow(/initiatorIqn: .*lowercase/);
    expect(() => renderScript({ sanhooks: [{ targets: [{ server: '1.2.3.4', lun: 70000, targetIqn: IQN }] }] })).toThrow(
      /sanhooks\.0\.targets\.0\.lun/,
    );
  });
});
