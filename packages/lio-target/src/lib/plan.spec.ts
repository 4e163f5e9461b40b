import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EMPTY_LIVE_STATE, parseLiveState } from './live-state';
import { parseDesiredState, type DesiredStateInput } from './model';
import { emptyLedger } from './ownership';
import { formatPlan, OwnershipError, plan, renderStep } from './plan';

const fixture = (name: string) => parseLiveState(readFileSync(join(__dirname, '..', '..', 'test', 'fixtures', name), 'utf8'));

// Captured from the real appliance (test/support/capture-fixture.ts): this
// desired state applied next to a hand-made foreign target.
const lab1: DesiredStateInput = JSON.parse(readFileSync(join(__dirname, '..', '..', 'test', 'fixtures', 'appliance-lab1.desired.json'), 'utf8'));
const CAPTURED = 'appliance-lab1.saveconfig.json';

describe('desired state validation', () => {
  it('derives a stable IQN from the lab', () => {
    expect(parseDesiredState(lab1).targets[0].iqn).toBe('iqn.2024-01.org.ibft-lab:lab1');
  });

  it('rejects a secret with a space, naming the field but never the value', () => {
    const bad = structuredClone(lab1) as any;
    bad.targets[0].tpgs[0].acls[0].chap.password = 'has a space 12345';
    let message = '';
    try {
      parseDesiredState(bad);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('targets[0].tpgs[0].acls[0].chap.password');
    expect(message).not.toContain('has a space');
  });

  it('rejects names targetcli cannot carry', () => {
    expect(() => parseDesiredState({ ...lab1, lab: 'Lab One' })).toThrow(/lab: may hold only/);
    expect(() => parseDesiredState({ ...lab1, targets: [{ iqn: 'iqn.2003-01.org.example:Disk' }] })).toThrow(/targets\[0\]\.iqn: has uppercase/);
    expect(() =>
      parseDesiredState({ ...lab1, backstores: [{ kind: 'fileio', name: 'disk', path: '/tmp/a b', sizeMiB: 1 }] }),
    ).toThrow(/backstores\[0\]\.path/);
  });

  it('rejects a LUN on an undeclared backstore', () => {
    expect(() => parseDesiredState({ ...lab1, backstores: [] })).toThrow(/luns\[0\]\.backstore: names backstore disk/);
  });
});

describe('plan', () => {
  it('creates everything from empty, in dependency order, with secrets masked in the dry run', () => {
    const p = plan(parseDesiredState(lab1), EMPTY_LIVE_STATE, emptyLedger('lab1'));
    const lines = p.steps.map((s) => renderStep(s));
    const acl = '/iscsi/iqn.2024-01.org.ibft-lab:lab1/tpg1/acls/iqn.2010-04.org.ipxe:client';
    expect(lines).toEqual([
      '/backstores/fileio create name=ibftlab_lab1_disk file_or_dev=/var/tmp/lab1-disk.img size=16M sparse=true write_back=false',
      '/backstores/ramdisk create name=ibftlab_lab1_scratch size=8M',
      '/iscsi create wwn=iqn.2024-01.org.ibft-lab:lab1',
      '/iscsi/iqn.2024-01.org.ibft-lab:lab1/tpg1/luns create storage_object=/backstores/fileio/ibftlab_lab1_disk lun=0 add_mapped_luns=false',
      '/iscsi/iqn.2024-01.org.ibft-lab:lab1/tpg1/luns create storage_object=/backstores/ramdisk/ibftlab_lab1_scratch lun=1 add_mapped_luns=false',
      '/iscsi/iqn.2024-01.org.ibft-lab:lab1/tpg1/acls create wwn=iqn.2010-04.org.ipxe:client add_mapped_luns=false',
      `${acl} create mapped_lun=0 tpg_lun_or_backstore=0 write_protect=0`,
      `${acl} create mapped_lun=1 tpg_lun_or_backstore=1 write_protect=1`,
      `${acl} set auth userid=initiator password=******** mutual_userid=target mutual_password=********`,
      '/iscsi/iqn.2024-01.org.ibft-lab:lab1/tpg1 set attribute authentication=1 generate_node_acls=0 demo_mode_write_protect=0 cache_dynamic_acls=0',
    ]);
    expect(renderStep(p.steps[8], true)).toContain('password=initiator-secret1');
    expect(formatPlan(p)).not.toContain('initiator-secret1');
    expect(p.createsTargets).toEqual(['iqn.2024-01.org.ibft-lab:lab1']);
    expect(p.createsFiles).toEqual(['/var/tmp/lab1-disk.img']);
  });

  it('is empty when the live state matches, and ignores the foreign target', () => {
    const ledger = { ...emptyLedger('lab1'), targets: ['iqn.2024-01.org.ibft-lab:lab1'] };
    const p = plan(parseDesiredState(lab1), fixture(CAPTURED), ledger);
    expect(formatPlan(p)).toBe('LIO plan: nothing to do');
  });

  it('changes only the CHAP when the secret changes', () => {
    const ledger = { ...emptyLedger('lab1'), targets: ['iqn.2024-01.org.ibft-lab:lab1'] };
    const changed = structuredClone(lab1) as any;
    changed.targets[0].tpgs[0].acls[0].chap.password = 'another-secret2';
    const p = plan(parseDesiredState(changed), fixture(CAPTURED), ledger);
    expect(p.steps.map((s) => renderStep(s))).toEqual([
      '/iscsi/iqn.2024-01.org.ibft-lab:lab1/tpg1/acls/iqn.2010-04.org.ipxe:client set auth userid=initiator password=********',
    ]);
  });

  it('teardown (empty desired state) deletes only what the lab owns', () => {
    const ledger = { ...emptyLedger('lab1'), targets: ['iqn.2024-01.org.ibft-lab:lab1'] };
    const p = plan(parseDesiredState({ lab: 'lab1' }), fixture(CAPTURED), ledger);
    expect(p.steps.map((s) => renderStep(s))).toEqual([
      '/iscsi delete wwn=iqn.2024-01.org.ibft-lab:lab1',
      '/backstores/ramdisk delete name=ibftlab_lab1_scratch',
      '/backstores/fileio delete name=ibftlab_lab1_disk',
    ]);
  });

  it('recreating a changed backstore deletes its LUN through the tree first and maps it again', () => {
    const ledger = { ...emptyLedger('lab1'), targets: ['iqn.2024-01.org.ibft-lab:lab1'] };
    const bigger = structuredClone(lab1) as any;
    bigger.backstores[1].sizeMiB = 12;
    const lines = plan(parseDesiredState(bigger), fixture(CAPTURED), ledger).steps.map((s) => renderStep(s));
    expect(lines).toEqual([
      '/iscsi/iqn.2024-01.org.ibft-lab:lab1/tpg1/luns delete lun=1',
      '/backstores/ramdisk delete name=ibftlab_lab1_scratch',
      '/backstores/ramdisk create name=ibftlab_lab1_scratch size=12M',
      '/iscsi/iqn.2024-01.org.ibft-lab:lab1/tpg1/luns create storage_object=/backstores/ramdisk/ibftlab_lab1_scratch lun=1 add_mapped_luns=false',
      '/iscsi/iqn.2024-01.org.ibft-lab:lab1/tpg1/acls/iqn.2010-04.org.ipxe:client create mapped_lun=1 tpg_lun_or_backstore=1 write_protect=1',
    ]);
  });

  it('refuses to adopt a target it did not create', () => {
    const desired = parseDesiredState({ ...lab1, targets: [{ iqn: 'iqn.2003-01.org.example:foreign' }] });
    expect(() => plan(desired, fixture(CAPTURED), emptyLedger('lab1'))).toThrow(OwnershipError);
  });
});

describe('plan: a block backstore (an appliance disk, /dev/vda)', () => {
  // Captured from the real appliance with a disk attached (CAPTURE_DISK, test/support/capture-fixture.ts).
  const oslun: DesiredStateInput = JSON.parse(readFileSync(join(__dirname, '..', '..', 'test', 'fixtures', 'appliance-oslun.desired.json'), 'utf8'));
  const captured = () => fixture('appliance-oslun.saveconfig.json');
  const ledger = { ...emptyLedger('oslun'), targets: ['iqn.2024-01.org.ibft-lab:oslun'] };
  const target = '/iscsi/iqn.2024-01.org.ibft-lab:oslun/tpg1';

  it('creates it with dev=, exports it as LUN 0 and creates no file', () => {
    const p = plan(parseDesiredState(oslun), EMPTY_LIVE_STATE, emptyLedger('oslun'));
    expect(p.steps.map((s) => renderStep(s))).toEqual([
      '/backstores/block create name=ibftlab_oslun_os dev=/dev/vda',
      '/iscsi create wwn=iqn.2024-01.org.ibft-lab:oslun',
      `${target}/luns create storage_object=/backstores/block/ibftlab_oslun_os lun=0 add_mapped_luns=false`,
      `${target}/acls create wwn=iqn.2010-04.org.ipxe:oslun-initiator add_mapped_luns=false`,
      `${target}/acls/iqn.2010-04.org.ipxe:oslun-initiator create mapped_lun=0 tpg_lun_or_backstore=0 write_protect=0`,
      `${target}/acls/iqn.2010-04.org.ipxe:oslun-initiator set auth userid=oslun-user password=********`,
      `${target} set attribute authentication=1 generate_node_acls=0 demo_mode_write_protect=0 cache_dynamic_acls=0`,
    ]);
    expect(p.createsFiles).toEqual([]);
  });

  it('is empty against what rtslib dumps for it', () => {
    expect(formatPlan(plan(parseDesiredState(oslun), captured(), ledger))).toBe('LIO plan: nothing to do');
  });

  it('moved to another disk: the LUN goes first, the backstore is recreated on /dev/vdb and mapped again', () => {
    const moved = structuredClone(oslun) as any;
    moved.backstores[0].device = '/dev/vdb';
    expect(plan(parseDesiredState(moved), captured(), ledger).steps.map((s) => renderStep(s))).toEqual([
      `${target}/luns delete lun=0`,
      '/backstores/block delete name=ibftlab_oslun_os',
      '/backstores/block create name=ibftlab_oslun_os dev=/dev/vdb',
      `${target}/luns create storage_object=/backstores/block/ibftlab_oslun_os lun=0 add_mapped_luns=false`,
      `${target}/acls/iqn.2010-04.org.ipxe:oslun-initiator create mapped_lun=0 tpg_lun_or_backstore=0 write_protect=0`,
    ]);
  });

  it('teardown deletes the target and the block backstore, and no file (the disk is not the lab\'s file)', () => {
    const p = plan(parseDesiredState({ lab: 'oslun' }), captured(), ledger);
    expect(p.steps.map((s) => renderStep(s))).toEqual(['/iscsi delete wwn=iqn.2024-01.org.ibft-lab:oslun', '/backstores/block delete name=ibftlab_oslun_os']);
  });

  it('refuses a device path targetcli cannot carry', () => {
    expect(() => parseDesiredState({ lab: 'oslun', backstores: [{ kind: 'block', name: 'os', device: '/dev/vd a' }] })).toThrow(/backstores\[0\]\.device/);
  });
});

describe('a fileio backstore started from a local image', () => {
  const sha = (c: string) => c.repeat(64);
  const state = (sha256: string) =>
    parseDesiredState({
      lab: 'img',
      backstores: [{ kind: 'fileio', name: 'os', path: '/var/tmp/img-os.img', image: { path: '/images/os.img', sha256 } }],
      targets: [{ tpgs: [{ luns: [{ index: 0, backstore: 'os' }] }] }],
    });
  const live = (dev: string) =>
    parseLiveState(JSON.stringify({ storage_objects: [{ name: 'ibftlab_img_os', plugin: 'fileio', dev, size: 8388608, write_back: false }], targets: [], fabric_modules: [] }));

  it('is created from the copied file at its own size (no size=, no sparse=) and names itself for the copy', () => {
    const p = plan(state(sha('a')), EMPTY_LIVE_STATE, emptyLedger('img'));
    expect(renderStep(p.steps[0])).toBe('/backstores/fileio create name=ibftlab_img_os file_or_dev=/var/tmp/img-os.img write_back=false');
    expect(p.copiesImages.map((b) => b.name)).toEqual(['os']);
    expect(p.createsFiles).toEqual(['/var/tmp/img-os.img']);
  });

  it('is the same while the ledger says its file was copied from these bytes, and made anew from other bytes', () => {
    const ledger = { ...emptyLedger('img'), images: { os: sha('a') } };
    const same = plan(state(sha('a')), live('/var/tmp/img-os.img'), ledger).steps.filter((s) => s.path.startsWith('/backstores'));
    expect(same).toEqual([]);
    const changed = plan(state(sha('b')), live('/var/tmp/img-os.img'), ledger);
    expect(changed.steps.filter((s) => s.path.startsWith('/backstores')).map((s) => `${s.command} ${s.reason}`)).toEqual([
      'delete backstore os differs from its declaration',
      'create backstore os is missing',
    ]);
    expect(changed.copiesImages.map((b) => b.name)).toEqual(['os']);
  });

  it('rejects a size beside an image, a missing size without one, and a sha256 that is not one', () => {
    const base = { lab: 'img', backstores: [{ kind: 'fileio', name: 'os', path: '/var/tmp/x.img', image: { path: '/i.img', sha256: sha('a') }, sizeMiB: 8 }] };
    expect(() => parseDesiredState(base)).toThrow(/backstores\[0\]\.sizeMiB: must be left out with image/);
    expect(() => parseDesiredState({ lab: 'img', backstores: [{ kind: 'fileio', name: 'os', path: '/var/tmp/x.img' }] })).toThrow(/backstores\[0\]\.sizeMiB: is required \(or image/);
    expect(() => parseDesiredState({ lab: 'img', backstores: [{ kind: 'fileio', name: 'os', path: '/var/tmp/x.img', image: { path: '/i.img', sha256: 'ABC' } }] })).toThrow(/backstores\[0\]\.image\.sha256: must be 64 lowercase hex/);
  });
});
