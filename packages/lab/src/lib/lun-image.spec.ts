// LUN images and `sanboot`: what lab.json accepts, what it refuses when the lab
// is read (field named, with the fix), and what the targets are derived from it.
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyLedger, parseDesiredState, plan } from '@ibft-lab/lio-target';
import { OS_IMAGE_RECIPES } from '@ibft-lab/qemu-runner';
import { lintScript, renderScript } from '@ibft-lab/script-gen';
import { DERIVED_HOST_PORTS, labDesiredState, labExpectations, labHostPort, labPortal, labScript } from './derive-lab';
import { parseLabSpec } from './lab-spec';
import { labTargets } from './lab-targets';
import { readLabSpec } from './read-lab';
import { labProblems, problemsOf } from '../testing/lab-problems';

const minimal = { initiator: { iqn: 'iqn.2010-04.org.ipxe:t' } };
const sanboot = { kind: 'sanboot', expect: [{ pattern: 'ibft-lab-proof: done', withinSeconds: 60 }] };
const osLun = { image: { os: 'debian-iscsi-root' } };

describe('luns[].image and boot kind sanboot in lab.json', () => {
  it('accepts a path or an OS recipe from qemu-runner\'s registry (every recipe there, no other)', () => {
    for (const os of Object.keys(OS_IMAGE_RECIPES)) expect(labProblems({ ...minimal, luns: [{ image: { os } }], boot: sanboot })).toEqual([]);
    expect(labProblems({ ...minimal, luns: [{ image: 'disk.qcow2' }] })).toEqual([]);
    expect(labProblems({ ...minimal, luns: [{ image: { os: 'windows-xp' } }] }).join('\n')).toMatch(/lab.json: luns\.0\.image/);
  });

  it.each([
    [{ ...minimal, boot: sanboot }, /lab.json: luns\.0\.image: boot kind "sanboot" boots LUN 0: give it an image/],
    [{ ...minimal, luns: [{}, osLun], boot: sanboot }, /lab.json: luns\.0\.image: boot kind "sanboot"/],
    [{ ...minimal, luns: [osLun], target: { kind: 'local' } }, /lab.json: luns\.0\.image: an OS image \(\{"os": "debian-iscsi-root"\}\) is served by the appliance target only; use target\.kind "appliance", or give the path of a raw image file/],
    [{ ...minimal, luns: [osLun], target: { kind: 'appliance', hostPort: 80 } }, /lab.json: target\.hostPort: /],
    [{ ...minimal, luns: [{ image: 'a,b.img' }] }, /lab.json: luns\.0\.image: /],
    [{ ...minimal, luns: [osLun], boot: { kind: 'sanboot', expect: [{ pattern: '(', withinSeconds: 5 }] } }, /lab.json: boot\.expect\.0\.pattern: /],
  ])('rejects %j naming the field', (input, pattern) => {
    expect(labProblems(input).join('\n')).toMatch(pattern);
  });
});

describe('image files are checked when the lab is read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-lun-image-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** What reading the lab written with these fields refuses. */
  function problemsReading(fields: Record<string, unknown>): string[] {
    writeFileSync(join(dir, 'lab.json'), JSON.stringify({ ...minimal, name: 'x', ...fields }));
    return problemsOf(() => readLabSpec(join(dir, 'lab.json'), 'labs/x/lab.json'));
  }

  function labWith(image: string, sizeMiB?: number): string[] {
    return problemsReading({ luns: [{ image, ...(sizeMiB ? { sizeMiB } : {}) }], boot: sanboot });
  }

  function file(name: string, bytes: Array<[number, Buffer]>, size = 0x10000): string {
    const path = join(dir, name);
    writeFileSync(path, Buffer.alloc(0));
    truncateSync(path, size);
    const content = readFileSync(path);
    for (const [offset, magic] of bytes) magic.copy(content, offset);
    writeFileSync(path, content);
    return name;
  }

  function qcow2(name: string, virtualBytes: number): string {
    const header = Buffer.alloc(32);
    Buffer.from([0x51, 0x46, 0x49, 0xfb]).copy(header, 0);
    header.writeUInt32BE(3, 4);
    header.writeBigUInt64BE(BigInt(virtualBytes), 24);
    return file(name, [[0, header]], 0x40000);
  }

  it('a raw image (its size is the LUN) and a qcow2 one (its virtual size) within sizeMiB pass', () => {
    expect(labWith(file('raw.img', [], 2 * 2 ** 20))).toEqual([]);
    expect(labWith('raw.img', 2)).toEqual([]);
    expect(labWith(qcow2('small.qcow2', 8 * 2 ** 20), 8)).toEqual([]);
  });

  it('an SSH or local target takes a raw file, and refuses qcow2 with the conversion to run', () => {
    file('ssh-raw.img', [], 2 * 2 ** 20);
    qcow2('ssh.qcow2', 8 * 2 ** 20);
    const withTarget = (image: string, target: Record<string, unknown>) => problemsReading({ luns: [{ image }], target });
    const ssh = { kind: 'ssh', ssh: { host: 'lio.example', useAgent: true, insecureAcceptAnyHostKey: true }, portal: { ip: '10.0.2.2', port: 3260 } };
    expect(withTarget('ssh-raw.img', ssh)).toEqual([]);
    expect(withTarget('ssh-raw.img', { kind: 'local' })).toEqual([]);
    for (const target of [ssh, { kind: 'local' }]) {
      expect(withTarget('ssh.qcow2', target).join('\n')).toMatch(
        /labs\/x\/lab.json: luns\[0\]\.image: ssh\.qcow2 is qcow2, and a (ssh|local) target serves a LUN's file as raw bytes; convert it once \(qemu-img convert -O raw ssh\.qcow2 ssh\.raw\) and name ssh\.raw, or use target\.kind "appliance"/,
      );
    }
  });

  it('a missing image names the field and the lab folder', () => {
    expect(labWith('missing.img').join('\n')).toMatch(/labs\/x\/lab.json: luns\[0\]\.image: missing\.img cannot be read \(ENOENT\); give a path relative to the lab folder/);
  });

  it.each([
    ['VMDK', [[0, Buffer.from('KDMV')]]],
    ['VDI', [[0x40, Buffer.from([0x7f, 0x10, 0xda, 0xbe])]]],
    ['VHDX', [[0, Buffer.from('vhdxfile')]]],
    ['ISO 9660', [[0x8001, Buffer.from('CD001')]]],
  ] as Array<[string, Array<[number, Buffer]>]>)('a %s image is refused, with the conversion to run', (format, magic) => {
    const name = file(`disk-${format.replace(/\W/g, '')}.img`, magic);
    expect(labWith(name).join('\n')).toMatch(new RegExp(`luns\\[0\\]\\.image: .*${name} is an? ${format.replace(/ /g, '.')} image, not raw or qcow2; convert it: qemu-img convert -O qcow2`));
  });

  it('an image larger than the LUN declared for it is refused, naming sizeMiB and the size needed', () => {
    expect(labWith(qcow2('big.qcow2', 100 * 2 ** 20), 64).join('\n')).toMatch(
      /luns\[0\]\.sizeMiB: 64 MiB is smaller than its image big\.qcow2 \(qcow2, 100 MiB\); set sizeMiB to at least 100 or leave it out/,
    );
    expect(labWith(file('raw3.img', [], 3 * 2 ** 20), 2).join('\n')).toMatch(/luns\[0\]\.sizeMiB: 2 MiB is smaller than its image raw3\.img \(raw, 3 MiB\)/);
  });
});

describe('derived from a lab with an image LUN', () => {
  const lab = parseLabSpec({ ...minimal, luns: [osLun, { sizeMiB: 8 }], boot: sanboot, chap: { username: 'u', password: 'secret-secret1' } }, 'debian-iscsi-root');

  it('the portal is the fast path: 10.0.2.2 and a port fixed by the lab name, below the ephemeral range', () => {
    expect(labPortal(lab)).toEqual({ ip: '10.0.2.2', port: 26998 });
    for (const name of ['a', 'lab', 'debian-iscsi-root-uefi', 'x'.repeat(32)]) {
      const port = labHostPort(parseLabSpec({ ...minimal, luns: [osLun] }, name));
      expect(port).toBeGreaterThanOrEqual(DERIVED_HOST_PORTS.first);
      expect(port).toBeLessThan(Math.min(32768, DERIVED_HOST_PORTS.first + DERIVED_HOST_PORTS.count));
    }
    expect(labPortal(parseLabSpec({ ...minimal, luns: [osLun], target: { kind: 'appliance', hostPort: 3261 } }, 'fixed'))).toEqual({ ip: '10.0.2.2', port: 3261 });
    // A lab without an image keeps the relay (and its fixed 10.0.2.4:3260).
    expect(labPortal(parseLabSpec(minimal, 'plain'))).toEqual({ ip: '10.0.2.4', port: 3260 });
  });

  it('the script hooks the LUNs there and lints clean; the iBFT must name that portal', () => {
    const text = renderScript(labScript(lab));
    expect(text).toContain('sanhook iscsi:10.0.2.2::26998:0:iqn.2024-01.org.ibft-lab:debian-iscsi-root ||');
    expect(lintScript(text)).toEqual([]);
    expect(labExpectations(lab).targets?.map((t) => [t.ip, t.port, t.lun])).toEqual([
      ['10.0.2.2', 26998, 0],
      ['10.0.2.2', 26998, 1],
    ]);
  });

  it('LUN 0 is a block backstore on the appliance\'s first disk, the other LUN stays a fileio file', () => {
    const desired = parseDesiredState(labDesiredState(lab));
    expect(desired.backstores).toEqual([
      expect.objectContaining({ kind: 'block', name: 'lun0', device: '/dev/vda' }),
      expect.objectContaining({ kind: 'fileio', name: 'lun1', sizeMiB: 8 }),
    ]);
    const steps = plan(desired, { storage_objects: [], targets: [], fabric_modules: [] }, emptyLedger('debian-iscsi-root')).steps;
    expect(steps.map((s) => `${s.path} ${s.command}`)).toEqual(expect.arrayContaining(['/backstores/block create', '/backstores/fileio create']));
  });

  it('target-vm serves the images on that port; setup-target publishes it; boot-vm sanboots', () => {
    const withFile = parseLabSpec({ ...minimal, luns: [{ image: 'disk.qcow2' }], boot: sanboot }, 'file-lab');
    const targets = labTargets(withFile, { labRoot: 'labs/file-lab' });
    expect(targets['target-vm'].options).toEqual({
      disks: [{ image: { path: 'labs/file-lab/disk.qcow2' }, field: 'luns[0].image' }],
      iscsiHostPort: labHostPort(withFile),
      iscsiHostPortField: 'target.hostPort',
    });
    expect(labTargets(lab)['target-vm'].options).toMatchObject({ disks: [{ image: { os: 'debian-iscsi-root' }, field: 'luns[0].image' }], iscsiHostPort: 26998 });
    // setup-target waits for target-vm's first build of an OS image; a file needs no build.
    expect(labTargets(lab)['setup-target'].options).toMatchObject({ waitTimeoutSeconds: 900 });
    expect(targets['setup-target'].options).not.toHaveProperty('waitTimeoutSeconds');
    expect(targets['setup-target'].options).toMatchObject({ transport: 'appliance', initiatorPortal: { ip: '10.0.2.2', port: labHostPort(withFile) } });
    // The script does not depend on the image's bytes: Nx does not hash it for gen-script.
    expect(targets['gen-script'].inputs).toEqual(['default', '^production', '!{projectRoot}/disk.qcow2']);
    expect(targets['boot-vm'].options).toMatchObject({ probe: false, memoryMiB: 1024, systemUnderTest: { kind: 'sanboot', expect: sanboot.expect } });
    // Without images, target-vm runs as before: no disks, a port of its choosing, the relay.
    expect(labTargets(parseLabSpec(minimal, 'plain'))['target-vm'].options).toEqual({});
    expect(labTargets(parseLabSpec(minimal, 'plain'))['setup-target'].options).not.toHaveProperty('initiatorPortal');
  });
});

describe('derived from a lab with an image LUN on an SSH target', () => {
  const lab = parseLabSpec(
    {
      ...minimal,
      luns: [{ image: 'disk.img', sizeMiB: 16 }, { sizeMiB: 8 }],
      target: { kind: 'ssh', ssh: { host: 'lio.example', useAgent: true, insecureAcceptAnyHostKey: true }, portal: { ip: '192.0.2.10', port: 3260 }, backingDir: '/srv/iscsi' },
    },
    'ssh-image',
  );

  it('the LUN is a fileio copy in backingDir of the file, named by its workspace path alone (no hash in the project graph)', () => {
    const config = (labTargets(lab, { labRoot: 'labs/ssh-image' })['setup-target'].options as { config: { backstores: unknown[] } }).config;
    expect(config.backstores).toEqual([
      { kind: 'fileio', name: 'lun0', path: '/srv/iscsi/ibft-lab-ssh-image-lun0.img', sparse: true, image: { path: 'labs/ssh-image/disk.img' } },
      { kind: 'fileio', name: 'lun1', path: '/srv/iscsi/ibft-lab-ssh-image-lun1.img', sizeMiB: 8, sparse: true },
    ]);
    // lio-target takes it as it is: the sha256 is taken when setup-target runs.
    expect(parseDesiredState(config).backstores[0]).toMatchObject({ kind: 'fileio', image: { path: 'labs/ssh-image/disk.img' } });
  });

  it('the guest reaches the declared portal (no appliance, no relay, no host port)', () => {
    expect(labPortal(lab)).toEqual({ ip: '192.0.2.10', port: 3260 });
    const targets = labTargets(lab);
    expect(targets['target-vm']).toBeUndefined();
    expect(targets['setup-target'].options).toMatchObject({ transport: 'ssh', initiatorPortal: { ip: '192.0.2.10', port: 3260 } });
    expect(targets['gen-script'].inputs).toEqual(['default', '^production', '!{projectRoot}/disk.img']);
  });
});

describe('labs/debian-iscsi-root*', () => {
  it.each(['debian-iscsi-root', 'debian-iscsi-root-uefi'])('%s: its expectations name the portal and target the lab derives', (name) => {
    const lab = readLabSpec(join(__dirname, '..', '..', '..', '..', 'labs', name, 'lab.json'));
    const { ip, port } = labPortal(lab);
    expect(lab.boot.kind).toBe('sanboot');
    const patterns = lab.boot.kind === 'sanboot' ? lab.boot.expect.map((e) => new RegExp(e.pattern)) : [];
    const target = `iqn.2024-01.org.ibft-lab:${name}`;
    expect(patterns.some((p) => p.test(`iscsistart: Logging into ${target} ${ip}:${port}`))).toBe(true);
    expect(patterns.some((p) => p.test(`ibft-lab-proof: session target=${target} portal=${ip}:${port} transport=tcp sid=1 (iscsiadm -m session)`))).toBe(true);
    expect(patterns.some((p) => p.test('ibft-lab-proof: root=/dev/sda2 fstype=ext4 label=root on /dev/sda (session1, LIO-ORG lun0)'))).toBe(true);
  });
});
