// Labs on private segments: what is rejected when lab.json is read (naming the
// field), and what the script, LIO state, appliance and expectations derive.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDesiredState } from '@ibft-lab/lio-target';
import { canonicalLabScript, labScriptSchema, lintScript, parseScript, renderScript } from '@ibft-lab/script-gen';
import { labDesiredState, labExpectations, labScript } from './derive-lab';
import { parseLabSpec, type LabSpec } from './lab-spec';
import { labTargets } from './lab-targets';
import { labProblems } from '../testing/lab-problems';

const labsDir = join(__dirname, '..', '..', '..', '..', 'labs');
const example = (name: string): LabSpec => parseLabSpec(JSON.parse(readFileSync(join(labsDir, name, 'lab.json'), 'utf8')), name);
const raw = (name: string) => JSON.parse(readFileSync(join(labsDir, name, 'lab.json'), 'utf8'));

const segment = { name: 'san', subnet: '192.168.42.0/24', dhcp: { pool: { start: '192.168.42.100', end: '192.168.42.199' } } };
const base = {
  initiator: { iqn: 'iqn.2010-04.org.ipxe:t', mac: '52:54:00:42:00:00' },
  network: { mode: 'segments', segments: [segment], nics: [{ segment: 'san', mac: '52:54:00:42:00:01' }] },
};
const withNetwork = (network: Record<string, unknown>) => ({ ...base, network: { ...base.network, ...network } });

describe('segment networks: bad input is rejected when the lab is read, naming the field', () => {
  it('accepts the base lab', () => expect(labProblems(base)).toEqual([]));

  it.each([
    ['a VLAN tag of 0', withNetwork({ nics: [{ segment: 'san', mac: '52:54:00:42:00:01', vlan: 0 }] }), /^lab.json: network.nics.0.vlan: must be a VLAN tag from 1 to 4094$/],
    ['a VLAN tag of 4095', withNetwork({ nics: [{ segment: 'san', mac: '52:54:00:42:00:01', vlan: 4095 }] }), /^lab.json: network.nics.0.vlan: must be a VLAN tag from 1 to 4094$/],
    [
      'two NICs on one MAC',
      withNetwork({
        segments: [segment, { name: 'b', subnet: '192.168.43.0/24' }],
        nics: [{ segment: 'san', mac: '52:54:00:42:00:01' }, { segment: 'b', mac: '52:54:00:42:00:01', config: 'static', ip: '192.168.43.10' }],
      }),
      /^lab.json: network.nics.1.mac: nics\[0\] has the MAC 52:54:00:42:00:01 already/,
    ],
    ['a NIC on the initiator\'s own MAC', withNetwork({ nics: [{ segment: 'san', mac: '52:54:00:42:00:00' }] }), /^lab.json: network.nics.0.mac: is initiator.mac already/],
    [
      'a target portal on a segment no NIC is on',
      withNetwork({ segments: [segment, { name: 'lonely', subnet: '192.168.43.0/24' }], paths: [{ lun: 0, segments: ['lonely'] }] }),
      /^lab.json: network.paths.0.segments.0: the target's portal on lonely is on a segment no NIC is on/,
    ],
    [
      'a DHCP pool that does not contain the fixed address',
      withNetwork({ nics: [{ segment: 'san', mac: '52:54:00:42:00:01', ip: '192.168.42.20' }] }),
      /^lab.json: network.nics.0.ip: 192.168.42.20 is not in the DHCP pool 192.168.42.100-192.168.42.199 of segment san; the pool must contain the fixed addresses/,
    ],
    [
      'a DHCP pool outside the subnet',
      withNetwork({ segments: [{ ...segment, dhcp: { pool: { start: '192.168.42.100', end: '192.168.50.1' } } }] }),
      /^lab.json: network.segments.0.dhcp.pool.end: 192.168.50.1 is not in 192.168.42.0\/24/,
    ],
    ['a DHCP NIC on a segment without DHCP', withNetwork({ segments: [{ name: 'san', subnet: '192.168.42.0/24' }] }), /^lab.json: network.nics.0.config: segment san serves no DHCP/],
    ['a NIC on a segment that does not exist', withNetwork({ nics: [{ segment: 'nope', mac: '52:54:00:42:00:01' }] }), /^lab.json: network.nics.0.segment: no segment is named "nope"/],
    ['a subnet that is not a network', withNetwork({ segments: [{ ...segment, subnet: '192.168.42.7/24' }] }), /^lab.json: network.segments.0.subnet: must be an IPv4 network in CIDR form/],
    ['segments under UEFI', { ...base, firmware: { platform: 'uefi' } }, /^lab.json: firmware.platform: segments needs platform bios: under UEFI the iPXE that runs the script drives only net0/],
    ['segments with a target other than the appliance', { ...base, target: { kind: 'local' } }, /^lab.json: network.mode: segments needs target kind appliance/],
    ['a path to a LUN the lab does not have', withNetwork({ paths: [{ lun: 1, segments: ['san'] }] }), /^lab.json: network.paths.0.lun: LUN 1 is not in luns/],
    ['a static NIC on dhcp-root-path', withNetwork({ mode: 'dhcp-root-path', nics: [{ segment: 'san', mac: '52:54:00:42:00:01', config: 'static', ip: '192.168.42.10' }] }), /^lab.json: network.nics.0.config: dhcp-root-path takes each target from DHCP/],
  ])('%s', (_, input, pattern) => {
    const found = labProblems(input);
    expect(found.some((line) => pattern.test(line))).toBe(true);
  });
});

describe('segment networks: derived from one spec', () => {
  it('every existing user-network lab keeps its network', () => {
    for (const name of ['lab', 'static-mutual-chap', 'two-luns', 'virtio-uefi']) expect(['dhcp', 'static']).toContain(example(name).network.mode);
  });

  it('two-nics: net0 stays on the user network, net1 by DHCP, net2 static, one sanhook per NIC, and each target names its NIC', () => {
    const lab = example('two-nics');
    const script = renderScript(labScript(lab));
    expect(script).toContain('dhcp net0\ndhcp net1\nset net2/ip 192.168.22.10\nset net2/netmask 255.255.255.0\nifopen net2\nclear net0.dhcp/dns ||\nclear net0.dhcp/gateway ||\n');
    expect(script).toContain('sanhook iscsi:192.168.21.1:::0:iqn.2024-01.org.ibft-lab:two-nics ||\nsanhook --drive 0x81 iscsi:192.168.22.1:::1:iqn.2024-01.org.ibft-lab:two-nics ||\n');
    expect(lintScript(script)).toEqual([]);
    const state = parseDesiredState(labDesiredState(lab));
    expect(state.targets[0].tpgs[0].portals).toEqual([{ ip: '192.168.21.1', port: 3260 }, { ip: '192.168.22.1', port: 3260 }]);
    const expected = labExpectations(lab);
    expect(expected.nics).toEqual([
      { mac: '52:54:00:20:00:01', vlan: 0, prefix: 24, dns: '192.168.21.53', hostname: 'two-nics-a', origin: 'dhcp', ip: '192.168.21.100', dhcp: '192.168.21.1', gateway: '192.168.21.1' },
      { mac: '52:54:00:20:00:02', vlan: 0, prefix: 24, dns: '192.168.21.53', hostname: 'two-nics-a', origin: 'manual', ip: '192.168.22.10' },
    ]);
    expect(expected.targets?.map((t) => [t.ip, t.lun, t.nicAssociation])).toEqual([['192.168.21.1', 0, 0], ['192.168.22.1', 1, 1]]);
    const targets = labTargets(lab);
    expect(targets['boot-vm'].options).toMatchObject({ segmentNics: [{ segment: 'san-a', mac: '52:54:00:20:00:01' }, { segment: 'san-b', mac: '52:54:00:20:00:02' }] });
    expect((targets['target-vm'].options as { segments: unknown[] }).segments).toEqual([
      { name: 'san-a', ip: '192.168.21.1', prefix: 24, dhcp: { poolStart: '192.168.21.100', poolEnd: '192.168.21.199', router: '192.168.21.1', dns: ['192.168.21.53'], hosts: [{ mac: '52:54:00:20:00:01', ip: '192.168.21.100', hostname: 'two-nics-a' }] } },
      { name: 'san-b', ip: '192.168.22.1', prefix: 24 },
    ]);
  });

  it('multipath: one sanhook with two URIs; the iBFT describes both paths, each with its NIC', () => {
    const lab = example('multipath');
    expect(renderScript(labScript(lab))).toContain('sanhook iscsi:192.168.31.1:::0:iqn.2024-01.org.ibft-lab:multipath iscsi:192.168.32.1:::0:iqn.2024-01.org.ibft-lab:multipath ||\n');
    expect(labExpectations(lab).targets?.map((t) => [t.ip, t.lun, t.nicAssociation])).toEqual([['192.168.31.1', 0, 0], ['192.168.32.1', 0, 1]]);
  });

  it('dhcp-root-path: the appliance hands out option 17 for the NIC, the script hooks ${net1/root-path}', () => {
    const lab = example('dhcp-root-path');
    expect(renderScript(labScript(lab))).toContain('sanhook ${net1/root-path} ||\n');
    const segments = (labTargets(lab)['target-vm'].options as { segments: { dhcp: { hosts: unknown[] } }[] }).segments;
    expect(segments[0].dhcp.hosts).toEqual([{ mac: '52:54:00:40:00:01', ip: '192.168.40.77', hostname: 'root-path-initiator', rootPath: 'iscsi:192.168.40.1:::0:iqn.2024-01.org.ibft-lab:dhcp-root-path' }]);
    expect(labExpectations(lab).targets).toMatchObject([{ ip: '192.168.40.1', port: 3260, lun: 0, nicAssociation: 0 }]);
  });

  it('vlan: vcreate --tag 42 on net1, the table\'s NIC is the VLAN device (vlan 42), the appliance tags its side', () => {
    const lab = example('vlan');
    expect(renderScript(labScript(lab))).toContain('vcreate --tag 42 net1\ndhcp net1-42\n');
    expect(labExpectations(lab).nics).toMatchObject([{ mac: '52:54:00:42:00:01', vlan: 42, origin: 'dhcp', ip: '192.168.42.100' }]);
    expect((labTargets(lab)['target-vm'].options as { segments: unknown[] }).segments).toMatchObject([{ name: 'san', vlan: 42 }]);
  });

  it('each segment lab\'s script reads back into the model it was rendered from (parseScript)', () => {
    for (const name of ['two-nics', 'multipath', 'dhcp-root-path', 'vlan']) {
      const model = labScriptSchema.parse(labScript(example(name)));
      const { model: parsed, diagnostics } = parseScript(renderScript(model));
      expect({ name, errors: diagnostics.filter((d) => d.severity === 'error') }).toEqual({ name, errors: [] });
      expect(parsed).toEqual(canonicalLabScript(model));
    }
  });

  it('keeps lab.json unchanged when derived (user files are never modified)', () => {
    const before = JSON.stringify(raw('two-nics'));
    labTargets(example('two-nics'));
    expect(JSON.stringify(raw('two-nics'))).toBe(before);
  });
});
