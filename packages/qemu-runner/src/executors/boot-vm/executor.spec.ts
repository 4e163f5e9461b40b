// Option handling only; the executor's real runs are in test/interrupt.spec.ts
// (a real boot interrupted) and the lab projects.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bootVm from './executor';

const context = { root: '/nonexistent-workspace', projectName: 'lab', cwd: '/', isVerbose: false } as never;

describe('boot-vm executor options', () => {
  let errors: string[];
  beforeEach(() => {
    errors = [];
    jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.join(' ')));
  });
  afterEach(() => jest.restoreAllMocks());

  it.each([
    [{ mac: '52-54-00' }, /mac: must look like 52:54:00:12:34:56/],
    [{ firmware: 'coreboot' }, /firmware: /],
    [{ expectations: { initiator: { nam: 'x' } } }, /expectations\.initiator: .*nam/],
    [{ deadlineSeconds: -1 }, /deadlineSeconds: /],
    [{ systemUnderTest: { kind: 'kernel', kernel: 'k', expect: [{ pattern: '(', withinSeconds: 5 }] } }, /systemUnderTest\.expect\.0\.pattern: is not a regular expression/],
    [{ systemUnderTest: { kind: 'kernel', kernel: 'k', expect: [] } }, /systemUnderTest\.expect: /],
    [{ systemUnderTest: { kind: 'pxeboot', expect: [{ pattern: 'x', withinSeconds: 5 }] } }, /systemUnderTest\.kind: /],
    [{ systemUnderTest: { kind: 'sanboot', expect: [] } }, /systemUnderTest\.expect: /],
    [{ systemUnderTest: { kind: 'sanboot', media: { disk: 'd.img' }, expect: [{ pattern: 'x', withinSeconds: 5 }] } }, /systemUnderTest: .*media/],
    [{ systemUnderTest: { kind: 'exit', media: {}, expect: [{ pattern: 'x', withinSeconds: 5 }] } }, /systemUnderTest\.media: /],
  ])('rejects %j, naming the field', async (options, message) => {
    await expect(bootVm(options, context)).resolves.toEqual({ success: false });
    expect(errors.join('\n')).toMatch(message);
  });

  it("reads a system under test's files from the workspace root and names a missing one before QEMU starts", async () => {
    const options = { probe: false, script: __filename, systemUnderTest: { kind: 'kernel', kernel: 'labs/k/vmlinuz', expect: [{ pattern: 'x', withinSeconds: 5 }] } };
    await expect(bootVm(options, context)).resolves.toEqual({ success: false });
    expect(errors.join('\n')).toMatch(/systemUnderTest\.kernel: \/nonexistent-workspace\/labs\/k\/vmlinuz does not exist; give the path of a readable file/);
  });

  it('fails with the fix when the script is missing (default path under dist/labs/<project>)', async () => {
    await expect(bootVm({ probe: false }, context)).resolves.toEqual({ success: false });
    expect(errors.join('\n')).toMatch(/script: \/nonexistent-workspace\/dist\/labs\/lab\/boot\.ipxe does not exist; run gen-script first/);
  });

  it.each([
    [{ table: { file: 'x.bin' }, script: 'boot.ipxe' }, /script: a replayed table \(table\) boots the probe guest only, with no iPXE: remove script/],
    [{ table: { file: 'x.bin' }, probe: false }, /probe: a replayed table/],
    [{ table: { specFile: 'lab.json', at: 'firmware..spec' } }, /table\.at: must be a dotted field path/],
    [{ table: {} }, /table: /],
  ])('a replayed table: rejects %j, naming the field', async (options, message) => {
    await expect(bootVm(options, context)).resolves.toEqual({ success: false });
    expect(errors.join('\n')).toMatch(message);
  });

  it("a replayed table's spec is read from its JSON file when the task runs; a missing field or a bad spec is named before QEMU starts", async () => {
    const root = mkdtempSync(join(tmpdir(), 'ibft-lab-boot-vm-table-'));
    try {
      writeFileSync(join(root, 'lab.json'), JSON.stringify({ firmware: { kind: 'table', spec: { nics: [{ ip: '10.0.2.15', prefixLength: 33 }] } } }));
      const inRoot = { ...(context as object), root } as never;
      await expect(bootVm({ table: { specFile: 'lab.json', at: 'firmware.spec' } }, inRoot)).resolves.toEqual({ success: false });
      expect(errors.join('\n')).toMatch(/lab\.json: firmware\.spec\.nics\[0\]\.prefixLength: 33 is too long for an IPv4 address/);
      await expect(bootVm({ table: { specFile: 'lab.json', at: 'firmware.table' } }, inRoot)).resolves.toEqual({ success: false });
      expect(errors.join('\n')).toMatch(/table\.specFile: lab\.json: firmware\.table: no spec there/);
      await expect(bootVm({ table: { file: 'missing.bin' } }, inRoot)).resolves.toEqual({ success: false });
      expect(errors.join('\n')).toMatch(/table\.file: .*missing\.bin does not exist; give an iBFT file/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
