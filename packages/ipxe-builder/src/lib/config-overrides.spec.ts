import { mergeLocalHeader, mergeOverrides, renderOverrides } from './config-overrides';

describe('renderOverrides', () => {
  it('writes sorted #undef/#define lines per config file', () => {
    const out = renderOverrides({
      general: { ROM_BANNER_TIMEOUT: 0, BANNER_TIMEOUT: 0, NSLOOKUP_CMD: true, DOWNLOAD_PROTO_HTTPS: false },
      branding: { PRODUCT_NAME: 'ibft "lab"' },
      console: { ROM_BANNER_TIMEOUT: { expr: '( 2 * BANNER_TIMEOUT )' } },
    });
    expect(Object.keys(out)).toEqual(['branding.h', 'console.h', 'general.h']);
    expect(out['general.h'].split('\n').slice(1)).toEqual([
      '#undef BANNER_TIMEOUT',
      '#define BANNER_TIMEOUT 0',
      '#undef DOWNLOAD_PROTO_HTTPS',
      '#undef NSLOOKUP_CMD',
      '#define NSLOOKUP_CMD',
      '#undef ROM_BANNER_TIMEOUT',
      '#define ROM_BANNER_TIMEOUT 0',
      '',
    ]);
    expect(out['branding.h']).toContain('#define PRODUCT_NAME "ibft \\"lab\\""');
    expect(out['console.h']).toContain('#define ROM_BANNER_TIMEOUT ( 2 * BANNER_TIMEOUT )');
  });

  it('gives equal bytes for equal overrides in any key order', () => {
    expect(renderOverrides({ general: { A: 1, B: 2 } })).toEqual(renderOverrides({ general: { B: 2, A: 1 } }));
  });

  it.each([
    [{ 'general.h': { A: 1 } }, /"general.h" is not an iPXE config file name/],
    [{ general: { '1A': 1 } }, /overrides.general.1A: "1A" is not a C macro name/],
    [{ general: { A: 1.5 } }, /overrides.general.A: 1.5 is not an integer/],
    [{ general: { A: 'two\nlines' } }, /overrides.general.A: a string value may hold printable ASCII only/],
    [{ general: { A: { expr: '1 /* x */' } } }, /overrides.general.A: expr/],
    [{ general: { A: { expr: '"quoted"' } } }, /overrides.general.A: expr/],
    [{ general: { A: null } }, /overrides.general.A: value must be/],
  ])('rejects %j naming the field', (overrides, message) => {
    expect(() => renderOverrides(overrides as never)).toThrow(message);
  });

  it('appends overrides after the source tree\'s own local header', () => {
    expect(mergeLocalHeader('#define MINE 1', '#undef X\n')).toBe('#define MINE 1\n\n#undef X\n');
    expect(mergeLocalHeader(undefined, '#undef X\n')).toBe('#undef X\n');
  });

  it('mergeOverrides: the base with the overrides on top, file by file and macro by macro', () => {
    expect(
      mergeOverrides({ general: { BANNER_TIMEOUT: 0, ROM_BANNER_TIMEOUT: 0 }, dhcp: { DHCP_DISC_PROXY_TIMEOUT_SEC: 0 } }, { general: { BANNER_TIMEOUT: 3, NSLOOKUP_CMD: true }, console: { CONSOLE_SERIAL: true } }),
    ).toEqual({ general: { BANNER_TIMEOUT: 3, ROM_BANNER_TIMEOUT: 0, NSLOOKUP_CMD: true }, dhcp: { DHCP_DISC_PROXY_TIMEOUT_SEC: 0 }, console: { CONSOLE_SERIAL: true } });
    expect(mergeOverrides(undefined, undefined)).toEqual({});
  });
});
