import { emptyLedger, parseDesiredState, plan } from '@ibft-lab/lio-target';
import { lintScript, renderScript } from '@ibft-lab/script-gen';
import { labDesiredState, labExpectations, labPortal, labScript, labTargetIqn } from './derive-lab';
import { parseLabSpec } from './lab-spec';
import { LAB_ROM_OVERRIDES, labTargets } from './lab-targets';
import { labProblems } from '../testing/lab-problems';

const minimal = { initiator: { iqn: 'iqn.2010-04.org.ipxe:t' } };

describe('LabSpec', () => {
  it('fills the default lab: appliance, rtl8139, BIOS, DHCP, one LUN, probe on, name from the folder', () => {
    const lab = parseLabSpec(minimal, 'my-lab');
    expect(lab).toMatchObject({
      name: 'my-lab',
      network: { mode: 'dhcp' },
      firmware: { nic: 'rtl8139', platform: 'bios', rom: 'build', fallback: 'stock' },
      target: { kind: 'appliance' },
      luns: [{}],
      boot: { kind: 'probe' },
      accel: 'tcg',
      consumers: ['kernel', 'open-iscsi', 'dracut', 'networkmanager'],
      otherConsumers: 'report',
    });
  });

  it.each([
    [{ initiator: { iqn: 'IQN.bad' } }, /lab.json: initiator.iqn: /],
    [{ ...minimal, firmware: { nic: 'tulip' } }, /lab.json: firmware.nic: /],
    [{ ...minimal, target: { kind: 'ssh' } }, /lab.json: target.ssh: /],
    [{ ...minimal, target: { kind: 'ssh', ssh: { host: 'h', privateKeyPath: '/k' }, portal: { ip: '192.0.2.1' } } }, /lab.json: target.ssh.hostKeyFingerprint: is required/],
    [{ ...minimal, target: { kind: 'ssh', ssh: { host: 'h', privateKeyPath: '/k', hostKeyFingerprint: 'SHA256:short' }, portal: { ip: '192.0.2.1' } } }, /lab.json: target.ssh.hostKeyFingerprint: must be SHA256:/],
    [{ ...minimal, luns: [] }, /lab.json: luns: /],
    [{ ...minimal, chap: { username: 'u', password: 'has a space!' } }, /lab.json: chap.password: /],
    [{ ...minimal, chap: { username: 'u', password: 'same-secret-01', mutual: { username: 't', password: 'same-secret-01' } } }, /lab.json: chap.mutual.password: must differ/],
    [{ ...minimal, name: 'Bad_Name' }, /lab.json: name: /],
    [{ ...minimal, extra: 1 }, /lab.json: \(root\): .*extra/],
    [{ ...minimal, consumers: ['kernel', 'systemd-networkd'] }, /lab.json: consumers.1: /],
    [{ ...minimal, otherConsumers: 'hide' }, /lab.json: otherConsumers: /],
  ])('rejects %j naming the field', (input, pattern) => {
    expect(labProblems(input).join('\n')).toMatch(pattern);
  });

  it('never puts a secret value into an error', () => {
    const secret = 'a secret$(reboot)';
    expect(labProblems({ ...minimal, chap: { username: 'u', password: secret } }).join('\n')).not.toContain(secret);
  });

  it('refuses a folder name that is no lab name unless name is set', () => {
    expect(() => parseLabSpec(minimal, 'My Lab')).toThrow(/set "name"/);
    expect(parseLabSpec({ ...minimal, name: 'ok' }, 'My Lab').name).toBe('ok');
  });
});

describe('derived from one spec', () => {
  const lab = parseLabSpec(
    {
      ...minimal,
      network: { mode: 'static', ip: '10.0.2.20', prefix: 24, gateway: '10.0.2.2', dns: ['10.0.2.3'] },
      luns: [{}, { sizeMiB: 8 }],
      chap: { username: 'init-user', password: 'initiator-0001', mutual: { username: 'tgt-user', password: 'target-000002' } },
    },
    'derived',
  );

  it('the appliance portal is the fixed relayed address', () => {
    expect(labPortal(lab)).toEqual({ ip: '10.0.2.4', port: 3260 });
    expect(labTargetIqn(lab)).toBe('iqn.2024-01.org.ibft-lab:derived');
  });

  it('the script hooks every LUN of the target at that portal, with CHAP once, and lints clean', () => {
    const text = renderScript(labScript(lab));
    expect(text).toContain('sanhook iscsi:10.0.2.4:::0:iqn.2024-01.org.ibft-lab:derived ||');
    expect(text).toContain('sanhook --drive 0x81 iscsi:10.0.2.4:::1:iqn.2024-01.org.ibft-lab:derived ||');
    expect(text.match(/set username init-user/g)).toHaveLength(1);
    expect(text).toContain('set reverse-username tgt-user');
    expect(lintScript(text)).toEqual([]);
  });

  it('the LIO state is valid for lio-target and allows exactly that initiator to those LUNs with that CHAP', () => {
    const desired = parseDesiredState(labDesiredState(lab));
    const tpg = desired.targets[0].tpgs[0];
    expect(desired.targets[0].iqn).toBe(labTargetIqn(lab));
    expect(tpg.attributes.authentication).toBe(true);
    expect(tpg.acls).toEqual([
      expect.objectContaining({
        initiatorIqn: 'iqn.2010-04.org.ipxe:t',
        mappedLuns: [expect.objectContaining({ index: 0, tpgLun: 0 }), expect.objectContaining({ index: 1, tpgLun: 1 })],
        chap: { userid: 'init-user', password: 'initiator-0001' },
        mutualChap: { userid: 'tgt-user', password: 'target-000002' },
      }),
    ]);
    expect(desired.backstores.map((b) => b.name)).toEqual(['lun0', 'lun1']);
    // A LUN that declares no size is 64 MiB.
    expect(desired.backstores.map((b) => (b.kind === 'fileio' ? b.sizeMiB : null))).toEqual([64, 8]);
    const steps = plan(desired, { storage_objects: [], targets: [], fabric_modules: [] }, emptyLedger('derived')).steps;
    expect(steps.map((s) => `${s.path} ${s.command}`)).toEqual(expect.arrayContaining(['/backstores/fileio create', '/iscsi create']));
  });

  it('the expectations name the same initiator, portal, LUNs and CHAP as the script', () => {
    const expected = labExpectations(lab);
    expect(expected.initiator).toEqual({ name: 'iqn.2010-04.org.ipxe:t' });
    expect(expected.nics).toEqual([{ mac: '52:54:00:12:34:56', origin: 'manual', ip: '10.0.2.20', prefix: 24, gateway: '10.0.2.2', dns: '10.0.2.3' }]);
    expect(expected.targets?.map((t) => [t.ip, t.port, t.lun, t.name, t.chapType, t.chapName, t.reverseChapName])).toEqual([
      ['10.0.2.4', 3260, 0, 'iqn.2024-01.org.ibft-lab:derived', 'mutual', 'init-user', 'tgt-user'],
      ['10.0.2.4', 3260, 1, 'iqn.2024-01.org.ibft-lab:derived', 'mutual', 'init-user', 'tgt-user'],
    ]);
  });

  it('an ssh lab uses its declared portal and backing folder, and setup-target gets the SSH connection', () => {
    const ssh = parseLabSpec(
      { ...minimal, target: { kind: 'ssh', ssh: { host: 'lio.example', hostKeyFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', privateKeyPath: '/keys/lab' }, portal: { ip: '192.0.2.10', port: 3261 }, backingDir: '/srv/luns' } },
      'remote',
    );
    expect(renderScript(labScript(ssh))).toContain('sanhook iscsi:192.0.2.10::3261:0:iqn.2024-01.org.ibft-lab:remote ||');
    const state = labDesiredState(ssh) as { backstores: Array<{ path: string }> };
    expect(state.backstores[0].path).toBe('/srv/luns/ibft-lab-remote-lun0.img');
    const targets = labTargets(ssh);
    expect(targets['setup-target']).toMatchObject({ options: { transport: 'ssh', ssh: { host: 'lio.example', port: 22, user: 'root' }, initiatorPortal: { ip: '192.0.2.10', port: 3261 } } });
    expect((labDesiredState(parseLabSpec({ ...minimal, target: { kind: 'ssh', ssh: { host: 'h', useAgent: true, insecureAcceptAnyHostKey: true }, portal: { ip: '10.0.2.2', port: 40000 }, listenPort: 3260 } }, 'fwd')) as { targets: Array<{ tpgs: Array<{ portals: unknown[] }> }> }).targets[0].tpgs[0].portals).toEqual([{ ip: '0.0.0.0', port: 3260 }]);
    expect(targets['setup-target'].dependsOn).toBeUndefined();
    expect(targets['target-vm']).toBeUndefined();
  });
});

describe('lab targets', () => {
  it("wire gen-script → build-rom and target-vm into the lab's boot-vm, which sets the target up with setup-target's options; only boot inputs are cached", () => {
    const targets = labTargets(parseLabSpec(minimal, 'wired'));
    expect(targets['boot-vm']).toMatchObject({
      executor: '@ibft-lab/lab:boot-vm',
      cache: false,
      dependsOn: ['gen-script', 'build-rom', 'target-vm'],
      options: { nic: 'rtl8139', rom: 'dist/labs/wired/firmware', initiatorFile: 'dist/labs/wired/target/initiator.json', probe: true },
    });
    expect((targets['boot-vm'].options as { target: unknown }).target).toEqual(targets['setup-target'].options);
    expect(targets['gen-script']).toMatchObject({ cache: true, outputs: ['{workspaceRoot}/dist/labs/wired/boot.ipxe'] });
    expect(targets['build-rom']).toMatchObject({ cache: true, dependsOn: ['gen-script'], options: { nic: 'rtl8139', format: 'rom', fallback: 'stock' } });
    // The lab's own ROM speed defaults go under the user's overrides (none here): the stock fallback has nothing to warn about.
    expect((targets['build-rom'].options as Record<string, unknown>).baseOverrides).toEqual(LAB_ROM_OVERRIDES);
    expect((targets['build-rom'].options as Record<string, unknown>).overrides).toEqual({});
    const own = labTargets(parseLabSpec({ ...minimal, firmware: { overrides: { general: { BANNER_TIMEOUT: 3 } } } }, 'own'));
    expect((own['build-rom'].options as Record<string, unknown>).overrides).toEqual({ general: { BANNER_TIMEOUT: 3 } });
    expect(targets['target-vm']).toMatchObject({ continuous: true });
    expect(targets['setup-target']).toMatchObject({ cache: false, dependsOn: ['target-vm'] });
  });

  it("boot-vm gets the lab's consumers: which must agree, and what happens to the others", () => {
    expect(labTargets(parseLabSpec(minimal, 'all'))['boot-vm'].options).toMatchObject({
      consumers: ['kernel', 'open-iscsi', 'dracut', 'networkmanager'],
      otherConsumers: 'report',
    });
    expect(labTargets(parseLabSpec({ ...minimal, consumers: ['kernel'], otherConsumers: 'skip' }, 'fast'))['boot-vm'].options).toMatchObject({
      consumers: ['kernel'],
      otherConsumers: 'skip',
    });
  });

  it('a CHAP lab keeps its script and ROM (which carry the secret) out of Nx cache', () => {
    const targets = labTargets(parseLabSpec({ ...minimal, chap: { username: 'u', password: 'secret-secret1' } }, 'chap'));
    expect([targets['gen-script'].cache, targets['build-rom'].cache]).toEqual([false, false]);
  });

  it('a stock-ROM lab has no build-rom and boots the stock ROM', () => {
    const targets = labTargets(parseLabSpec({ ...minimal, firmware: { nic: 'virtio-net', rom: 'stock' } }, 'stock'));
    expect(targets['build-rom']).toBeUndefined();
    expect(targets['boot-vm'].dependsOn).not.toContain('build-rom');
    expect((targets['boot-vm'].options as { rom?: string; nic: string }).rom).toBeUndefined();
    expect((targets['boot-vm'].options as { nic: string }).nic).toBe('virtio-net-pci');
  });
});
