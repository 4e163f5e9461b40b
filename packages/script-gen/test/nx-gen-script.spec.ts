// Runs the real Nx CLI on the default lab (targets inferred from labs/lab/lab.json): the executor is wired up, writes
// dist/labs/lab/boot.ipxe, and a second run is served from Nx's cache.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '../../..');
const nx = (...args: string[]) =>
  spawnSync(process.execPath, [require.resolve('nx/bin/nx', { paths: [root] }), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true' },
  });

describe('npx nx run lab:gen-script', () => {
  jest.setTimeout(120_000);

  it('writes the default lab script and is cacheable', () => {
    const first = nx('run', 'lab:gen-script', '--skip-nx-cache');
    expect({ status: first.status, out: first.stdout + first.stderr }).toEqual({ status: 0, out: expect.any(String) });
    expect(readFileSync(join(root, 'dist/labs/lab/boot.ipxe'), 'utf8')).toBe(
      [
        '#!ipxe',
        'isset ${net0/ip} || dhcp',
        'set initiator-iqn iqn.2010-04.org.ipxe:ibft-lab',
        // The lab's appliance portal, relayed into the guest at a fixed address (labs/lab/lab.json).
        'sanhook iscsi:10.0.2.4:::0:iqn.2024-01.org.ibft-lab:lab ||',
        'show initiator-iqn',
        'route',
        'echo == config done ==',
        // boot-vm serves the Linux probe boot there (a built ROM runs this script, not one served by TFTP).
        'chain tftp://10.0.2.2/ibft-lab-next.ipxe ||',
        '',
      ].join('\n'),
    );
    // --skip-nx-cache also skips storing the result: a plain run stores it (or finds it stored), the next one hits.
    expect(nx('run', 'lab:gen-script').status).toBe(0);
    const cached = nx('run', 'lab:gen-script');
    expect(cached.status).toBe(0);
    expect(cached.stdout).toMatch(/local cache|existing outputs match the cache/);
  });
});
