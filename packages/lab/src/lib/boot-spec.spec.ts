// lab.json's `boot`: every kind parses, paths reach boot-vm relative to the
// workspace, and bad input (missing files, a non-ISO, a bad regex, an empty
// expect) is refused when the lab is read, naming the field.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FAIL_ON } from '@ibft-lab/qemu-runner';
import { parseLabSpec } from './lab-spec';
import { labTargets } from './lab-targets';
import { readLabSpec } from './read-lab';
import { problemsOf } from '../testing/lab-problems';

const minimal = { initiator: { iqn: 'iqn.2010-04.org.ipxe:t' } };
const expect1 = [{ pattern: 'login:', withinSeconds: 60 }];

function readProblems(dir: string, lab: unknown): string[] {
  writeFileSync(join(dir, 'lab.json'), JSON.stringify({ name: 'x', ...(lab as object) }));
  return problemsOf(() => readLabSpec(join(dir, 'lab.json'), 'labs/x/lab.json'));
}

describe('lab.json boot', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ibft-lab-boot-spec-'));
    writeFileSync(join(dir, 'vmlinuz'), 'kernel');
    writeFileSync(join(dir, 'initrd.img'), 'initrd');
    const iso = Buffer.alloc(0x8010);
    iso.write('CD001', 0x8001, 'latin1');
    writeFileSync(join(dir, 'installer.iso'), iso);
    writeFileSync(join(dir, 'not-an.iso'), 'hello');
    writeFileSync(join(dir, 'disk.qcow2'), 'raw bytes');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('probe is the default kind and keeps the probe on; other kinds turn it off unless asked, default failOn, 1 GiB', () => {
    const probe = parseLabSpec(minimal, 'lab');
    expect(probe.boot).toEqual({ kind: 'probe' });
    expect(labTargets(probe)['boot-vm'].options).toMatchObject({ probe: true });
    expect(labTargets(probe)['boot-vm'].options).not.toHaveProperty('systemUnderTest');

    const kernel = parseLabSpec({ ...minimal, boot: { kind: 'kernel', kernel: 'vmlinuz', initrd: 'initrd.img', cmdline: 'console=ttyS0', expect: expect1 } }, 'lab');
    const options = labTargets(kernel, { labRoot: 'labs/k' })['boot-vm'].options as Record<string, unknown>;
    expect(options).toMatchObject({
      probe: false,
      memoryMiB: 1024,
      systemUnderTest: { kind: 'kernel', kernel: 'labs/k/vmlinuz', initrd: 'labs/k/initrd.img', cmdline: 'console=ttyS0', expect: expect1, failOn: DEFAULT_FAIL_ON },
    });
    const both = parseLabSpec({ ...minimal, probe: true, boot: { kind: 'exit', media: { cdrom: '/abs/x.iso' }, expect: expect1 } }, 'lab');
    expect(labTargets(both)['boot-vm'].options).toMatchObject({ probe: true, systemUnderTest: { kind: 'exit', media: { cdrom: '/abs/x.iso' } } });
  });

  it.each([
    [{ kind: 'kernel', kernel: 'vmlinuz', expect: [] }, /boot.expect: /],
    [{ kind: 'kernel', kernel: 'vmlinuz', expect: [{ pattern: 'a(b', withinSeconds: 5 }] }, /boot.expect.0.pattern: is not a regular expression; escape/],
    [{ kind: 'kernel', kernel: 'vmlinuz', expect: [{ pattern: 'x', withinSeconds: 0 }] }, /boot.expect.0.withinSeconds: /],
    [{ kind: 'kernel', expect: expect1 }, /boot.kernel: /],
    [{ kind: 'exit', media: { floppy: 'x' }, expect: expect1 }, /boot.media: /],
    [{ kind: 'exit', media: { cdrom: 'a,b.iso' }, expect: expect1 }, /boot.media.*may not hold ','/],
    [{ kind: 'netboot' }, /boot.kind: /],
  ])('refuses %j naming the field', (boot, expected) => {
    expect(() => parseLabSpec({ ...minimal, boot }, 'lab')).toThrow(expected);
  });

  it('refuses missing files, a non-ISO cdrom and a fake qcow2 when the lab is read, naming the field and the lab folder', () => {
    expect(readProblems(dir, { ...minimal, boot: { kind: 'kernel', kernel: 'vmlinuz', initrd: 'initrd.img', expect: expect1 } })).toEqual([]);
    expect(readProblems(dir, { ...minimal, boot: { kind: 'kernel', kernel: 'gone', initrd: 'initrd.img', expect: expect1 } })).toEqual([
      `labs/x/lab.json: boot.kernel: gone cannot be read (ENOENT); give a path relative to the lab folder ${dir}`,
    ]);
    expect(readProblems(dir, { ...minimal, boot: { kind: 'exit', media: { cdrom: 'installer.iso' }, expect: expect1 } })).toEqual([]);
    expect(readProblems(dir, { ...minimal, boot: { kind: 'exit', media: { cdrom: 'not-an.iso' }, expect: expect1 } })).toEqual([
      'labs/x/lab.json: boot.media.cdrom: not-an.iso is not an ISO 9660 image (no CD001 at 0x8001); give an installer or live ISO',
    ]);
    expect(readProblems(dir, { ...minimal, boot: { kind: 'exit', media: { disk: 'disk.qcow2' }, expect: expect1 } })).toEqual([
      'labs/x/lab.json: boot.media.disk: disk.qcow2 is named .qcow2 but is not a qcow2 image; convert it (qemu-img convert -O qcow2) or rename it',
    ]);
  });
});
