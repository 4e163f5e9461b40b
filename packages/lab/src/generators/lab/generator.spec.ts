import { readNxJson, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { labPortal, labTargets, parseLabSpec } from '../../lib';
import labGenerator from './generator';

describe('lab generator', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
  });

  const lab = (path = 'labs/my-lab/lab.json') => JSON.parse(tree.read(path, 'utf8')!);

  it('writes a default lab.json that LabSpec accepts, and registers the plugin', async () => {
    await labGenerator(tree, { name: 'my-lab' });
    const spec = lab();
    expect(spec).toEqual({
      name: 'my-lab',
      initiator: { iqn: 'iqn.2010-04.org.ipxe:my-lab' },
      network: { mode: 'dhcp' },
      firmware: { nic: 'rtl8139', platform: 'bios', rom: 'build' },
      target: { kind: 'appliance' },
      luns: [{ sizeMiB: 64 }],
      probe: true,
    });
    expect(parseLabSpec(spec, 'my-lab').name).toBe('my-lab');
    expect(readNxJson(tree)?.plugins).toContainEqual({ plugin: '@ibft-lab/lab/plugin' });
  });

  it('static network, mutual CHAP with generated secrets iPXE and targetcli can carry, named by reference to git-ignored files', async () => {
    await labGenerator(tree, { name: 'chap-lab', network: 'static', ip: '10.0.2.30', chap: 'mutual', nic: 'e1000', firmware: 'uefi' });
    const spec = lab('labs/chap-lab/lab.json');
    expect(spec.network).toEqual({ mode: 'static', ip: '10.0.2.30', prefix: 24, gateway: '10.0.2.2', dns: ['10.0.2.3'] });
    expect(spec.chap.password).toEqual({ file: 'chap-secret.txt' });
    expect(spec.chap.mutual.password).toEqual({ file: 'mutual-secret.txt' });
    const secret = tree.read('labs/chap-lab/chap-secret.txt', 'utf-8')!.trim();
    const mutual = tree.read('labs/chap-lab/mutual-secret.txt', 'utf-8')!.trim();
    expect(secret).toMatch(/^[A-Za-z0-9._~+-]{16}$/);
    expect(mutual).toMatch(/^[A-Za-z0-9._~+-]{16}$/);
    expect(mutual).not.toBe(secret);
    expect(tree.read('labs/chap-lab/.gitignore', 'utf-8')).toBe('*-secret.txt\n');
    expect(tree.read('labs/chap-lab/lab.json', 'utf-8')).not.toContain(secret);
    expect(parseLabSpec(spec, 'chap-lab').chap?.mutual?.username).toBe('chap-lab-target');
  });

  it('--os debian-iscsi-root: the OS image on LUN 0, virtio-net, sanboot, expecting the OS\'s proof at the lab\'s own portal', async () => {
    await labGenerator(tree, { name: 'my-os', os: 'debian-iscsi-root', chap: 'chap' });
    const spec = lab('labs/my-os/lab.json');
    const parsed = parseLabSpec(spec, 'my-os');
    expect(spec).toMatchObject({
      firmware: { nic: 'virtio-net', platform: 'bios' },
      target: { kind: 'appliance' },
      luns: [{ image: { os: 'debian-iscsi-root' } }],
      chap: { password: { file: 'chap-secret.txt' } },
      boot: { kind: 'sanboot' },
    });
    expect(spec.probe).toBeUndefined();
    const { port } = labPortal(parsed);
    const patterns = (spec.boot.expect as Array<{ pattern: string }>).map((e) => new RegExp(e.pattern));
    const proof = [
      'Booting from SAN device 0x80',
      'ibft-lab-proof: root=/dev/sda2 fstype=ext4 label=root on /dev/sda (session1, LIO-ORG lun0)',
      `ibft-lab-proof: session target=iqn.2024-01.org.ibft-lab:my-os portal=10.0.2.2:${port} transport=tcp sid=1 (iscsiadm -m session)`,
      'ibft-lab-proof: done',
      '[   45.1] reboot: Power down',
    ];
    expect(patterns.map((p, i) => p.test(proof[i]))).toEqual(proof.map(() => true));
    // Another portal (a relayed one, say) does not pass for the session line.
    expect(patterns[2].test('ibft-lab-proof: session target=iqn.2024-01.org.ibft-lab:my-os portal=10.0.2.4:3260 transport=tcp')).toBe(false);
    await labGenerator(tree, { name: 'my-uefi-os', os: 'debian-iscsi-root', firmware: 'uefi' });
    expect(lab('labs/my-uefi-os/lab.json')).toMatchObject({ firmware: { nic: 'virtio-net', platform: 'uefi' }, boot: { kind: 'sanboot' } });
    await expect(labGenerator(tree, { name: 'bad-os', os: 'windows' })).rejects.toThrow(/lab generator: os: /);
  });

  it('an ssh target needs its host, and its portal defaults to that host', async () => {
    await expect(labGenerator(tree, { name: 'remote', target: 'ssh' })).rejects.toThrow(/sshHost: required/);
    await expect(labGenerator(tree, { name: 'remote', target: 'ssh', sshHost: '192.0.2.7', sshHostKeyFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })).rejects.toThrow(/target.ssh.privateKeyPath: is required/);
    await labGenerator(tree, { name: 'remote', target: 'ssh', sshHost: '192.0.2.7', sshHostKeyFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', sshPrivateKey: 'keys/lab' });
    expect(lab('labs/remote/lab.json').target).toEqual({
      kind: 'ssh',
      ssh: { host: '192.0.2.7', port: 22, user: 'root', privateKeyPath: 'keys/lab', hostKeyFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      portal: { ip: '192.0.2.7', port: 3260 },
    });
  });

  it.each([
    [{ name: 'Bad Name' }, /name: /],
    [{ name: 'ok', initiatorIqn: 'not-an-iqn' }, /initiator\.iqn: /],
    [{ name: 'ok', network: 'static', ip: '10.0.2.300' }, /network\.ip: /],
    [{ name: 'ok', nic: 'tulip' }, /nic: /],
  ])('rejects %j naming the field, and writes nothing', async (options, pattern) => {
    await expect(labGenerator(tree, options)).rejects.toThrow(pattern);
    expect(tree.exists('labs/ok/lab.json')).toBe(false);
  });

  describe('private segments to the appliance (--network segments | multipath | dhcp-root-path)', () => {
    const shipped = (name: string) => JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', '..', 'labs', name, 'lab.json'), 'utf8'));
    const withoutMacsAndDns = (network: { nics: Array<Record<string, unknown>> }) => ({ ...network, nics: network.nics.map(({ mac: _mac, dns: _dns, ...nic }) => nic) });

    it('multipath: the network of labs/multipath (booted by the labs e2e), every LUN over both paths', async () => {
      await labGenerator(tree, { name: 'my-mp', network: 'multipath', rom: 'stock' });
      const spec = lab('labs/my-mp/lab.json');
      expect(withoutMacsAndDns(spec.network)).toEqual(withoutMacsAndDns(shipped('multipath').network));
      await labGenerator(tree, { name: 'my-mp2', network: 'multipath', luns: 2 });
      expect(lab('labs/my-mp2/lab.json').network.paths).toEqual([0, 1].map((lun) => ({ lun, segments: ['path-a', 'path-b'] })));
      const targets = labTargets(parseLabSpec(lab('labs/my-mp2/lab.json'), 'my-mp2'));
      expect((targets['target-vm'].options as { segments: unknown[] }).segments).toHaveLength(2);
      expect((targets['boot-vm'].options as { segmentNics: unknown[] }).segmentNics).toHaveLength(2);
    });

    it("segments: one NIC and segment per LUN, each NIC on the appliance's DHCP, each LUN over its own segment", async () => {
      await labGenerator(tree, { name: 'my-segs', network: 'segments', luns: 2 });
      const spec = lab('labs/my-segs/lab.json');
      expect(spec.network).toMatchObject({
        mode: 'segments',
        segments: [
          { name: 'san-a', subnet: '192.168.21.0/24', dhcp: { pool: { start: '192.168.21.100', end: '192.168.21.199' } } },
          { name: 'san-b', subnet: '192.168.22.0/24', dhcp: { pool: { start: '192.168.22.100', end: '192.168.22.199' } } },
        ],
        // The paths of labs/two-nics.
        paths: shipped('two-nics').network.paths,
      });
      expect(spec.network.nics.map((n: { segment: string; config?: string }) => [n.segment, n.config])).toEqual([['san-a', undefined], ['san-b', undefined]]);
      expect(parseLabSpec(spec, 'my-segs').network).toMatchObject({ nics: [{ config: 'dhcp' }, { config: 'dhcp' }] });
    });

    it("dhcp-root-path: one NIC whose DHCP answer names the target, as labs/dhcp-root-path", async () => {
      await labGenerator(tree, { name: 'my-rp', network: 'dhcp-root-path' });
      const spec = lab('labs/my-rp/lab.json');
      expect(spec.network).toEqual({ mode: 'dhcp-root-path', segments: [{ name: 'san', subnet: '192.168.40.0/24', dhcp: { pool: { start: '192.168.40.100', end: '192.168.40.199' } } }], nics: [{ segment: 'san', mac: expect.any(String) }] });
      expect(shipped('dhcp-root-path').network).toMatchObject({ mode: 'dhcp-root-path', segments: [{ name: 'san', subnet: '192.168.40.0/24' }], nics: [{ segment: 'san' }] });
      expect(parseLabSpec(spec, 'my-rp').network.mode).toBe('dhcp-root-path');
    });

    it("gives each lab's segment NICs MACs of their own, never the appliance's", async () => {
      const macs: string[] = [];
      for (const name of ['a', 'b', 'lab', 'multipath', 'x1', 'x2', 'x3', 'x4']) {
        await labGenerator(tree, { name: `mac-${name}`, network: 'multipath' });
        macs.push(...lab(`labs/mac-${name}/lab.json`).network.nics.map((n: { mac: string }) => n.mac));
      }
      expect(new Set(macs).size).toBe(macs.length);
      expect(macs.filter((m) => /^52:54:00:a0:00:/.test(m))).toEqual([]);
    });

    it.each([
      [{ firmware: 'uefi' }, /firmware\.platform: /],
      [{ target: 'local' }, /network\.mode: segments needs target kind appliance/],
      [{ os: 'debian-iscsi-root' }, /network\.mode: segments with an image LUN is not supported yet/],
    ])('refuses segments with %j, naming the field, and writes nothing', async (extra, pattern) => {
      await expect(labGenerator(tree, { name: 'seg-bad', network: 'segments', ...extra })).rejects.toThrow(pattern);
      expect(tree.exists('labs/seg-bad/lab.json')).toBe(false);
    });
  });

  it('refuses to overwrite an existing lab', async () => {
    await labGenerator(tree, { name: 'twice' });
    await expect(labGenerator(tree, { name: 'twice' })).rejects.toThrow(/exists already/);
  });
});
