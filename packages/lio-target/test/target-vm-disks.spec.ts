// target-vm's image disks and fixed portal port: bad input fails before any
// QEMU starts, naming the field the user wrote (lab.json's, when the lab plugin
// passes it), and initiator.json then says how the guest reaches the portal.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import targetVm from '../src/executors/target-vm/executor';
import { endpointRestoringPath, initiatorInfo, parseDesiredState, waitForEndpoint, writeEndpointRestoring, type ApplianceEndpoint } from '../src';

const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-target-vm-disks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const context = { root: dir, projectName: 'disks', cwd: dir, isVerbose: false } as unknown as ExecutorContext;

async function run(options: Record<string, unknown>): Promise<{ success: boolean; lines: string[] }> {
  const lines: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a) => void lines.push(a.join(' ')));
  const error = jest.spyOn(console, 'error').mockImplementation((...a) => void lines.push(a.join(' ')));
  try {
    const result = await targetVm({ endpointFile: join(dir, 'endpoint.json'), ...options }, context);
    return { ...result, lines };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const qemu = existsSync('/usr/bin/qemu-system-x86_64');
(qemu ? it : it.skip)('a busy iscsiHostPort fails before QEMU starts, naming the lab field and the fix', async () => {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const result = await run({ iscsiHostPort: port, iscsiHostPortField: 'target.hostPort' });
    expect(result.success).toBe(false);
    expect(result.lines.join('\n')).toContain(`target-vm: target.hostPort: port ${port} on 127.0.0.1 is in use by another process; set target.hostPort to a free port`);
    expect(existsSync(join(dir, 'endpoint.json'))).toBe(false);
    // Nx does not stop setup-target when a continuous target-vm fails: it reads why at once, not after its deadline.
    const started = Date.now();
    await expect(waitForEndpoint(join(dir, 'endpoint.json'), Date.now() + 60_000, () => undefined)).rejects.toThrow(
      `the LIO appliance did not start: target-vm: target.hostPort: port ${port} on 127.0.0.1 is in use`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  } finally {
    server.close();
  }
});

it("a live target-vm's restore announcement is seen once while the endpoint is awaited; a dead one's is stale", async () => {
  const file = join(dir, 'restoring', 'endpoint.json');
  let seen = 0;
  writeEndpointRestoring(file);
  await expect(waitForEndpoint(file, Date.now() + 600, () => undefined, undefined, () => seen++)).rejects.toThrow(/no running LIO appliance/);
  expect(seen).toBe(1);
  // A pid that is not running (the target-vm was killed during its restore).
  writeFileSync(endpointRestoringPath(file), JSON.stringify({ pid: 2 ** 22 + 1 }));
  seen = 0;
  await expect(waitForEndpoint(file, Date.now() + 600, () => undefined, undefined, () => seen++)).rejects.toThrow(/no running LIO appliance/);
  expect(seen).toBe(0);
});

it.each([
  [{ path: 'missing.img' }, /luns\[0\]\.image: missing\.img cannot be read \(ENOENT\)/],
  [{ path: 'disk.vmdk' }, /luns\[0\]\.image: .*disk\.vmdk is a VMDK image, not raw or qcow2; convert it/],
  [{ os: 'no-such-os' }, /luns\[0\]\.image: unknown OS image recipe "no-such-os"; use one of debian-iscsi-root/],
])('disk image %j is refused before anything boots, naming its field', async (image, pattern) => {
  writeFileSync(join(dir, 'disk.vmdk'), Buffer.concat([Buffer.from('KDMV'), Buffer.alloc(1020)]));
  const result = await run({ disks: [{ image, field: 'luns[0].image' }] });
  expect(result.success).toBe(false);
  expect(result.lines.join('\n')).toMatch(pattern);
});

describe("initiator.json for an appliance whose portal is published on a fixed port", () => {
  const desired = parseDesiredState({ lab: 'x', backstores: [{ kind: 'block', name: 'os', device: '/dev/vda' }], targets: [{ iqn: 'iqn.2024-01.org.ibft-lab:x', tpgs: [{ luns: [{ index: 0, backstore: 'os' }] }] }] });
  const endpoint = { host: '127.0.0.1', sshPort: 1, iscsiPort: 26998, user: 'root', privateKeyPath: '/k', hostKeyFingerprint: 'SHA256:x', guestPortal: { ip: '10.0.2.2', port: 26998 }, pid: 1, startedAt: '' } satisfies ApplianceEndpoint;

  it('names 10.0.2.2:<port> and no relay; without an initiator portal, the relay as before', () => {
    expect(initiatorInfo(desired, endpoint, undefined, { ip: '10.0.2.2', port: 26998 })).toMatchObject({ portal: { ip: '10.0.2.2', port: 26998 } });
    expect(initiatorInfo(desired, endpoint, undefined, { ip: '10.0.2.2', port: 26998 }).relay).toBeUndefined();
    expect(initiatorInfo(desired, endpoint)).toMatchObject({ portal: { ip: '10.0.2.4', port: 3260 }, relay: { guestIp: '10.0.2.4', guestPort: 3260, hostPort: 26998 } });
  });

  it('refuses a portal the appliance does not listen on', () => {
    expect(() => initiatorInfo(desired, endpoint, undefined, { ip: '10.0.2.2', port: 27000 })).toThrow(/initiatorPortal: 10\.0\.2\.2:27000 is not where the appliance listens \(10\.0\.2\.2:26998\)/);
  });
});
