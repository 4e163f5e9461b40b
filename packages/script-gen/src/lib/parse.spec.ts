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
