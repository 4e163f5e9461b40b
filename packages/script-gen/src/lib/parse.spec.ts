import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { seedModel } from '../../test/fixtures/seed';
import { labScriptSchema } from './lab-script';
import { parseScript } from './parse';
import { renderScript } from './render';

const seed = readFileSync(join(__dirname, '../../test/fixtures/seed.ipxe'), 'utf8');

describe('parseScript', () => {
  it('parses the seed script into the seed model', () => {
    const { model, diagnostics } = parseScript(seed);
    expect(diagnostics).toEqual([]);
    expect(model).toEqual(labScriptSchema.parse(seedModel));
    expect(renderScript(model!)).toBe(seed);
  });

  it('reads "isset ${net0/ip} || dhcp" as DHCP keeping the firmware lease, and back', () => {
    const text = '#!ipxe\nisset ${net0/ip} || dhcp\necho done\n';
    const { model, diagnostics } = parseScript(text);
    expect(diagnostics).toEqual([]);
    expect(model?.network).toEqual({ mode: 'dhcp', keepFirmwareLease: true });
    expect(renderScript(model!)).toBe(text);
    expect(parseScript('#!ipxe\ndhcp\necho done\n').model?.network).toEqual({ mode: 'dhcp', keepFirmwareLease: false });
    // Anything else after isset stays outside the model.
    expect(parseScript('#!ipxe\nisset ${net1/ip} || dhcp\necho done\n').model).toBeUndefined();
    expect(parseScript('#!ipxe\nisset ${net0/ip} || dhcp\ndhcp\necho done\n').model).toBeUndefined();
  });

  it('tracks CHAP settings per sanhook', () => {
    const text = [
      '#!ipxe',
      'dhcp',
      'set username lab',
      'set password secret123456',
      'sanhook --drive 0x80 iscsi:10.0.2.2::::iqn.2003-01.org.a.b:c ||',
      'clear username',
      'clear password',
      'sanhook --drive 129 iscsi:10.0.2.2::::iqn.2003-01.org.a.b:d ||',
      'echo done',
      'exit',
    ].join('\n');
    const { model, diagnostics } = parseScript(text);
    expect(diagnostics).toEqual([]);
    expect(model!.sanhooks[0].chap).toEqual({ username: 'lab', password: 'secret123456' });
    expect(model!.sanhooks[1].drive).toBe(0x81);
    expect(model!.sanhooks[1].chap).toBeUndefined();
    expect(model!.next).toEqual({ action: 'exit' });
  });

  it('reads more NICs: a VLAN device by vcreate, DHCP by name, a static one, the clears, and root-path sanhooks, and back', () => {
    const text = [
      '#!ipxe',
      'dhcp net0',
      'vcreate --tag 42 net1',
      'dhcp net1-42',
      'set net2/ip 192.168.22.10',
      'set net2/netmask 255.255.255.0',
      'set hostname two-nics-b',
      'ifopen net2',
      'clear net0.dhcp/dns ||',
      'set initiator-iqn iqn.2010-04.org.ipxe:two-nics',
      'sanhook --drive 0x80 iscsi:192.168.22.1::::iqn.2024-01.org.ibft-lab:two-nics ||',
      'sanhook --drive 0x81 ${net1-42/root-path} ||',
      'echo done',
      '',
    ].join('\n');
    const { model, diagnostics } = parseScript(text);
    expect(diagnostics).toEqual([]);
    expect(model!.interfaces).toEqual([
      { netdev: 'net1', vlan: 42, network: { mode: 'dhcp', keepFirmwareLease: false } },
      { netdev: 'net2', network: { mode: 'static', ip: '192.168.22.10', netmask: '255.255.255.0', dns: [], hostname: 'two-nics-b' } },
    ]);
    expect(model!.clearSettings).toEqual(['net0.dhcp/dns']);
    expect(model!.sanhooks[1]).toMatchObject({ targets: [], settingUris: ['net1-42/root-path'], drive: 0x81 });
    expect(renderScript(model!)).toBe(text);
  });

  it.each([
    ['#!ipxe\ndhcp net0\necho m\n', 2, /"dhcp net0" is modelled only before more interfaces/],
    ['#!ipxe\ndhcp\ndhcp net1\necho m\n', 2, /with more interfaces, net0 is configured by "dhcp net0"/],
    ['#!ipxe\ndhcp net0\nvcreate --tag 42 net1\necho m\n', 3, /vcreate made net1-42, which is never configured/],
    ['#!ipxe\ndhcp net0\nvcreate --tag 42 net1\ndhcp net1\necho m\n', 4, /the model configures net1-42/],
    ['#!ipxe\ndhcp net1\necho m\n', 2, /net0 is configured before net1/],
    ['#!ipxe\ndhcp net0\nset net1/ip 10.0.0.1\nset net1/netmask 255.0.0.0\necho m\n', 3, /a static interface ends with "ifopen net1"/],
    ['#!ipxe\ndhcp\nsanhook ${root-path} iscsi:1.2.3.4::::iqn.2003-01.org.a.b ||\necho m\n', 3, /SAN URIs come before the settings/],
    ['#!ipxe\ndhcp\nset initiator-iqn iqn.2003-01.org.a.b\nclear net0.dhcp/dns ||\necho m\n', 4, /before initiator-iqn and the sanhooks/],
  ])('reports NIC shapes the renderer does not write (%#)', (text, line, message) => {
    const { model, diagnostics } = parseScript(text);
    expect(model).toBeUndefined();
    const d = diagnostics.find((x) => x.code === 'not-modelled');
    expect(d?.line).toBe(line);
    expect(d?.message).toMatch(message);
  });

  it('returns lint errors and no model for a broken script', () => {
    const { model, diagnostics } = parseScript('dhcp\necho x\n');
    expect(model).toBeUndefined();
    expect(diagnostics[0].code).toBe('missing-shebang');
  });

  it.each([
    ['#!ipxe\ndhcp\nimgfetch http://x/y\necho m\n', 3, /"imgfetch" is a valid iPXE command but not part/],
    ['#!ipxe\ndhcp\nchain http://x/y\necho m\n', 3, /"chain" before the marker echo is not modelled/],
    ['#!ipxe\ndhcp\n:retry\necho m\n', 3, /labels/],
    ['#!ipxe\ndhcp\nset username u\nsanhook iscsi:1.2.3.4::::iqn.2003-01.org.a.b ||\necho m\n', 4, /CHAP needs both/],
    ['#!ipxe\ndhcp\necho m\nshow x\n', 4, /after the marker/],
    ['#!ipxe\ndhcp\nexit\necho m\n', 3, /before the marker/],
  ])('reports what the model cannot express (%#)', (text, line, message) => {
    const { model, diagnostics } = parseScript(text);
    expect(model).toBeUndefined();
    const d = diagnostics.find((x) => x.code === 'not-modelled');
    expect(d?.line).toBe(line);
    expect(d?.message).toMatch(message);
  });

  it('needs a marker echo', () => {
    const { model, diagnostics } = parseScript('#!ipxe\ndhcp\n');
    expect(model).toBeUndefined();
    expect(diagnostics.map((d) => d.code)).toContain('missing-marker');
  });

  it('reports model violations found only after assembly (e.g. mutual CHAP reusing the secret)', () => {
    const text = '#!ipxe\ndhcp\nset username u\nset password secret123456\nset reverse-username t\nset reverse-password secret123456\nsanhook iscsi:1.2.3.4::::iqn.2003-01.org.a.b ||\necho m\n';
    const { model, diagnostics } = parseScript(text);
    expect(model).toBeUndefined();
    expect(diagnostics.at(-1)?.message).toMatch(/sanhooks\.0\.chap\.mutual\.password/);
  });
});
