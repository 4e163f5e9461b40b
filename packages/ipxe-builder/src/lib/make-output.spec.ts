import { MakeProgress, summarizeMakeFailure } from './make-output';

describe('summarizeMakeFailure', () => {
  it('shows the first compiler error and make\'s *** line, not the wall of [BUILD] lines', () => {
    const wall = Array.from({ length: 500 }, (_, i) => `  [BUILD] bin/obj${i}.o`);
    const output = [
      ...wall,
      'In file included from drivers/net/rtl8139.c:30:',
      'drivers/net/rtl8139.c: In function \'rtl_probe\':',
      'drivers/net/rtl8139.c:512:9: error: \'foo\' undeclared (first use in this function)',
      '  512 |         foo = 1;',
      '      |         ^~~',
      '  [BUILD] bin/obj501.o',
      'make: *** [Makefile.housekeeping:955: bin/rtl8139.o] Error 1',
      '',
    ].join('\n');
    const summary = summarizeMakeFailure(output);
    expect(summary).toContain("rtl8139.c:512:9: error: 'foo' undeclared");
    expect(summary).toContain("In function 'rtl_probe'");
    expect(summary).toContain('make: *** [Makefile.housekeeping:955');
    expect(summary).not.toContain('[BUILD]');
    expect(summary.split('\n').length).toBeLessThanOrEqual(20);
  });

  it('falls back to the last lines when there is no recognisable error', () => {
    expect(summarizeMakeFailure('a\nb\nKilled\n')).toBe('a\nb\nKilled');
  });
});

describe('MakeProgress', () => {
  it('counts iPXE build steps and prints a short line', () => {
    const printed: string[] = [];
    const p = new MakeProgress('bin/rtl8139.rom', (l) => printed.push(l), 0);
    p.line('  [BUILD] bin/a.o');
    p.line('gcc noise');
    p.line('  [AR] bin/blib.a');
    expect(p.steps).toBe(2);
    expect(printed.at(-1)).toMatch(/^ipxe-builder: make bin\/rtl8139.rom: 2 steps, \d+ s \(AR bin\/blib.a\)$/);
  });
});
