import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDiagnostic } from './diagnostic';
import { lintScript } from './lint';

const IQN = 'iqn.2003-01.org.ibft-lab:lab';
const codes = (text: string) => lintScript(text).map((d) => `${d.line}:${d.column} ${d.severity} ${d.code}`);

describe('lintScript', () => {
  it('finds nothing in the seed script', () => {
    expect(lintScript(readFileSync(join(__dirname, '../../test/fixtures/seed.ipxe'), 'utf8'))).toEqual([]);
  });

  it('reports a missing #!ipxe at 1:1', () => {
    expect(codes('dhcp\n')).toEqual(['1:1 error missing-shebang']);
    expect(codes('#!gpxe\ndhcp\n')).toEqual(['1:1 error missing-shebang']);
  });

  it('reports unknown commands with their column, accepts the real command set', () => {
    expect(codes('#!ipxe\n  dchp\nifstat && frobnicate ||\n')).toEqual(['2:3 error unknown-command', '3:11 error unknown-command']);
    expect(codes('#!ipxe\nimgfetch x\nchain y\nisset ${a} || goto b\n:b\nsleep 1\niseq a b\nntp pool.ntp.org\n')).toEqual([]);
  });

  it('skips comments and labels, follows line continuations', () => {
    expect(codes(`#!ipxe\n# a comment with bogus words\n:label\nsanhook iscsi:10.0.0.1::::${IQN} \\\n  iscsi:10.0.0.2::::bad-name ||\n`)).toEqual([
      '5:21 error bad-iqn',
    ]);
    expect(codes('#!ipxe\nset esc:hex 1b  # trailing comment\n')).toEqual([]);
  });

  it('reports bad SAN URIs at the URI, bad target names at the name', () => {
    expect(codes(`#!ipxe\nsanhook --drive 0x81 iscsi:10.0.0.1::99999::${IQN} ||\n`)).toEqual(['2:22 error bad-san-uri']);
    expect(codes('#!ipxe\nsanhook iscsi:10.0.0.1::::iqn.2003-01.org.x:A_B ||\n')).toEqual(['2:27 error bad-iqn']);
    expect(codes('#!ipxe\nset root-path iscsi:300.1.1.1::::x\n')).toEqual(['2:15 error bad-san-uri']);
    expect(codes('#!ipxe\nsanhook ${root-path} ||\nsanboot http://boot.example/x.iso ||\n')).toEqual([]);
  });

  it('reports a bad initiator-iqn', () => {
    const [d] = lintScript('#!ipxe\nset initiator-iqn iqn.2010-04.org.ipxe:has_underscore\n');
    expect(d).toMatchObject({ line: 2, column: 19, severity: 'error', code: 'bad-iqn' });
    expect(d.message).toMatch(/"_"/);
  });

  it('warns when sanhook/sanboot failure would end the script', () => {
    expect(codes(`#!ipxe\nsanhook iscsi:10.0.0.1::::${IQN}\nsanboot --drive 0x80\n`)).toEqual([
      '2:1 warning san-without-fallback',
      '3:1 warning san-without-fallback',
    ]);
    expect(codes(`#!ipxe\nsanhook iscsi:10.0.0.1::::${IQN} && echo ok\n`)).toEqual(['2:1 warning san-without-fallback']);
    expect(codes(`#!ipxe\nsanhook iscsi:10.0.0.1::::${IQN} && sanunhook || echo Could not attach\n`)).toEqual([]);
    expect(codes(`#!ipxe\nsanhook iscsi:10.0.0.1::::${IQN} ||\n`)).toEqual([]);
  });

  it('formats as file:line:col: severity code message', () => {
    const [d] = lintScript('dhcp\n');
    expect(formatDiagnostic('boot.ipxe', d)).toMatch(/^boot\.ipxe:1:1: error missing-shebang script must start/);
  });
});
