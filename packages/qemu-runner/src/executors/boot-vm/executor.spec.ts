// Option handling only; the executor's real runs are in test/interrupt.spec.ts
// (a real boot interrupted) and the lab projects.
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
  ])('rejects %j, naming the field', async (options, message) => {
    await expect(bootVm(options, context)).resolves.toEqual({ success: false });
    expect(errors.join('\n')).toMatch(message);
  });

  it('fails with the fix when the script is missing (default path under dist/labs/<project>)', async () => {
    await expect(bootVm({ probe: false }, context)).resolves.toEqual({ success: false });
    expect(errors.join('\n')).toMatch(/script: \/nonexistent-workspace\/dist\/labs\/lab\/boot\.ipxe does not exist; run gen-script first/);
  });
});
