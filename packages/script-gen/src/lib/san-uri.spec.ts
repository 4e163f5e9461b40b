import { buildSanUri, parseSanUri } from './san-uri';

const IQN = 'iqn.2003-01.org.linux-iscsi.f43.x8664:sn.f1eec5c8304a';

describe('buildSanUri', () => {
  it('leaves protocol, port and LUN empty when absent (the seed URI)', () => {
    expect(buildSanUri({ server: '10.42.0.11', targetIqn: IQN })).toBe(`iscsi:10.42.0.11::::${IQN}`);
  });

  it('writes port and hex LUN', () => {
    expect(buildSanUri({ server: '10.0.2.2', port: 3261, lun: 26, targetIqn: 'iqn.2003-01.org.ibft-lab:lab' })).toBe(
      'iscsi:10.0.2.2::3261:1a:iqn.2003-01.org.ibft-lab:lab',
    );
  });

  it('brackets IPv6 literals and keeps multi-word LUNs and protocol 6', () => {
    expect(buildSanUri({ server: 'fe80::1', protocol: 6, lun: '0-1', targetIqn: 'eui.02004567a425678d' })).toBe(
      'iscsi:[fe80::1]:6::0-1:eui.02004567a425678d',
    );
  });

  it('throws naming the bad field', () => {
    expect(() => buildSanUri({ server: '10.0.0.256', targetIqn: IQN })).toThrow(/server "10.0.0.256" is not a valid IPv4/);
    expect(() => buildSanUri({ server: 'h', lun: 0x10000, targetIqn: IQN })).toThrow(/LUN 65536/);
    expect(() => buildSanUri({ server: 'h', port: 0, targetIqn: IQN })).toThrow(/port 0/);
    expect(() => buildSanUri({ server: 'h', targetIqn: 'iqn.x' })).toThrow(/target name/);
  });
});

describe('parseSanUri', () => {
  it('parses the seed URI with empty fields left absent', () => {
    expect(parseSanUri(`iscsi:10.42.0.11::::${IQN}`)).toEqual({ ok: true, target: { server: '10.42.0.11', targetIqn: IQN } });
  });

  it('parses IPv6, protocol, port, hex LUN and a target name with colons', () => {
    const iqn = 'iqn.1986-03.com.sun:02:e9abf4cd-714b';
    expect(parseSanUri(`iscsi:[2001:db8::5]:6:3261:1A:${iqn}`)).toEqual({
      ok: true,
      target: { server: '2001:db8::5', protocol: 6, port: 3261, lun: 26, targetIqn: iqn },
    });
  });

  it('keeps a four-word LUN as text', () => {
    const r = parseSanUri(`iscsi:boot.example.org:::0-1-2-3:${IQN}`);
    expect(r.ok && r.target.lun).toBe('0-1-2-3');
  });

  it.each([
    ['http://x/y', /not an iSCSI SAN URI/],
    [`iscsi:10.0.0.1:::${IQN}`.replace(/:sn.*$/, ''), /target name|too few/],
    ['iscsi:10.0.0.1::', /too few fields/],
    [`iscsi:[fe80::1:::${IQN}`, /closing/],
    [`iscsi:[10.0.0.1]::::${IQN}`, /IPv6/],
    [`iscsi:10.0.0.999::::${IQN}`, /IPv4/],
    [`iscsi:10.0.0.1:17:::${IQN}`, /protocol "17"/],
    [`iscsi:10.0.0.1::70000::${IQN}`, /port "70000"/],
    [`iscsi:10.0.0.1:::0-1-2-3-4:${IQN}`, /LUN/],
    [`iscsi:10.0.0.1:::xyz:${IQN}`, /LUN/],
    ['iscsi:10.0.0.1::::', /target name is empty/],
    ['iscsi:10.0.0.1::::iqn.2003-01.org.x:Bad Name', /target name/],
  ])('rejects %s with a message, without throwing', (uri, message) => {
    const r = parseSanUri(uri);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(message);
  });

  it('round-trips what it builds', () => {
    const target = { server: 'fd00::2', port: 3260, lun: '1-0', targetIqn: IQN };
    expect(parseSanUri(buildSanUri(target))).toEqual({ ok: true, target });
  });
});
