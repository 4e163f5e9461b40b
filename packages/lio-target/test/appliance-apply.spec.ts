// Real LIO in the appliance VM (QEMU TCG), reached over real SSH: apply from
// empty, idempotent re-apply, small changes, validation before any command,
// teardown that leaves a foreign target alone. One appliance for the file.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { ExecutorContext } from '@nx/devkit';
import { startQemu } from '@ibft-lab/qemu-runner';
import setupTargetExecutor from '../src/executors/setup-target/executor';
import targetStatusExecutor from '../src/executors/target-status/executor';
import teardownTargetExecutor from '../src/executors/teardown-target/executor';
import {
  applyDesiredState,
  connectSsh,
  endpointSshOptions,
  ensureRemoteImage,
  ImageChanged,
  sha256OfFile,
  HostKeyRejected,
  parseLiveState,
  readLiveState,
  startAppliance,
  targetcliSession,
  teardownLab,
  targetStatus,
  type DesiredStateInput,
  type LiveState,
  type RunningAppliance,
  type Transport,
  writeEndpoint,
} from '../src';

jest.setTimeout(600_000);

const qemuMissing = !existsSync('/usr/bin/qemu-system-x86_64') ? 'qemu-system-x86_64 is missing (tools/setup installs it)' : undefined;
if (qemuMissing) console.log(`appliance tests skipped: ${qemuMissing}`);
const describeVm = qemuMissing ? describe.skip : describe;

const INITIATOR = 'iqn.2010-04.org.ipxe:lab-initiator';
const SECOND_INITIATOR = 'iqn.2010-04.org.ipxe:second-initiator';
const FOREIGN_IQN = 'iqn.2003-01.org.example:someone-else';

const desired: DesiredStateInput = {
  lab: 'apptest',
  backstores: [
    { kind: 'fileio', name: 'disk', path: '/var/tmp/apptest-disk.img', sizeMiB: 16 },
    { kind: 'ramdisk', name: 'scratch', sizeMiB: 8 },
  ],
  targets: [
    {
      tpgs: [
        {
          attributes: { authentication: true },
          portals: [{ ip: '0.0.0.0', port: 3260 }],
          luns: [
            { index: 0, backstore: 'disk' },
            { index: 1, backstore: 'scratch' },
          ],
          acls: [
            {
              initiatorIqn: INITIATOR,
              mappedLuns: [{ index: 0, tpgLun: 0 }, { index: 1, tpgLun: 1, writeProtect: true }],
              chap: { userid: 'lab-user', password: 'lab-secret-0001' },
              mutualChap: { userid: 'lab-target', password: 'lab-mutual-0002' },
            },
          ],
        },
      ],
    },
  ],
};

/** A pass-through that counts commands: the real transport underneath, no mock. */
function counting(transport: Transport): Transport & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    description: transport.description,
    run: (argv, options) => (calls.push(argv), transport.run(argv, options)),
    readFile: (path) => (calls.push(['readFile', path]), transport.readFile(path)),
    writeFile: (path, content) => (calls.push(['writeFile', path]), transport.writeFile(path, content)),
    close: () => transport.close(),
  };
}

function ours(live: LiveState) {
  return {
    backstores: live.storage_objects.filter((o) => o.name.startsWith('ibftlab_apptest_')).map((o) => o.name).sort(),
    targets: live.targets.filter((t) => t.wwn.startsWith('iqn.2024-01.org.ibft-lab:apptest')).map((t) => t.wwn),
  };
}

describeVm('declarative LIO in the real appliance over SSH', () => {
  let appliance: RunningAppliance | undefined;
  let transport: Transport;
  let foreignBefore: unknown;

  beforeAll(async () => {
    appliance = await startAppliance({ readyDeadlineMs: 300_000 });
    transport = await appliance.connect();
    // Someone else's target on the same machine, made by hand with targetcli.
    const made = await transport.run(['sh', '-c', [
      'targetcli /backstores/ramdisk create name=foreign size=4M',
      `targetcli /iscsi create ${FOREIGN_IQN}`,
      `targetcli /iscsi/${FOREIGN_IQN}/tpg1/luns create /backstores/ramdisk/foreign`,
    ].join(' && ')]);
    expect(made.code).toBe(0);
    const live = await readLiveState(targetcliSession(transport));
    foreignBefore = live.targets.find((t) => t.wwn === FOREIGN_IQN);
    expect(foreignBefore).toBeDefined();
  }, 420_000);

  afterAll(async () => {
    await appliance?.stop();
  });

  it('refuses the appliance when the pinned host key is wrong', async () => {
    await expect(
      connectSsh({ host: '127.0.0.1', port: appliance!.endpoint.sshPort, privateKeyPath: appliance!.endpoint.privateKeyPath, hostKeyFingerprint: `SHA256:${'B'.repeat(43)}` }),
    ).rejects.toBeInstanceOf(HostKeyRejected);
  });

  it('rejects a secret with a space and an invalid IQN before any command runs', async () => {
    const spy = counting(transport);
    const badSecret = structuredClone(desired) as any;
    badSecret.targets[0].tpgs[0].acls[0].chap.password = 'lab secret 0001';
    await expect(applyDesiredState(spy, badSecret)).rejects.toThrow(/targets\[0\]\.tpgs\[0\]\.acls\[0\]\.chap\.password/);
    const badIqn = structuredClone(desired) as any;
    badIqn.targets[0].tpgs[0].acls[0].initiatorIqn = 'iqn.2010-04.org.ipxe:Bad Name';
    await expect(applyDesiredState(spy, badIqn)).rejects.toThrow(/initiatorIqn/);
    expect(spy.calls).toEqual([]);
  });

  it("applies from empty through the appliance's LIO agent, starting no targetcli (its warm targetcli runs the plan, rtslib's dump after it verifies), and verifies", async () => {
    const report = await applyDesiredState(transport, desired);
    expect(report.commandsRun).toBeGreaterThan(5);
    expect({ starts: report.targetcliStarts, agent: report.agentRequests, unreachable: report.agentUnreachable, verifiedFrom: report.verifiedFrom }).toEqual({
      starts: 0,
      agent: 2,
      unreachable: undefined,
      verifiedFrom: 'lio-agent',
    });
    // Nothing of the run (it carried the CHAP secrets) stayed on the appliance's disks: no scratch, history or log file.
    const left = await transport.run(['sh', '-c', 'ls /tmp | grep ibft-lab-state; grep -rlF -e lab-secret-0001 -e lab-mutual-0002 /tmp /run /var /root /etc 2>/dev/null; true']);
    expect(left.stdout.trim()).toBe('');
    expect(report.planText).not.toContain('lab-secret-0001');
    const session = targetcliSession(transport);
    const live = await readLiveState(session);
    expect({ starts: session.starts, agent: session.agentRequests }).toEqual({ starts: 0, agent: 1 });
    // The agent's read is what targetcli saveconfig writes, and it saw the target made by hand after it started.
    const saved = await transport.run(['sh', '-c', 'f=$(mktemp) && targetcli saveconfig "$f" >/dev/null && cat "$f"; rm -f "$f"']);
    expect(saved.code).toBe(0);
    expect(live).toEqual(parseLiveState(saved.stdout));
    expect(live.targets.find((t) => t.wwn === FOREIGN_IQN)).toEqual(foreignBefore);
    expect(ours(live)).toEqual({ backstores: ['ibftlab_apptest_disk', 'ibftlab_apptest_scratch'], targets: ['iqn.2024-01.org.ibft-lab:apptest'] });
    const acl = live.targets.find((t) => t.wwn === 'iqn.2024-01.org.ibft-lab:apptest')!.tpgs[0].node_acls[0];
    expect(acl).toMatchObject({ node_wwn: INITIATOR, chap_userid: 'lab-user', chap_mutual_userid: 'lab-target' });
    expect([...acl.mapped_luns].sort((a, b) => a.index - b.index).map((m) => [m.index, m.tpg_lun, m.write_protect])).toEqual([[0, 0, false], [1, 1, true]]);
  });

  it('a machine without the agent (the appliance over plain SSH, as a machine of yours is reached): reads by rtslib, one piped targetcli script, verified from the saveconfig it ends with', async () => {
    const plain = await connectSsh(endpointSshOptions(appliance!.endpoint));
    try {
      const lab = { lab: 'plaintest', backstores: [{ kind: 'ramdisk', name: 'boot', sizeMiB: 4 }], targets: [{ tpgs: [{ luns: [{ index: 0, backstore: 'boot' }], acls: [{ initiatorIqn: INITIATOR, mappedLuns: [{ index: 0, tpgLun: 0 }], chap: { userid: 'plain-user', password: 'plain-secret-001' } }] }] }] };
      const report = await applyDesiredState(plain, lab);
      expect({ starts: report.targetcliStarts, agent: report.agentRequests, verifiedFrom: report.verifiedFrom }).toEqual({ starts: 1, agent: 0, verifiedFrom: 'targetcli-saveconfig' });
      expect((await transport.run(['sh', '-c', 'ls /tmp | grep ibft-lab-state || true'])).stdout.trim()).toBe('');
      // targetcli's own log (configshell writes every command line to $TARGETCLI_HOME/log.txt) holds no secret, nor any other file.
      const left = await transport.run(['sh', '-c', 'grep -rlF plain-secret-001 /tmp /run /var /root /etc 2>/dev/null; true']);
      expect(left.stdout.trim()).toBe('');
      const again = await applyDesiredState(plain, lab);
      expect({ commands: again.commandsRun, starts: again.targetcliStarts }).toEqual({ commands: 0, starts: 0 });
      // The agent and a targetcli started beside it see one LIO: the agent reads what the script made.
      expect((await readLiveState(targetcliSession(transport))).targets.map((t) => t.wwn)).toContain('iqn.2024-01.org.ibft-lab:plaintest');
      expect((await teardownLab(plain, 'plaintest')).targetcliStarts).toBe(1);
    } finally {
      await plain.close();
    }
  });

  it('re-applies with zero commands and no targetcli start', async () => {
    const report = await applyDesiredState(transport, desired);
    expect(report.commandsRun).toBe(0);
    expect({ starts: report.targetcliStarts, agent: report.agentRequests }).toEqual({ starts: 0, agent: 1 });
    expect((await targetStatus(transport, desired)).inSync).toBe(true);
  });

  it('a stock iPXE ROM under QEMU logs in with CHAP and mutual CHAP (and a wrong mutual secret is refused)', async () => {
    const rom = '/usr/lib/ipxe/qemu/pxe-rtl8139.rom';
    if (!existsSync(rom)) {
      console.log(`iPXE login check skipped: ${rom} is missing (apt-get install ipxe-qemu)`);
      return;
    }
    const port = appliance!.endpoint.iscsiPort;
    const login = async (mutualPassword: string) => {
      const tftpDir = mkdtempSync(join(tmpdir(), 'ibft-lab-lio-ipxe-'));
      writeFileSync(
        join(tftpDir, 'boot.ipxe'),
        [
          '#!ipxe',
          'dhcp',
          `set initiator-iqn ${INITIATOR}`,
          'set username lab-user',
          'set password lab-secret-0001',
          'set reverse-username lab-target',
          `set reverse-password ${mutualPassword}`,
          `sanhook iscsi:10.0.2.2::${port}:0:iqn.2024-01.org.ibft-lab:apptest || echo SANHOOK FAILED`,
          'echo == config done ==',
          '',
        ].join('\n'),
      );
      const vm = await startQemu(
        { accel: 'tcg', memoryMiB: 256, firmware: 'bios', nics: [{ model: 'rtl8139', romfile: rom, netdev: { kind: 'user', tftpDir, bootfile: 'boot.ipxe' } }] },
        { deadlineMs: 240_000 },
      );
      try {
        await vm.waitForSerial('== config done ==', { deadlineMs: 200_000 });
        return vm.serialText();
      } finally {
        await vm.stop();
        rmSync(tftpDir, { recursive: true, force: true });
      }
    };
    const good = await login('lab-mutual-0002');
    expect(good).toContain('Registered SAN device');
    const bad = await login('wrong-mutual-99');
    expect(bad).not.toContain('Registered SAN device');
    expect(bad).toContain('SANHOOK FAILED');
  });

  it('adding an ACL runs only ACL commands', async () => {
    const more = structuredClone(desired) as any;
    more.targets[0].tpgs[0].acls.push({ initiatorIqn: SECOND_INITIATOR, mappedLuns: [{ index: 0, tpgLun: 0 }], chap: { userid: 'second', password: 'second-secret-03' } });
    const report = await applyDesiredState(transport, more);
    expect(report.plan.steps.map((s) => `${s.path} ${s.command}`)).toEqual([
      '/iscsi/iqn.2024-01.org.ibft-lab:apptest/tpg1/acls create',
      `/iscsi/iqn.2024-01.org.ibft-lab:apptest/tpg1/acls/${SECOND_INITIATOR} create`,
      `/iscsi/iqn.2024-01.org.ibft-lab:apptest/tpg1/acls/${SECOND_INITIATOR} set auth`,
    ]);
    // And back: removing it is one delete.
    const back = await applyDesiredState(transport, desired);
    expect(back.plan.steps.map((s) => `${s.path} ${s.command}`)).toEqual(['/iscsi/iqn.2024-01.org.ibft-lab:apptest/tpg1/acls delete']);
  });

  it('changing the CHAP secret runs one set auth', async () => {
    const changed = structuredClone(desired) as any;
    changed.targets[0].tpgs[0].acls[0].chap.password = 'lab-secret-9999';
    const report = await applyDesiredState(transport, changed);
    expect(report.plan.steps.map((s) => `${s.path} ${s.command}`)).toEqual([`/iscsi/iqn.2024-01.org.ibft-lab:apptest/tpg1/acls/${INITIATOR} set auth`]);
    expect(report.planText).not.toContain('lab-secret-9999');
  });

  it('sets discovery CHAP when declared, persists when asked, and teardown switches discovery auth off again', async () => {
    const lab = { lab: 'disctest', discoveryAuth: { userid: 'disc-user', password: 'disc-secret-001', mutual: { userid: 'disc-target', password: 'disc-mutual-002' } } };
    const report = await applyDesiredState(transport, lab, { persist: true });
    expect(report.plan.steps.map((s) => `${s.path} ${s.command}`)).toEqual(['/iscsi set discovery_auth']);
    expect(report.planText).not.toContain('disc-secret-001');
    const iscsi = (await readLiveState(targetcliSession(transport))).fabric_modules.find((f) => f.name === 'iscsi');
    expect(iscsi).toMatchObject({ discovery_enable_auth: true, discovery_userid: 'disc-user', discovery_mutual_userid: 'disc-target' });
    const saved = await transport.readFile('/etc/rtslib-fb-target/saveconfig.json');
    expect(saved && JSON.parse(saved).fabric_modules).toEqual(expect.arrayContaining([expect.objectContaining({ discovery_userid: 'disc-user' })]));
    expect((await applyDesiredState(transport, lab)).commandsRun).toBe(0);
    await teardownLab(transport, 'disctest');
    const after = (await readLiveState(targetcliSession(transport))).fabric_modules.find((f) => f.name === 'iscsi');
    expect(after?.discovery_enable_auth ?? false).toBe(false);
  });

  it('setup-target, target-status and teardown-target executors drive the appliance through its endpoint file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-lio-exec-'));
    try {
      const endpointFile = join(dir, 'endpoint.json');
      const initiatorFile = join(dir, 'initiator.json');
      writeEndpoint(endpointFile, appliance!.endpoint);
      const context = { root: dir, projectName: 'exec-lab' } as ExecutorContext;
      const config = {
        lab: 'exectest',
        backstores: [{ kind: 'ramdisk', name: 'boot', sizeMiB: 4 }],
        targets: [{ tpgs: [{ attributes: { authentication: true }, luns: [{ index: 0, backstore: 'boot' }], acls: [{ initiatorIqn: INITIATOR, mappedLuns: [{ index: 0, tpgLun: 0 }], chap: { userid: 'exec-user', password: 'exec-secret-0001' } }] }] }],
      };
      const common = { transport: 'appliance', endpointFile, config, waitTimeoutSeconds: 60 };
      expect(await setupTargetExecutor({ ...common, initiatorFile }, context)).toEqual({ success: true });
      const info = JSON.parse(readFileSync(initiatorFile, 'utf8'));
      expect(info).toEqual({
        portal: { ip: '10.0.2.4', port: 3260 },
        relay: { guestIp: '10.0.2.4', guestPort: 3260, hostPort: appliance!.endpoint.iscsiPort },
        targetIqn: 'iqn.2024-01.org.ibft-lab:exectest',
        lun: 0,
        initiatorIqn: INITIATOR,
        chapUserid: 'exec-user',
      });
      expect(readFileSync(initiatorFile, 'utf8')).not.toContain('exec-secret-0001');
      expect(await targetStatusExecutor(common, context)).toEqual({ success: true });
      expect(await teardownTargetExecutor(common, context)).toEqual({ success: true });
      const live = await readLiveState(targetcliSession(transport));
      expect(live.targets.map((t) => t.wwn)).not.toContain('iqn.2024-01.org.ibft-lab:exectest');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('a fileio backstore started from a local image (the upload an SSH target needs)', () => {
    const IMAGE_LAB = 'imgtest';
    const BACKING = '/var/tmp/imgtest-os.img';
    const SOURCE = `${BACKING}.source`;
    const CHAP_SECRET = 'img-secret-0001';
    let dir: string;
    let imagePath: string;

    function imageState(sha256: string): DesiredStateInput {
      return {
        lab: IMAGE_LAB,
        backstores: [{ kind: 'fileio', name: 'os', path: BACKING, image: { path: imagePath, sha256 } }],
        targets: [{ tpgs: [{ attributes: { authentication: true }, luns: [{ index: 0, backstore: 'os' }], acls: [{ initiatorIqn: INITIATOR, mappedLuns: [{ index: 0, tpgLun: 0 }], chap: { userid: 'img-user', password: CHAP_SECRET } }] }] }],
      };
    }
    const remoteSha = async (path: string) => (await transport.run(['sha256sum', path])).stdout.split(/\s+/)[0];
    const remoteList = async () => (await transport.run(['sh', '-c', 'ls -a /var/tmp | grep imgtest || true'])).stdout.split('\n').filter(Boolean).sort();
    /** Commands that streamed bytes to the machine (the upload's `cat > tmp`). */
    const uploads = (calls: string[][]) => calls.filter((argv) => argv.join(' ').includes('cat > "$1"'));

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'ibft-lab-image-'));
      imagePath = join(dir, 'os.img');
      // 6 MiB of varied bytes (a cut transfer cannot hash the same) and a sparse tail.
      const bytes = Buffer.alloc(6 * 1024 * 1024);
      for (let i = 0; i < bytes.length; i += 4) bytes.writeUInt32LE((i * 2654435761) >>> 0, i);
      writeFileSync(imagePath, bytes);
      execFileSync('truncate', ['-s', '8M', imagePath]);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('an upload cut off half-way leaves nothing under the final name, and no record', async () => {
      const sha256 = await sha256OfFile(imagePath);
      const cut = await appliance!.connect();
      let closed = false;
      await expect(
        ensureRemoteImage(cut, {
          localPath: imagePath,
          sha256,
          remoteDir: '/var/tmp',
          name: 'imgtest-os.img.source',
          onProgress: (sent) => {
            if (sent > 2 * 1024 * 1024 && !closed) {
              closed = true;
              void cut.close();
            }
          },
        }),
      ).rejects.toThrow(/connection was lost|closed|Not connected/i);
      expect(closed).toBe(true);
      const left = await remoteList();
      expect(left).not.toContain('imgtest-os.img.source');
      expect(left).not.toContain('imgtest-os.img.source.sha256');
      // At most the temporary file, and never a whole one.
      expect(left.every((f) => f.startsWith('.imgtest-os.img.source.partial-'))).toBe(true);
    });

    it('the first apply sends it once, verifies it on the machine, and serves a copy of it', async () => {
      const sha256 = await sha256OfFile(imagePath);
      const logs: string[] = [];
      const t = counting(transport);
      const report = await applyDesiredState(t, imageState(sha256), { log: (l) => logs.push(l) });
      expect(report.commandsRun).toBeGreaterThan(0);
      expect(uploads(t.calls)).toHaveLength(1);
      expect(logs.join('\n')).toMatch(/image imgtest-os\.img\.source: sending 8\.0 MiB/);
      // The cut-off upload's leftover is gone; the image, its record and the served copy are there.
      expect(await remoteList()).toEqual(['imgtest-os.img', 'imgtest-os.img.source', 'imgtest-os.img.source.sha256']);
      expect(await remoteSha(SOURCE)).toBe(sha256);
      expect(await remoteSha(BACKING)).toBe(sha256);
      const live = await readLiveState(targetcliSession(transport));
      expect(live.storage_objects.find((o) => o.name === 'ibftlab_imgtest_os')).toMatchObject({ plugin: 'fileio', dev: BACKING, size: 8 * 1024 * 1024 });
      expect(logs.join('\n')).not.toContain(CHAP_SECRET);
    });

    it('setup-target reuses it while it is unchanged: nothing sent, zero commands, even after the served copy was written to', async () => {
      // An initiator writing to its disk changes the copy, never the image it came from.
      expect((await transport.run(['sh', '-c', `printf written | dd of=${BACKING} bs=1 seek=100 conv=notrunc 2>/dev/null`])).code).toBe(0);
      const sha256 = await sha256OfFile(imagePath);
      const out = mkdtempSync(join(tmpdir(), 'ibft-lab-img-exec-'));
      const printed: string[] = [];
      const spy = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.join(' ')));
      try {
        const endpointFile = join(out, 'endpoint.json');
        writeEndpoint(endpointFile, appliance!.endpoint);
        const ok = await setupTargetExecutor({ transport: 'appliance', endpointFile, config: imageState(sha256), waitTimeoutSeconds: 60, initiatorFile: join(out, 'initiator.json') }, { root: out, projectName: 'img-lab' } as ExecutorContext);
        expect(ok).toEqual({ success: true });
      } finally {
        spy.mockRestore();
        rmSync(out, { recursive: true, force: true });
      }
      expect(printed.join('\n')).toMatch(/image imgtest-os\.img\.source: already on .*not sent again/);
      expect(printed.join('\n')).toMatch(/setup-target: 0 command\(s\)/);
      expect(printed.join('\n')).not.toContain(CHAP_SECRET);
      expect(await remoteSha(SOURCE)).toBe(sha256);
    });

    it('a changed local image is sent again and the backstore is made anew from it; a declared sha256 the file does not have is refused before anything is sent', async () => {
      const before = await sha256OfFile(imagePath);
      const fd = openSync(imagePath, 'r+');
      writeSync(fd, Buffer.from('changed'), 0, 7, 4096);
      closeSync(fd);
      const after = await sha256OfFile(imagePath);
      expect(after).not.toBe(before);

      const stale = counting(transport);
      await expect(applyDesiredState(stale, imageState(before))).rejects.toThrow(ImageChanged);
      expect(uploads(stale.calls)).toHaveLength(0);
      expect(stale.calls.some((argv) => argv[0] === 'targetcli' || argv.join(' ').includes('targetcli'))).toBe(false);

      const logs: string[] = [];
      const t = counting(transport);
      const report = await applyDesiredState(t, imageState(after), { log: (l) => logs.push(l) });
      expect(uploads(t.calls)).toHaveLength(1);
      expect(report.planText).toMatch(/backstore os differs from its declaration/);
      expect(await remoteSha(SOURCE)).toBe(after);
      expect(await remoteSha(BACKING)).toBe(after);
      const again = await applyDesiredState(transport, imageState(after));
      expect(again.commandsRun).toBe(0);
    });

    it('teardown removes the served copy, the image and its record', async () => {
      const report = await teardownLab(transport, IMAGE_LAB);
      expect(report.removedFiles.sort()).toEqual([BACKING, SOURCE, `${SOURCE}.sha256`].sort());
      expect(await remoteList()).toEqual([]);
    });
  });

  it('teardown removes exactly what the lab owns, leaves the foreign target, and is idempotent', async () => {
    const report = await teardownLab(transport, 'apptest');
    expect(report.commandsRun).toBeGreaterThan(0);
    expect(report.removedFiles).toEqual(['/var/tmp/apptest-disk.img']);
    const live = await readLiveState(targetcliSession(transport));
    expect(ours(live)).toEqual({ backstores: [], targets: [] });
    expect(live.targets.find((t) => t.wwn === FOREIGN_IQN)).toEqual(foreignBefore);
    expect(live.storage_objects.map((o) => o.name)).toContain('foreign');
    expect((await transport.run(['test', '-e', '/var/tmp/apptest-disk.img'])).code).not.toBe(0);
    const again = await teardownLab(transport, 'apptest');
    expect(again.commandsRun).toBe(0);
  });
});
