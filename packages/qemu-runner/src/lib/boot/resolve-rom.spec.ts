import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveRom, romMode } from './resolve-rom';

describe('resolveRom', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ibft-lab-romtest-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('passes a ROM file through and reads a build-rom folder manifest', () => {
    writeFileSync(join(dir, 'rtl8139.rom'), 'x');
    expect(resolveRom(join(dir, 'rtl8139.rom'))).toBe(join(dir, 'rtl8139.rom'));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ mode: 'built', rom: 'rtl8139.rom' }));
    expect(resolveRom(dir)).toBe(join(dir, 'rtl8139.rom'));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ mode: 'stock' }));
    expect(resolveRom(dir)).toBeUndefined();
    expect(resolveRom(undefined)).toBeUndefined();
  });

  it.each([
    ['missing path', () => resolveRom(join(dir, 'nope.rom')), /^rom: .*does not exist; run build-rom/],
    ['folder without manifest', () => resolveRom(dir), /^rom: .*without manifest\.json/],
  ])('rejects a %s naming the field and the fix', (_, call, message) => {
    expect(call).toThrow(message);
  });

  it('rejects a manifest with a bad mode or a built ROM that is gone', () => {
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ mode: 'weird' }));
    expect(() => resolveRom(dir)).toThrow(/mode "weird"; expected 'built' or 'stock'/);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ mode: 'built', rom: 'gone.rom' }));
    expect(() => resolveRom(dir)).toThrow(/gone\.rom .*run build-rom again/);
  });

  it('romMode: the manifest says built or stock; no ROM is the stock ROM; a bare ROM file is unknown', () => {
    expect(romMode(undefined)).toBe('stock');
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ mode: 'built', rom: 'rtl8139.rom' }));
    expect(romMode(dir)).toBe('built');
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ mode: 'stock' }));
    expect(romMode(dir)).toBe('stock');
    writeFileSync(join(dir, 'rtl8139.rom'), 'x');
    expect(romMode(join(dir, 'rtl8139.rom'))).toBeNull();
    writeFileSync(join(dir, 'manifest.json'), '{');
    expect(romMode(dir)).toBeNull();
    expect(romMode(join(dir, 'nope'))).toBeNull();
  });
});
