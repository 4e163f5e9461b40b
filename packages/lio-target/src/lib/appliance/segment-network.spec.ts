import { applianceSegmentMac, checkApplianceSegments, dnsmasqConfig, segmentSetupScript, type ApplianceSegment } from './segment-network';

const vlanSegment: ApplianceSegment = {
  name: 'san',
  ip: '192.168.42.1',
  prefix: 24,
  vlan: 42,
  dhcp: {
    poolStart: '192.168.42.100',
    poolEnd: '192.168.42.150',
    router: '192.168.42.1',
    dns: ['192.168.42.53'],
    hosts: [{ mac: '52:54:00:00:42:01', ip: '192.168.42.100', hostname: 'vlan-host', rootPath: 'iscsi:192.168.42.1::::iqn.2024-01.org.ibft-lab:vlan' }],
  },
};

describe('appliance segments', () => {
  it('brings a tagged segment up on eth1.42 and serves DHCP there only, with exactly the declared options', () => {
    expect(segmentSetupScript([vlanSegment])).toContain('ip link add link eth1 name eth1.42 type vlan id 42\n');
    expect(segmentSetupScript([vlanSegment])).toContain('ip addr add 192.168.42.1/24 dev eth1.42\n');
    const config = dnsmasqConfig([vlanSegment]) ?? '';
    expect(config.split('\n')).toEqual(
      expect.arrayContaining([
        'port=0',
        'interface=eth1.42',
        'dhcp-range=set:seg0,192.168.42.100,192.168.42.150,255.255.255.0,1h',
        'dhcp-option=tag:seg0,option:router,192.168.42.1',
        'dhcp-option=tag:seg0,option:dns-server,192.168.42.53',
        'dhcp-host=52:54:00:00:42:01,set:seg0h0,192.168.42.100,vlan-host',
        'dhcp-option=tag:seg0h0,option:root-path,iscsi:192.168.42.1::::iqn.2024-01.org.ibft-lab:vlan',
      ]),
    );
    expect(config).not.toContain('eth0');
  });

  it('offers no router or DNS the lab did not declare (dnsmasq would offer itself)', () => {
    const config = dnsmasqConfig([{ name: 'a', ip: '10.1.0.1', prefix: 24, dhcp: { poolStart: '10.1.0.10', poolEnd: '10.1.0.20' } }]) ?? '';
    expect(config).toContain('dhcp-option=tag:seg0,option:router\n');
    expect(config).toContain('dhcp-option=tag:seg0,option:dns-server\n');
  });

  it('starts no dnsmasq on segments without DHCP', () => {
    const segment = { name: 'a', ip: '10.1.0.1', prefix: 24 };
    expect(dnsmasqConfig([segment])).toBeUndefined();
    expect(segmentSetupScript([segment])).not.toContain('dnsmasq');
  });

  it('rejects values that would reach the shell or dnsmasq unchecked, naming each', () => {
    expect(() =>
      checkApplianceSegments([
        { name: 'a b', ip: '10.1.0.1; reboot', prefix: 24, vlan: 4095, dhcp: { poolStart: '10.1.0.10', poolEnd: 'x', hosts: [{ mac: 'AA', ip: '10.1.0.10', rootPath: 'iscsi:1.2.3.4::::iqn.x,y' }] } },
      ]),
    ).toThrow(/segments\[0\]\.name[\s\S]*segments\[0\]\.ip[\s\S]*segments\[0\]\.vlan[\s\S]*dhcp\.poolEnd[\s\S]*hosts\[0\]\.mac[\s\S]*hosts\[0\]\.rootPath/);
  });

  it('gives the appliance MACs outside QEMU\'s default sequence', () => {
    expect(applianceSegmentMac(0)).toBe('52:54:00:a0:00:00');
    expect(applianceSegmentMac(1)).toBe('52:54:00:a0:00:01');
  });
});
