// Table labs (firmware kind "table"): what lab.json may say, what they refuse (naming the field and the
// fix, before any VM starts), and the one target they get.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeIbft } from '@ibft-lab/ibft';
import { isTableLab, parseLab, parseLabSpec } from './lab-spec';
import { labTargets } from './lab-targets';
import { readLab, readLabSpec } from './read-lab';
import { problemsOf } from '../testing/lab-problems';

const SPEC = {
  layout: 'edk2',
  initiator: { name: 'iqn.2017-08.org.tianocore:lab' },
  nics: [{ ip: '192.168.10.20', prefixLength: 24, originName: 'manual', mac: '52:54:00:ed:00:01' }],
  targets: [{ ip: '192.168.10.100', lun: 0, name: 'iqn.2003-01.org.example:disk' }],
};


describe('table labs (firmware kind "table")', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ibft-lab-table-lab-'));
    writeFileSync(join(dir, 'ibft.bin'), encodeIbft(SPEC));
    writeFileSync(join(dir, 'not-an-ibft.bin'), Buffer.alloc(64, 0x41));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const read = (lab: object) => {
    writeFileSync(join(dir, 'lab.json'), JSON.stringify({ name: 'replay', ...lab }));
    return readLab(join(dir, 'lab.json'), 'labs/replay/lab.json');
  };

  it('a table file or an inline spec, nothing else; consumers as for other labs', () => {
    const file = read({ firmware: { kind: 'table', table: 'ibft.bin' }, consumers: ['kernel'] });
    expect(isTableLab(file)).toBe(true);
    expect(file).toEqual({ name: 'replay', firmware: { kind: 'table', table: 'ibft.bin' }, consumers: ['kernel'], otherConsumers: 'report', accel: 'tcg', deadlineSeconds: 300 });
    const inline = read({ firmware: { kind: 'table', spec: SPEC } });
    expect(isTableLab(inline) && inline.firmware.spec).toEqual(SPEC);
  });

  it('gets boot-vm only, replaying the file (workspace-relative) or the spec read from lab.json when the task runs', () => {
    const file = labTargets(parseLab({ firmware: { kind: 'table', table: 'ibft.bin' }, consumers: ['kernel', 'networkmanager'] }, 'replay'), { labRoot: 'labs/replay' });
    expect(Object.keys(file)).toEqual(['boot-vm']);
    expect(file['boot-vm']).toEqual({
      executor: '@ibft-lab/qemu-runner:boot-vm',
      cache: false,
      options: { table: { file: 'labs/replay/ibft.bin' }, accel: 'tcg', consumers: ['kernel', 'networkmanager'], otherConsumers: 'report', deadlineSeconds: 300 },
    });
    const inline = labTargets(parseLab({ firmware: { kind: 'table', spec: SPEC } }, 'replay'), { labRoot: 'labs/replay' });
    expect(inline['boot-vm'].options).toMatchObject({ table: { specFile: 'labs/replay/lab.json', at: 'firmware.spec' } });
    // The spec itself (and any secret in it) is not in the target's options, so not in Nx's project graph.
    expect(JSON.stringify(inline)).not.toContain('tianocore');
  });

  it('refuses what a table lab cannot have, each field with its fix', () => {
    const lab = { firmware: { kind: 'table', table: 'ibft.bin' } };
    expect(problemsOf(() => parseLab({ ...lab, initiator: { iqn: 'iqn.2010-04.org.ipxe:x' }, luns: [{}], target: { kind: 'appliance' } }, 'replay'))).toEqual([
      'lab.json: initiator: the table names the initiator (and its NICs carry the MACs): remove initiator',
      'lab.json: target: a table lab starts no iSCSI target (nothing logs in): remove target',
      'lab.json: luns: the table\'s target structures give the LUNs: remove luns',
    ]);
    for (const key of ['network', 'targetIqn', 'chap', 'boot', 'probe']) {
      expect(problemsOf(() => parseLab({ ...lab, [key]: {} }, 'replay'))).toEqual([expect.stringMatching(new RegExp(`^lab\\.json: ${key}: .*: remove ${key}$`))]);
    }
  });

  it('refuses a bad firmware block, naming the field', () => {
    expect(problemsOf(() => parseLab({ firmware: { kind: 'table' } }, 'replay'))).toEqual([
      'lab.json: firmware.table: give the table as exactly one of table (a file) and spec (the JSON ibft encode reads)',
    ]);
    expect(problemsOf(() => parseLab({ firmware: { kind: 'table', table: 'a.bin', spec: {} } }, 'replay'))).toHaveLength(1);
    expect(problemsOf(() => parseLab({ firmware: { kind: 'tabel', table: 'a.bin' } }, 'replay'))).toEqual([
      'lab.json: firmware.kind: is "tabel"; write "table" (a replayed table), or leave kind out (iPXE firmware)',
    ]);
    expect(problemsOf(() => parseLab({ firmware: { kind: 'table', table: 'a.bin', nic: 'e1000' } }, 'replay'))[0]).toMatch(/^lab\.json: firmware: .*nic/);
    // iPXE labs keep their field-named errors (firmware is a union now) and still need the initiator.
    expect(problemsOf(() => parseLab({ initiator: { iqn: 'iqn.2010-04.org.ipxe:x' }, firmware: { nic: 'ne3000' } }, 'x'))[0]).toMatch(/^lab\.json: firmware\.nic: /);
    expect(problemsOf(() => parseLab({}, 'x'))).toEqual([
      'lab.json: initiator: is required: give the initiator\'s IQN ({"iqn": "iqn.2010-04.org.ipxe:<name>"}), or make the lab replay a table (firmware kind "table")',
    ]);
  });

  it('refuses, when the lab is read: a missing table file, a file that is no iBFT (saying why), a spec encode refuses', () => {
    expect(problemsOf(() => read({ firmware: { kind: 'table', table: 'missing.bin' } }))).toEqual([
      `labs/replay/lab.json: firmware.table: missing.bin cannot be read (ENOENT); give a path relative to the lab folder ${dir}`,
    ]);
    expect(problemsOf(() => read({ firmware: { kind: 'table', table: 'not-an-ibft.bin' } }))).toEqual([
      expect.stringMatching(/^labs\/replay\/lab\.json: firmware\.table: not-an-ibft\.bin is not an iBFT Linux would take \(header\.signature: .*\); give a table as `ibft encode` or `ibft import --format bin` writes it$/),
    ]);
    const badSpec = { ...SPEC, targets: [{ ...SPEC.targets[0], ip: '10.0.2.300' }], nics: [{ ...SPEC.nics[0], prefixLength: 40 }] };
    const lines = problemsOf(() => read({ firmware: { kind: 'table', spec: badSpec } }));
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^labs\/replay\/lab\.json: firmware\.spec\.nics\[0\]\.prefixLength: 40 is too long/), expect.stringMatching(/^labs\/replay\/lab\.json: firmware\.spec\.targets\[0\]\.ip: /)]));
  });

  it('parseLabSpec and readLabSpec (iPXE labs) say to use parseLab / readLab for a table lab', () => {
    expect(problemsOf(() => parseLabSpec({ firmware: { kind: 'table', table: 'ibft.bin' } }, 'replay'))).toEqual([
      'lab.json: firmware.kind: this lab replays a table; read it with parseLab (or readLab), which returns either kind',
    ]);
    writeFileSync(join(dir, 'lab.json'), JSON.stringify({ name: 'replay', firmware: { kind: 'table', table: 'ibft.bin' } }));
    expect(problemsOf(() => readLabSpec(join(dir, 'lab.json'), 'x/lab.json'))[0]).toMatch(/read it with readLab/);
  });
});
