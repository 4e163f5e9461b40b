// buildRom around make, with a toy iPXE Makefile (see testing/fixtures.ts)
// run by real make: tree per configuration, reuse, locking, output folder,
// manifest, failure summary, stock fallback. Real iPXE: test/build.spec.ts.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitInit, tempDir, toyIpxeTree, writeFiles } from '../testing/fixtures';
import { MissingSourceError, buildRom, makeInvocation, validateDebug } from './build';
import { stockRomFor } from './targets';

describe('makeInvocation', () => {
  it('builds the make argv with EMBED, DEBUG, GITVERSION and jobs, and a clean environment', () => {
    const inv = makeInvocation({
      tree: '/cache/trees/abc',
      target: 'bin/rtl8139.rom',
      embed: '/ws/dist/labs/lab/boot.ipxe',
      debug: 'iscsi,ibft:3',
      jobs: 2,
      source: { identity: { kind: 'git', commit: 'c'.repeat(40) }, sourceDateEpoch: 1700000000 },
      env: { PATH: '/usr/bin', MAKEFLAGS: '-k', DEBUG: '1', CFLAGS: '-O0', HOME: '/root' },
    });
    expect(inv.argv).toEqual([
      '-C',
      '/cache/trees/abc/src',
      'bin/rtl8139.rom',
      'EMBED=/ws/dist/labs/lab/boot.ipxe',
      'EXTRA_CFLAGS=-ffile-prefix-map=/cache/trees/abc/src=.',
      'DEBUG=iscsi,ibft:3',
      `GITVERSION=${'c'.repeat(40)}`,
      '-j2',
    ]);
    expect(inv.env).toEqual({ PATH: '/usr/bin', HOME: '/root', SOURCE_DATE_EPOCH: '1700000000', LC_ALL: 'C', TZ: 'UTC' });
  });

  it('omits DEBUG and GITVERSION for a plain tree without debug', () => {
    const inv = makeInvocation({
      tree: '/t',
      target: 'bin/ipxe.lkrn',
      embed: '/s.ipxe',
      jobs: 1,
      source: { identity: { kind: 'tree', sha256: 'f'.repeat(64) }, sourceDateEpoch: 0 },
      env: {},
    });
    expect(inv.argv).toEqual(['-C', '/t/src', 'bin/ipxe.lkrn', 'EMBED=/s.ipxe', 'EXTRA_CFLAGS=-ffile-prefix-map=/t/src=.', '-j1']);
    expect(inv.env.SOURCE_DATE_EPOCH).toBe('0');
  });

  it('refuses paths that make would split', () => {
    const source = { identity: { kind: 'tree' as const, sha256: 'f' }, sourceDateEpoch: 0 };
    expect(() => makeInvocation({ tree: '/t', target: 'bin/x.rom', embed: '/a b.ipxe', jobs: 1, source })).toThrow(/space or comma/);
    expect(() => makeInvocation({ tree: '/my cache/t', target: 'bin/x.rom', embed: '/a.ipxe', jobs: 1, source })).toThrow(/IBFT_LAB_CACHE/);
  });

  it('rejects a DEBUG value that is not an iPXE object list', () => {
    expect(validateDebug('iscsi,ibft:3')).toBe('iscsi,ibft:3');
    expect(() => validateDebug('iscsi; rm -rf /')).toThrow(/debug ".*" is not an iPXE DEBUG= list/);
  });
});

describe('buildRom with a toy iPXE tree (real make, toy Makefile)', () => {
  let dir: ReturnType<typeof tempDir>;
  let logs: string[];
  const ctx = () => ({ workspaceRoot: join(dir.path, 'ws'), env: { PATH: process.env.PATH }, log: (l: string) => logs.push(l) });
  const script = 'dist/labs/lab/boot.ipxe';
  const trees = () => readdirSync(join(dir.path, 'ws/.cache/ibft-lab/ipxe/trees')).filter((n) => !n.includes('.')).map((n) => join(dir.path, 'ws/.cache/ibft-lab/ipxe/trees', n));

  beforeEach(() => {
    dir = tempDir();
    logs = [];
    toyIpxeTree(join(dir.path, 'ipxe'));
    gitInit(join(dir.path, 'ipxe'), '2024-01-02T03:04:05Z');
    writeFiles(join(dir.path, 'ws'), { [script]: '#!ipxe\necho == config done ==\n' });
  });
  afterEach(() => dir.remove());

  const base = () => ({
    script,
    nic: 'rtl8139',
    source: { path: join(dir.path, 'ipxe') },
    outputPath: 'dist/labs/lab/firmware',
    overrides: { general: { BANNER_TIMEOUT: 0 } },
  });

  it('writes the ROM and a manifest with no absolute paths or timestamps', async () => {
    const manifest = await buildRom(base(), ctx());
    const out = join(dir.path, 'ws/dist/labs/lab/firmware');
    expect(readdirSync(out).sort()).toEqual(['manifest.json', 'rtl8139.rom']);
    const rom = readFileSync(join(out, 'rtl8139.rom'), 'utf8');
    expect(rom).toContain('echo == config done ==');
    expect(rom).toContain('#define BANNER_TIMEOUT 0');
    expect(rom).toContain(`epoch=${Date.parse('2024-01-02T03:04:05Z') / 1000}`);
    const text = readFileSync(join(out, 'manifest.json'), 'utf8');
    expect(JSON.parse(text)).toEqual(manifest);
    expect(manifest).toMatchObject({
      mode: 'built',
      rom: 'rtl8139.rom',
      makeTarget: 'bin/rtl8139.rom',
      source: { kind: 'git', commit: expect.stringMatching(/^[0-9a-f]{40}$/) },
      overrides: { general: { BANNER_TIMEOUT: 0 } },
      script: { delivery: 'embedded', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      romSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(text).not.toContain(dir.path);
    expect(text).not.toMatch(/\/(tmp|work|home|root)\//);
    expect(text).not.toMatch(/20\d\d-\d\d-\d\dT/);
    expect(logs.join('\n')).toMatch(/make -C .* bin\/rtl8139.rom EMBED=/);
  });

  it("names the workspace's files relative to its root in what it prints (Nx replays it from a shared cache)", async () => {
    await buildRom(base(), ctx());
    const printed = logs.join('\n');
    expect(printed).not.toContain(ctx().workspaceRoot);
    expect(printed).toMatch(/preparing build tree \.cache\/ibft-lab\/ipxe\/trees\/[0-9a-f]+\n/);
    expect(printed).toMatch(/make -C \.cache\/ibft-lab\/ipxe\/trees\/[0-9a-f]+\/src bin\/rtl8139.rom EMBED=dist\/labs\/lab\/boot.ipxe /);
  });

  it('reuses the tree for the same configuration and uses a new one when overrides change', async () => {
    await buildRom(base(), ctx());
    await buildRom(base(), ctx());
    expect(trees()).toHaveLength(1);
    expect(logs.join('\n')).toMatch(/reusing build tree/);
    await buildRom({ ...base(), overrides: { general: { BANNER_TIMEOUT: 1 } } }, ctx());
    expect(trees()).toHaveLength(2);
  });

  it('serialises concurrent builds of one configuration with a lock', async () => {
    const [a, b] = await Promise.all([
      buildRom({ ...base(), outputPath: 'out/a' }, ctx()),
      buildRom({ ...base(), outputPath: 'out/b' }, ctx()),
    ]);
    expect(a.romSha256).toBe(b.romSha256);
    expect(logs.join('\n')).toMatch(/waiting for pid \d+/);
    expect(trees()).toHaveLength(1);
  });

  it('prepares the tree again after a make that was killed outright (its marker is still there)', async () => {
    await buildRom(base(), ctx());
    const [tree] = trees();
    expect(existsSync(join(tree, '.ibft-lab-make-running'))).toBe(false);
    writeFileSync(join(tree, '.ibft-lab-make-running'), '99999\n');
    writeFileSync(join(tree, 'src', 'truncated.o'), '');
    await buildRom(base(), ctx());
    expect(logs.join('\n')).toMatch(/was cut off; preparing the tree again/);
    expect(existsSync(join(tree, 'src', 'truncated.o'))).toBe(false);
    expect(existsSync(join(tree, '.ibft-lab-make-running'))).toBe(false);
  });

  it('rebuilds when only the script changes', async () => {
    const first = await buildRom(base(), ctx());
    writeFileSync(join(dir.path, 'ws', script), '#!ipxe\necho other\n');
    const second = await buildRom(base(), ctx());
    expect(second.romSha256).not.toBe(first.romSha256);
    expect(second.script.sha256).not.toBe(first.script.sha256);
  });

  it('shows the compiler error and where the full log is when make fails', async () => {
    writeFileSync(join(dir.path, 'ws', script), '#!ipxe\n# FAIL_BUILD\n');
    await expect(buildRom(base(), ctx())).rejects.toThrow(
      /make bin\/rtl8139.rom failed \(exit 2\):\ndrivers\/net\/foo.c:12:3: error: 'bar' undeclared\nmake: \*\*\*.*\nfull log: .*build.log/s,
    );
  });

  it('without a source and without fallback, says how to provide one', async () => {
    await expect(buildRom({ ...base(), source: undefined }, ctx())).rejects.toThrow(MissingSourceError);
    await expect(buildRom({ ...base(), source: { path: 'nope' } }, ctx())).rejects.toThrow(
      /source.path nope does not exist .*IPXE_SRC.*source.path.*source.git.*fallback: "stock"/,
    );
  });

  it('rejects a script that is missing or not an iPXE script', async () => {
    await expect(buildRom({ ...base(), script: 'none.ipxe' }, ctx())).rejects.toThrow(/script none.ipxe not found: run the project's gen-script/);
    writeFiles(join(dir.path, 'ws'), { 'bad.ipxe': 'echo hi\n' });
    await expect(buildRom({ ...base(), script: 'bad.ipxe' }, ctx())).rejects.toThrow(/does not start with "#!ipxe"/);
  });

  it('falls back to the real stock ROM with the script as boot.ipxe, warning loudly', async () => {
    const manifest = await buildRom({ ...base(), source: { path: 'offline/ipxe' }, fallback: 'stock' }, ctx());
    const out = join(dir.path, 'ws/dist/labs/lab/firmware');
    expect(readdirSync(out).sort()).toEqual(['boot.ipxe', 'manifest.json', 'pxe-rtl8139.rom']);
    expect(readFileSync(join(out, 'pxe-rtl8139.rom'))).toEqual(readFileSync(stockRomFor('rtl8139')));
    expect(manifest).toMatchObject({
      mode: 'stock',
      rom: 'pxe-rtl8139.rom',
      stockRom: 'pxe-rtl8139.rom',
      source: null,
      script: { delivery: 'tftp', file: 'boot.ipxe' },
      reason: 'path-missing',
    });
    expect(logs.join('\n')).toMatch(/WARNING: source.path offline\/ipxe does not exist/);
    expect(logs.join('\n')).toMatch(/WARNING: .*STOCK ROM/);
    // a later real build replaces the stock bundle entirely
    await buildRom(base(), ctx());
    expect(readdirSync(out).sort()).toEqual(['manifest.json', 'rtl8139.rom']);
    expect(existsSync(join(out, 'boot.ipxe'))).toBe(false);
  });

  it("builds with baseOverrides under overrides (overrides win, macro by macro); the stock fallback warns about overrides only, never about baseOverrides", async () => {
    const baseOverrides = { general: { BANNER_TIMEOUT: 5, ROM_BANNER_TIMEOUT: 0 }, dhcp: { DHCP_DISC_PROXY_TIMEOUT_SEC: 0 } };
    const manifest = await buildRom({ ...base(), baseOverrides }, ctx());
    expect(manifest.overrides).toEqual({ general: { BANNER_TIMEOUT: 0, ROM_BANNER_TIMEOUT: 0 }, dhcp: { DHCP_DISC_PROXY_TIMEOUT_SEC: 0 } });
    const rom = readFileSync(join(dir.path, 'ws/dist/labs/lab/firmware/rtl8139.rom'), 'utf8');
    expect(rom).toContain('#define BANNER_TIMEOUT 0');
    expect(rom).not.toContain('#define BANNER_TIMEOUT 5');
    const ignored = /overrides are ignored in stock mode/;
    logs = [];
    await buildRom({ ...base(), overrides: undefined, baseOverrides, source: { path: 'offline/ipxe' }, fallback: 'stock' }, ctx());
    expect(logs.join('\n')).toMatch(/STOCK ROM/);
    expect(logs.join('\n')).not.toMatch(ignored);
    logs = [];
    await buildRom({ ...base(), baseOverrides, source: { path: 'offline/ipxe' }, fallback: 'stock' }, ctx());
    expect(logs.join('\n')).toMatch(ignored);
  });
});
