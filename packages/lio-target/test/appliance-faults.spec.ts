// Faults against real LIO in the appliance VM, over real SSH: a connection
// that drops mid-apply, two runs of one lab at once, a target machine whose
// disk is full, and the appliance dying under a run. Each must end with a
// clear error and the machine in the old state or the new one, never half.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootLab, liveVmCount } from '@ibft-lab/qemu-runner';
import { renderScript } from '@ibft-lab/script-gen';
import {
  applyDesiredState,
  connectSsh,
  LIO_AGENT_PORT,
  readLiveState,
  startAppliance,
  targetcliSession,
  targetStatus,
  teardownLab,
  type DesiredStateInput,
  type RunningAppliance,
  type Transport,
  withLioAgent,
} from '../src';

jest.setTimeout(600_000);

const qemuMissing = !existsSync('/usr/bin/qemu-system-x86_64') ? 'qemu-system-x86_64 is missing (tools/setup installs it)' : undefined;
if (qemuMissing) console.log(`appliance fault tests skipped: ${qemuMissing}`);
const describeVm = qemuMissing ? describe.skip : describe;

const INITIATOR = 'iqn.2010-04.org.ipxe:fault-initiator';

type BackstoreInput = NonNullable<DesiredStateInput['backstores']>[number];

function labState(lab: string, backstore: BackstoreInput = { kind: 'fileio', name: 'disk', path: `/var/tmp/${lab}-disk.img`, sizeMiB: 8 }): DesiredStateInput {
  return {
    lab,
    backstores: [backstore, { kind: 'ramdisk', name: 'scratch', sizeMiB: 4 }],
    targets: [
      {
        tpgs: [
          {
            attributes: { authentication: true },
            luns: [
              { index: 0, backstore: 'disk' },
              { index: 1, backstore: 'scratch' },
            ],
            acls: [{ initiatorIqn: INITIATOR, mappedLuns: [{ index: 0, tpgLun: 0 }, { index: 1, tpgLun: 1 }], chap: { userid: 'fault-user', password: 'fault-secret-01' } }],
          },
        ],
      },
    ],
  };
}

/** A loopback TCP relay to the appliance's SSH port that the test can cut. */
async function cuttableRelay(targetPort: number): Promise<{ port: number; cut(): void; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.push(client, upstream);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    cut: () => sockets.forEach((s) => s.destroy()),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function waitForNoTargetcli(transport: Transport): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const ps = await transport.run(['sh', '-c', 'ps | grep -c "[t]argetcli" || true']);
    if (ps.stdout.trim() === '0') return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('targetcli still running on the appliance after 60 s');
}

describeVm('faults on the LIO appliance', () => {
  let appliance: RunningAppliance | undefined;
  let transport: Transport;

  beforeAll(async () => {
    appliance = await startAppliance({ log: () => undefined, readyDeadlineMs: 300_000 });
    transport = await appliance.connect();
  });

  afterAll(async () => {
    await appliance?.stop();
    expect(liveVmCount()).toBe(0);
  });

  const sshVia = (port: number) =>
    connectSsh({
      host: '127.0.0.1',
      port,
      user: appliance!.endpoint.user,
      privateKeyPath: appliance!.endpoint.privateKeyPath,
      hostKeyFingerprint: appliance!.endpoint.hostKeyFingerprint,
    });

  // Through targetcli started over SSH (a machine of yours), and through the appliance's LIO agent, whose request runs whole once it arrived.
  it.each([
    ['targetcli over SSH', 0],
    ['targetcli over SSH', 900],
    ['targetcli over SSH', 2500],
    ['the LIO agent', 0],
    ['the LIO agent', 150],
    ['the LIO agent', 600],
  ] as const)(
    'an SSH connection cut (%s) %i ms after the plan leaves the old state or the new one, never half',
    async (via, delayMs) => {
      const agent = via === 'the LIO agent';
      const lab = `drop${agent ? 'agent' : ''}${delayMs}`;
      const before = await targetStatus(transport, labState(lab));
      expect(before.inSync).toBe(false);
      const relay = await cuttableRelay(appliance!.endpoint.sshPort);
      const ssh = await sshVia(relay.port);
      const dropping = agent ? withLioAgent(ssh, LIO_AGENT_PORT) : ssh;
      let outcome: string;
      try {
        let planned = false;
        await applyDesiredState(dropping, labState(lab), {
          // The first line apply logs is its plan: from then on it is changing the machine.
          log: () => void (planned || ((planned = true), setTimeout(() => relay.cut(), delayMs))),
        });
        outcome = 'completed before the cut';
      } catch (error) {
        outcome = (error as Error).message;
        expect(outcome).toMatch(
          /^ssh root@127\.0\.0\.1:\d+: (the SSH connection was lost \(.*\) during `\w+`; run again|the connection to the LIO agent closed before it answered .*; run again)/,
        );
        expect(outcome).not.toContain('fault-secret-01');
      } finally {
        await dropping.close().catch(() => undefined);
        await relay.close();
      }
      await waitForNoTargetcli(transport);
      const after = await targetStatus(transport, labState(lab));
      // Old: the very plan we started from. New: nothing left to do.
      const state = after.inSync ? 'new' : after.planText === before.planText ? 'old' : 'half';
      expect({ via, delayMs, outcome: outcome.split('\n')[0], state }).toEqual({ via, delayMs, outcome: expect.any(String), state: expect.stringMatching(/^(old|new)$/) });
      // The lab's lock from the dropped run does not block the next run of this process.
      await teardownLab(transport, lab);
      expect((await targetStatus(transport, { lab })).inSync).toBe(true);
    },
  );

  it('two runs of one lab at once: one applies, the other is refused naming the lock, and the state is whole', async () => {
    const second = await appliance!.connect();
    const results = await Promise.allSettled([applyDesiredState(transport, labState('race')), applyDesiredState(second, labState('race'))]);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0].reason.message).toMatch(/lab race is being changed on .* by another run \(host=.* pid=\d+ since=.*\); wait for it to finish, or if that run died, remove \/var\/lib\/ibft-lab\/lio\/race.lock there/);
    expect((await targetStatus(transport, labState('race'))).inSync).toBe(true);
    // Another lab claiming the same target object is refused before any change.
    const raceIqn = 'iqn.2024-01.org.ibft-lab:race';
    const thief = { ...labState('thief'), targets: [{ ...(labState('thief').targets as object[])[0], iqn: raceIqn }] } as DesiredStateInput;
    await expect(applyDesiredState(second, thief)).rejects.toThrow(/target iqn.2024-01.org.ibft-lab:race already exists on the machine and lab thief did not create it/);
    expect((await targetStatus(transport, labState('race'))).inSync).toBe(true);
    await teardownLab(transport, 'race');
    await second.close();
  });

  it('a full disk on the target machine: the backstore error is named and the first apply is undone', async () => {
    const mount = await transport.run(['sh', '-c', 'mkdir -p /mnt/tiny && (mountpoint -q /mnt/tiny || mount -t tmpfs -o size=1m tmpfs /mnt/tiny)']);
    expect(mount.code).toBe(0);
    const full = labState('full', { kind: 'fileio', name: 'disk', path: '/mnt/tiny/full-disk.img', sizeMiB: 16, sparse: false });
    const error = await applyDesiredState(transport, full).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/did not take[\s\S]*backstore disk[\s\S]*Nothing was left behind/);
    expect((error as Error).message).not.toContain('fault-secret-01');
    const live = await readLiveState(targetcliSession(transport));
    expect(live.targets.map((t) => t.wwn)).not.toContain('iqn.2024-01.org.ibft-lab:full');
    expect(live.storage_objects.map((o) => o.name).filter((n) => n.startsWith('ibftlab_full_'))).toEqual([]);
    expect((await transport.run(['test', '-e', '/mnt/tiny/full-disk.img'])).code).not.toBe(0);
    expect((await transport.run(['test', '-e', '/var/lib/ibft-lab/lio/full.json'])).code).not.toBe(0);
  });

  it("awkward tokens reach the appliance's shell (dropbear, busybox sh) as single words, and awkward valid names reach LIO unchanged", async () => {
    const tokens = ['a b', "'q'", '"dq"', '$(touch /tmp/ibft-lab-pwned)', '`touch /tmp/ibft-lab-pwned`', 'x;touch /tmp/ibft-lab-pwned', 'new\nline', '{a,b}', '*', '~', '-n', '\\', ''];
    const echoed = await transport.run(['sh', '-c', 'for a; do printf "[%s]" "$a"; done', 'sh', ...tokens]);
    expect(echoed.stdout).toBe(tokens.map((t) => `[${t}]`).join(''));
    expect((await transport.run(['test', '-e', '/tmp/ibft-lab-pwned'])).code).not.toBe(0);

    const chap = { userid: '~root:user@x+y', password: '~+secret-._:@1' };
    const mutualChap = { userid: '-n', password: '-rf+mutual.0002' };
    expect((await transport.run(['mkdir', '-p', '/var/tmp/-rf'])).code).toBe(0);
    const awkward: DesiredStateInput = {
      lab: 'awkward',
      backstores: [{ kind: 'fileio', name: 'disk', path: '/var/tmp/-rf/disk+1_a.-b.img', sizeMiB: 4 }],
      targets: [{ tpgs: [{ attributes: { authentication: true }, luns: [{ index: 0, backstore: 'disk' }], acls: [{ initiatorIqn: INITIATOR, mappedLuns: [{ index: 0, tpgLun: 0 }], chap, mutualChap }] }] }],
    };
    await applyDesiredState(transport, awkward);
    const live = await readLiveState(targetcliSession(transport));
    const acl = live.targets.find((t) => t.wwn === 'iqn.2024-01.org.ibft-lab:awkward')?.tpgs[0].node_acls[0];
    expect(acl).toMatchObject({ chap_userid: chap.userid, chap_password: chap.password, chap_mutual_userid: mutualChap.userid, chap_mutual_password: mutualChap.password });
    expect(live.storage_objects.find((o) => o.name === 'ibftlab_awkward_disk')).toMatchObject({ dev: '/var/tmp/-rf/disk+1_a.-b.img' });
    expect((await targetStatus(transport, awkward)).inSync).toBe(true);
    await teardownLab(transport, 'awkward');
    expect((await transport.run(['test', '-e', '/var/tmp/-rf/disk+1_a.-b.img'])).code).not.toBe(0);
  });

  it('the appliance dies during an apply and then under an initiator boot: clear errors, no QEMU left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-fault-'));
    try {
      let planned = false;
      const applying = applyDesiredState(await appliance!.connect(), labState('dies'), {
        log: () => void (planned || ((planned = true), process.kill(appliance!.vm.pid, 'SIGKILL'))),
      });
      const error = await applying.catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/^ssh root@127\.0\.0\.1:\d+: the SSH connection was lost/);
      await appliance!.vm.exited;
      await appliance!.stop();

      // An initiator whose target went away fails fast with iPXE's reason, not at the deadline.
      const script = join(dir, 'boot.ipxe');
      writeFileSync(
        script,
        renderScript({ initiatorIqn: INITIATOR, sanhooks: [{ targets: [{ server: '10.0.2.4', lun: 0, targetIqn: 'iqn.2024-01.org.ibft-lab:dies' }], keepGoing: false }] }),
      );
      const report = await bootLab({
        scriptPath: script,
        probe: false,
        deadlineSeconds: 120,
        guestForwards: [{ guestIp: '10.0.2.4', guestPort: 3260, hostPort: appliance!.endpoint.iscsiPort }],
      });
      expect(report.verdict).toBe('fail');
      expect(report.failure).toMatch(/Could not open SAN device|Connection/);
      expect(report.ipxeErrorUrl).toMatch(/^https?:\/\/ipxe\.org\//);
      expect(report.timings.totalMs).toBeLessThan(120_000);
      expect(liveVmCount()).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
