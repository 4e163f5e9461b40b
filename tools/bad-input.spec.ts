// Malformed input is rejected through EVERY entry point, naming the field,
// never echoing a secret, and before anything runs or is written.
//
// Entry points: the lab spec (parseLabSpec, readLabSpec, the createNodes
// plugin), the executors (gen-script, setup-target, teardown-target,
// target-status, boot-vm, build-rom), the generators (lab, script, target,
// rom) and the CLIs (ipxe-lint, ibft).
//
// "Nothing ran" is checked three ways for the executors: PATH points at a
// folder of shims (targetcli, qemu-system-x86_64, make, git, ...) that would
// write a marker file; a loopback TCP server stands in for the SSH target and
// counts connections; and lio-target's two transport factories are wrapped
// (a mock at a boundary that has its own real tests: packages/lio-target/test/
// transport.spec.ts and shell-quoting.spec.ts) to count every command. A
// control case per entry point proves each detector sees a valid run.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addProjectConfiguration, type CreateNodesContext, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { LabSpecError, parseLabSpec, readLabSpec } from '@ibft-lab/lab';
import { createNodes } from '../packages/lab/src/plugins/plugin';
import genScript from '../packages/script-gen/src/executors/gen-script/executor';
import setupTarget from '../packages/lio-target/src/executors/setup-target/executor';
import teardownTarget from '../packages/lio-target/src/executors/teardown-target/executor';
import targetStatus from '../packages/lio-target/src/executors/target-status/executor';
import bootVm from '../packages/qemu-runner/src/executors/boot-vm/executor';
import buildRom from '../packages/ipxe-builder/src/executors/build-rom/executor';
import labGenerator from '../packages/lab/src/generators/lab/generator';
import scriptGenerator from '../packages/script-gen/src/generators/script/generator';
import targetGenerator from '../packages/lio-target/src/generators/target/generator';
import romGenerator from '../packages/ipxe-builder/src/generators/rom/generator';
import { resolveGitSource } from '../packages/ipxe-builder/src/lib/source';

jest.setTimeout(30_000);

// Counts of transport use, bumped by the wrapped factories below (jest.mock
// factories may only reach variables named mock*; these are read lazily).
const mockTransportUse = { localRuns: 0, sshConnects: 0 };

jest.mock('../packages/lio-target/src/lib/transport/local-transport', () => {
  const actual = jest.requireActual('../packages/lio-target/src/lib/transport/local-transport');
  return {
    ...actual,
    localTransport: () => {
      const real = actual.localTransport();
      const count = <T>(f: () => T): T => {
        mockTransportUse.localRuns += 1;
        return f();
      };
      return {
        ...real,
        run: (...args: unknown[]) => count(() => real.run(...args)),
        readFile: (path: string) => count(() => real.readFile(path)),
        writeFile: (path: string, content: string) => count(() => real.writeFile(path, content)),
      };
    },
  };
});

jest.mock('../packages/lio-target/src/lib/transport/ssh-transport', () => {
  const actual = jest.requireActual('../packages/lio-target/src/lib/transport/ssh-transport');
  return {
    ...actual,
    connectSsh: (options: unknown) => {
      mockTransportUse.sshConnects += 1;
      return actual.connectSsh(options);
    },
  };
});

// ---------------------------------------------------------------- the values

type Case = readonly [label: string, value: unknown];

const IQNS: Case[] = [
  ['uppercase', 'iqn.2010-04.org.ipxe:Client'],
  ['a space', 'iqn.2010-04.org.ipxe:my client'],
  ['$(reboot)', 'iqn.2010-04.org.ipxe:$(reboot)'],
  ['backticks', 'iqn.2010-04.org.ipxe:`reboot`'],
  ['braces', 'iqn.2010-04.org.ipxe:{client}'],
  ['a single quote', "iqn.2010-04.org.ipxe:o'client"],
  ['a double quote', 'iqn.2010-04.org.ipxe:"client"'],
  ['a newline', 'iqn.2010-04.org.ipxe:client\nreboot'],
  ['300 characters', `iqn.2010-04.org.ipxe:${'a'.repeat(279)}`],
  ['empty', ''],
];

const IPV4S: Case[] = ['10.0.2.300', '1.2.3', '10.0.2.2; rm -rf /'].map((v) => [JSON.stringify(v), v] as const);

const LUNS: Case[] = [-1, 70000, '1; reboot', '0-zz'].map((v) => [JSON.stringify(v), v] as const);

const CHAP_USERS: Case[] = [
  ['empty', ''],
  ['256 characters', 'u'.repeat(256)],
  ['a space', 'chap user'],
  ["a '", "chap'user"],
  ['a "', 'chap"user'],
  ['$()', 'chap$(reboot)'],
  ['a backtick', 'chap`reboot`'],
  ['a {', 'chap{user'],
  ['a }', 'chap}user'],
  ['a newline', 'chap\nuser'],
  ['300 characters', 'u'.repeat(300)],
];

/** Every secret starts with this, so a message holding any part of one is caught. */
const SECRET_MARK = 'Wq9';

/** Secrets of 12-16 characters apart from the length cases, so only the character rule can fail. */
function badSecrets(maxLength: number): Case[] {
  return [
    ['too short (8)', `${SECRET_MARK}short`],
    [`too long (${maxLength + 1})`, `${SECRET_MARK}${'L'.repeat(maxLength - 2)}`],
    ['a space', `${SECRET_MARK}secret with`],
    ["a '", `${SECRET_MARK}secret'quot`],
    ['a "', `${SECRET_MARK}secret"quot`],
    ['$()', `${SECRET_MARK}sec$(reboot)`],
    ['a backtick', `${SECRET_MARK}sec\`reboot\``],
    ['a {', `${SECRET_MARK}secret{brac`],
    ['a }', `${SECRET_MARK}secret}brac`],
    ['a newline', `${SECRET_MARK}secret\nline`],
    ['300 characters', `${SECRET_MARK}${'x'.repeat(297)}`],
  ];
}

/** Host names/addresses that are neither: the IPv4 cases that are not even names. */
const BAD_HOSTS: Case[] = ['10.0.2.2; rm -rf /', '$(reboot)', 'host name', '-oProxyCommand=reboot'].map((v) => [JSON.stringify(v), v] as const);

type Row = [field: string, label: string, value: unknown, secret: boolean];

function rows(fields: string[], cases: Case[], secret = false): Row[] {
  return fields.flatMap((field) => cases.map(([label, value]): Row => [field, label, value, secret]));
}

/** A deep copy of `base` with the dotted `path` (numbers index arrays) set to `value`. */
function withValue<T>(base: T, path: string, value: unknown): T {
  const copy = structuredClone(base) as Record<string, unknown>;
  const keys = path.split('.');
  let node = copy as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys[keys.length - 1]] = value;
  return copy as T;
}

/** lio-target names array items the JavaScript way: targets[0].tpgs[0]. */
const bracketed = (path: string) => path.replace(/\.(\d+)/g, '[$1]');

/** The secret value (and any fragment of ours) must not appear. */
function expectNoSecret(text: string, value: unknown, secret: boolean): void {
  if (!secret) return;
  expect(text).not.toContain(String(value));
  expect(text).not.toContain(SECRET_MARK);
}

// --------------------------------------------------------------- the harness

/** Console output of an executor (they report with console.error and return { success: false }). */
function captureConsole(): { text: () => string } {
  const lines: string[] = [];
  const keep = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
  for (const method of ['error', 'log', 'warn', 'info'] as const) jest.spyOn(console, method).mockImplementation(keep);
  return { text: () => lines.join('\n') };
}

/** A folder of commands that record their use, put first (and alone, with the shell's own folder) on PATH. */
interface Shims {
  dir: string;
  marker: string;
  ran: () => string;
  reset: () => void;
  restore: () => void;
}

const SHIMMED = ['targetcli', 'qemu-system-x86_64', 'setpriv', 'make', 'git', 'ssh', 'sudo', 'apt-get', 'tar', 'sh', 'cat', 'test', 'rm', 'env'];

function installShims(): Shims {
  const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-bad-input-path-'));
  const marker = join(dir, 'RAN');
  for (const name of SHIMMED) {
    const file = join(dir, name);
    writeFileSync(file, `#!/bin/sh\nprintf '%s\\n' "${name} $*" >> '${marker}'\nexit 1\n`);
    chmodSync(file, 0o755);
  }
  const saved = { PATH: process.env.PATH, IPXE_SRC: process.env.IPXE_SRC, IBFT_LAB_CACHE: process.env.IBFT_LAB_CACHE };
  process.env.PATH = dir;
  delete process.env.IPXE_SRC;
  process.env.IBFT_LAB_CACHE = join(dir, 'cache');
  return {
    dir,
    marker,
    ran: () => (existsSync(marker) ? readFileSync(marker, 'utf8') : ''),
    reset: () => rmSync(marker, { force: true }),
    restore: () => {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP port on loopback that counts connections (and drops them): the SSH target nobody should reach. */
async function countingServer(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('no port');
  return {
    port: address.port,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The files under `dir`, relative, sorted. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(dir, join(prefix, e.name)) : [join(prefix, e.name)]))
    .sort();
}

/** A tree's pending changes (path + content), to prove a failed generator wrote nothing. */
function treeState(tree: Tree): string[] {
  return tree.listChanges().map((c) => `${c.type} ${c.path} ${c.content?.toString('base64') ?? ''}`);
}

afterEach(() => jest.restoreAllMocks());

// =============================================================== lab spec file

const VALID_LAB = {
  initiator: { iqn: 'iqn.2010-04.org.ipxe:client' },
  network: { mode: 'static', ip: '10.0.2.15', prefix: 24, gateway: '10.0.2.2', dns: ['10.0.2.3'] },
  firmware: { source: { git: { url: 'https://example.invalid/ipxe.git', ref: 'master' } } },
  target: {
    kind: 'ssh',
    ssh: { host: '192.0.2.10', privateKeyPath: '/root/.ssh/id_ed25519', hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` },
    portal: { ip: '192.0.2.10', port: 3260 },
  },
  targetIqn: 'iqn.2003-01.org.example:disk1',
  chap: { username: 'initiator', password: 'Valid-secret-1', mutual: { username: 'target', password: 'Valid-secret-2' } },
};

const LAB_ROWS: Row[] = [
  ...rows(['initiator.iqn', 'targetIqn'], IQNS),
  ...rows(['network.ip', 'network.gateway', 'network.dns.0', 'target.portal.ip'], IPV4S),
  ...rows(['target.ssh.host'], BAD_HOSTS),
  ...rows(['firmware.source.git.url', 'firmware.source.git.ref'], [['an option (--upload-pack=...)', '--upload-pack=touch /tmp/ibft-lab-pwned #']]),
  ...rows(['chap.username', 'chap.mutual.username'], CHAP_USERS),
  ...rows(['chap.password', 'chap.mutual.password'], badSecrets(16), true),
];

describe('lab spec file', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'ibft-lab-bad-lab-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const writeLab = (content: unknown) => {
    mkdirSync(join(root, 'labs', 'bad'), { recursive: true });
    writeFileSync(join(root, 'labs', 'bad', 'lab.json'), JSON.stringify(content));
  };
  const plugin = (files: string[]) =>
    Promise.resolve()
      .then(() => createNodes[1](files, {}, { workspaceRoot: root, nxJsonConfiguration: {} } as CreateNodesContext))
      .then(
        (result) => ({ result, error: undefined }),
        (error: unknown) => ({ result: undefined, error: error as { message: string; errors?: Array<[string, Error]> } }),
      );

  it('control: the valid lab parses, reads and becomes a project', async () => {
    expect(parseLabSpec(VALID_LAB, 'bad').name).toBe('bad');
    writeLab(VALID_LAB);
    expect(readLabSpec(join(root, 'labs/bad/lab.json')).name).toBe('bad');
    const { result, error } = await plugin(['labs/bad/lab.json']);
    expect(error).toBeUndefined();
    expect(result?.[0][1].projects?.['labs/bad']?.name).toBe('bad');
  });

  it.each(LAB_ROWS)('parseLabSpec: %s rejects %s', (field, _label, value, secret) => {
    let message = '';
    try {
      parseLabSpec(withValue(VALID_LAB, field, value), 'bad');
    } catch (error) {
      expect(error).toBeInstanceOf(LabSpecError);
      message = (error as Error).message;
    }
    expect(message).toContain(`lab.json: ${field}: `);
    expectNoSecret(message, value, secret);
  });

  it.each(LAB_ROWS)('readLabSpec: %s rejects %s', (field, _label, value, secret) => {
    writeLab(withValue(VALID_LAB, field, value));
    expect(() => readLabSpec(join(root, 'labs/bad/lab.json'), 'labs/bad/lab.json')).toThrow(`labs/bad/lab.json: ${field}: `);
    try {
      readLabSpec(join(root, 'labs/bad/lab.json'));
    } catch (error) {
      expectNoSecret((error as Error).message, value, secret);
    }
  });

  it.each(LAB_ROWS)('createNodes plugin: %s rejects %s', async (field, _label, value, secret) => {
    writeLab(withValue(VALID_LAB, field, value));
    const { result, error } = await plugin(['labs/bad/lab.json']);
    expect(result).toBeUndefined();
    // Nx gathers each file's error and prints it under the file's name.
    expect(error?.errors?.map(([file]) => file)).toEqual(['labs/bad/lab.json']);
    const message = error?.errors?.[0][1].message ?? '';
    expect(message).toContain(`labs/bad/lab.json: ${field}: `);
    expectNoSecret(`${error?.message}\n${message}`, value, secret);
    expect(filesUnder(root)).toEqual(['labs/bad/lab.json']);
  });
});

// ============================================================ executor options

const context = (root: string, projectName = 'badin') => ({ root, projectName, cwd: root, isVerbose: false }) as never;

describe('executor gen-script', () => {
  const VALID_SCRIPT = {
    initiatorIqn: 'iqn.2010-04.org.ipxe:client',
    network: { mode: 'static', ip: '10.0.2.15', prefix: 24, gateway: '10.0.2.2', dns: ['10.0.2.3'] },
    sanhooks: [
      {
        targets: [{ server: '10.0.2.2', lun: 0, targetIqn: 'iqn.2003-01.org.example:disk1' }],
        chap: { username: 'initiator', password: 'Valid-secret-1', mutual: { username: 'target', password: 'Valid-secret-2' } },
      },
    ],
  };
  const ROWS: Row[] = [
    ...rows(['initiatorIqn', 'sanhooks.0.targets.0.targetIqn'], IQNS),
    ...rows(['network.ip', 'network.gateway', 'network.dns.0', 'sanhooks.0.targets.0.server'], IPV4S),
    ...rows(['sanhooks.0.targets.0.lun'], LUNS),
    ...rows(['sanhooks.0.chap.username', 'sanhooks.0.chap.mutual.username'], CHAP_USERS),
    ...rows(['sanhooks.0.chap.password', 'sanhooks.0.chap.mutual.password'], badSecrets(16), true),
  ];
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'ibft-lab-bad-gen-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('control: the valid script is written', async () => {
    const out = captureConsole();
    await expect(genScript({ script: VALID_SCRIPT, outputPath: 'out/boot.ipxe' }, context(root))).resolves.toEqual({ success: true });
    expect(existsSync(join(root, 'out/boot.ipxe'))).toBe(true);
    expect(out.text()).not.toContain('Valid-secret');
  });

  it.each(ROWS)('script.%s rejects %s', async (field, _label, value, secret) => {
    const out = captureConsole();
    await expect(genScript({ script: withValue(VALID_SCRIPT, field, value), outputPath: 'out/boot.ipxe' }, context(root))).resolves.toEqual({
      success: false,
    });
    expect(out.text()).toContain(`script.${field}: `);
    expectNoSecret(out.text(), value, secret);
    expect(filesUnder(root)).toEqual([]);
  });
});

// The LIO desired state every lio-target executor takes (inline `config`).
const VALID_CONFIG = {
  lab: 'badin',
  backstores: [{ kind: 'fileio', name: 'disk', path: '/var/tmp/ibft-lab-badin-disk.img', sizeMiB: 16 }],
  targets: [
    {
      iqn: 'iqn.2003-01.org.example:disk1',
      tpgs: [
        {
          attributes: { authentication: true },
          portals: [{ ip: '0.0.0.0', port: 3260 }],
          luns: [{ index: 0, backstore: 'disk' }],
          acls: [
            {
              initiatorIqn: 'iqn.2010-04.org.ipxe:client',
              mappedLuns: [{ index: 0, tpgLun: 0 }],
              chap: { userid: 'initiator', password: 'Valid-secret-1' },
              mutualChap: { userid: 'target', password: 'Valid-secret-2' },
            },
          ],
        },
      ],
    },
  ],
  discoveryAuth: { userid: 'discovery', password: 'Valid-secret-3' },
};

const ACL = 'targets.0.tpgs.0.acls.0';
// lio-target takes CHAP secrets of 12 to 255 characters (LIO's limit).
const CONFIG_ROWS: Row[] = [
  ...rows(['targets.0.iqn', `${ACL}.initiatorIqn`], IQNS),
  ...rows(['targets.0.tpgs.0.portals.0.ip'], IPV4S),
  ...rows(['targets.0.tpgs.0.luns.0.index', `${ACL}.mappedLuns.0.index`], LUNS),
  ...rows([`${ACL}.chap.userid`, `${ACL}.mutualChap.userid`, 'discoveryAuth.userid'], CHAP_USERS),
  ...rows([`${ACL}.chap.password`, `${ACL}.mutualChap.password`, 'discoveryAuth.password'], badSecrets(255), true),
];

describe.each([
  ['setup-target', setupTarget],
  ['target-status', targetStatus],
  ['teardown-target', teardownTarget],
] as const)('executor %s', (name, executor) => {
  let root: string;
  let shims: Shims;
  let sshTarget: Awaited<ReturnType<typeof countingServer>>;
  beforeAll(async () => {
    sshTarget = await countingServer();
  });
  afterAll(() => sshTarget.close());
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'ibft-lab-bad-lio-'));
    shims = installShims();
    mockTransportUse.localRuns = 0;
    mockTransportUse.sshConnects = 0;
  });
  afterEach(() => {
    shims.restore();
    rmSync(root, { recursive: true, force: true });
  });

  const ssh = () => ({ host: '127.0.0.1', port: sshTarget.port, user: 'root', password: `${SECRET_MARK}ssh-password`, insecureAcceptAnyHostKey: true, readyTimeoutMs: 3000 });
  const transportOptions = (transport: 'local' | 'ssh') => (transport === 'ssh' ? { transport, ssh: ssh() } : { transport });
  const initiatorFile = () => join(root, 'initiator.json');
  const run = (options: Record<string, unknown>) => executor({ ...options, ...(name === 'setup-target' ? { initiatorFile: initiatorFile() } : {}) }, context(root));
  const expectNothingRan = (connectionsBefore: number) => {
    expect(mockTransportUse).toEqual({ localRuns: 0, sshConnects: 0 });
    expect(sshTarget.connections()).toBe(connectionsBefore);
    expect(shims.ran()).toBe('');
    expect(existsSync(initiatorFile())).toBe(false);
  };

  it.each(['local', 'ssh'] as const)('control (%s): the valid declaration reaches the transport', async (transport) => {
    const before = sshTarget.connections();
    captureConsole();
    await expect(run({ ...transportOptions(transport), config: VALID_CONFIG })).resolves.toEqual({ success: false });
    if (transport === 'ssh') expect(sshTarget.connections()).toBeGreaterThan(before);
    else expect(mockTransportUse.localRuns).toBeGreaterThan(0); // Jest cannot load execa: the count is the proof here
  });

  const cases: Array<[transport: 'local' | 'ssh', ...Row]> = (['local', 'ssh'] as const).flatMap((t) => CONFIG_ROWS.map((r): [typeof t, ...Row] => [t, ...r]));
  it.each(cases)('(%s) config.%s rejects %s', async (transport, field, _label, value, secret) => {
    const before = sshTarget.connections();
    const out = captureConsole();
    await expect(run({ ...transportOptions(transport), config: withValue(VALID_CONFIG, field, value) })).resolves.toEqual({ success: false });
    expect(out.text()).toContain(`${bracketed(field)}: `);
    expectNoSecret(out.text(), value, secret);
    expectNothingRan(before);
  });

  it.each(BAD_HOSTS)('(ssh) option ssh.host rejects %s', async (_label, value) => {
    const before = sshTarget.connections();
    const out = captureConsole();
    await expect(run({ transport: 'ssh', ssh: { ...ssh(), host: value }, config: VALID_CONFIG })).resolves.toEqual({ success: false });
    expect(out.text()).toContain(`${name}: option ssh.host: `);
    expectNoSecret(out.text(), 'unused', true);
    expectNothingRan(before);
  });

  if (name === 'setup-target') {
    it.each(IPV4S)('(local) option initiatorPortal.ip rejects %s', async (_label, value) => {
      const before = sshTarget.connections();
      const out = captureConsole();
      await expect(run({ transport: 'local', initiatorPortal: { ip: value, port: 3260 }, config: VALID_CONFIG })).resolves.toEqual({ success: false });
      expect(out.text()).toContain('setup-target: option initiatorPortal.ip: ');
      expectNothingRan(before);
    });
  }

  if (name === 'teardown-target') {
    const BAD_LAB_NAMES: Case[] = ['Lab', 'my lab', '$(reboot)', '`reboot`', 'lab;reboot', 'lab\nreboot', '', `l${'a'.repeat(40)}`].map((v) => [JSON.stringify(v), v] as const);
    it.each((['local', 'ssh'] as const).flatMap((t) => BAD_LAB_NAMES.map(([label, value]) => [t, label, value] as const)))(
      '(%s) option lab rejects %s',
      async (transport, _label, value) => {
        const before = sshTarget.connections();
        const out = captureConsole();
        await expect(run({ ...transportOptions(transport), lab: value })).resolves.toEqual({ success: false });
        expect(out.text()).toMatch(/teardown-target: option lab: /);
        expectNothingRan(before);
      },
    );
  }
});

describe('executor boot-vm', () => {
  const VALID_EXPECTATIONS = {
    initiator: { name: 'iqn.2010-04.org.ipxe:client' },
    nics: [{ ip: '10.0.2.15', prefix: 24, gateway: '10.0.2.2', dns: '10.0.2.3', mac: '52:54:00:12:34:56' }],
    targets: [
      {
        ip: '10.0.2.2',
        port: 3260,
        lun: 0,
        name: 'iqn.2003-01.org.example:disk1',
        chapType: 'mutual',
        chapName: 'initiator',
        chapSecret: 'Valid-secret-1',
        reverseChapName: 'target',
        reverseChapSecret: 'Valid-secret-2',
      },
    ],
  };
  const ROWS: Row[] = [
    ...rows(['initiator.name', 'targets.0.name'], IQNS),
    ...rows(['nics.0.ip', 'nics.0.gateway', 'nics.0.dns', 'targets.0.ip'], IPV4S),
    ...rows(['targets.0.lun'], LUNS),
    ...rows(['targets.0.chapName', 'targets.0.reverseChapName'], CHAP_USERS),
    ...rows(['targets.0.chapSecret', 'targets.0.reverseChapSecret'], badSecrets(16), true),
  ];
  let root: string;
  let shims: Shims;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'ibft-lab-bad-boot-'));
    writeFileSync(join(root, 'boot.ipxe'), '#!ipxe\necho == config done ==\n');
    shims = installShims();
  });
  afterEach(() => {
    shims.restore();
    rmSync(root, { recursive: true, force: true });
  });
  const options = (expectations: unknown, extra: Record<string, unknown> = {}) => ({
    script: 'boot.ipxe',
    probe: false,
    deadlineSeconds: 20,
    outputPath: 'report',
    expectations,
    ...extra,
  });

  it('control: valid options start qemu-system-x86_64 (the PATH shim sees it)', async () => {
    captureConsole();
    await expect(bootVm(options(VALID_EXPECTATIONS), context(root))).resolves.toEqual({ success: false });
    expect(shims.ran()).toMatch(/^qemu-system-x86_64 /m);
  });

  it.each(ROWS)('expectations.%s rejects %s', async (field, _label, value, secret) => {
    const out = captureConsole();
    await expect(bootVm(options(withValue(VALID_EXPECTATIONS, field, value)), context(root))).resolves.toEqual({ success: false });
    expect(out.text()).toContain(`boot-vm: expectations.${field}: `);
    expectNoSecret(out.text(), value, secret);
    expect(shims.ran()).toBe('');
    expect(filesUnder(root)).toEqual(['boot.ipxe']);
  });

  it.each(['rtl8139,romfile=/etc/shadow', 'rtl8139; reboot', 'e1000 -device x', ''].map((v) => [JSON.stringify(v), v] as const))(
    'nic rejects %s (it becomes a QEMU -device option)',
    async (_label, value) => {
      const out = captureConsole();
      await expect(bootVm(options(VALID_EXPECTATIONS, { nic: value }), context(root))).resolves.toEqual({ success: false });
      expect(out.text()).toContain('boot-vm: nic: ');
      expect(shims.ran()).toBe('');
    },
  );
});

describe('executor build-rom', () => {
  // build-rom takes no IQN, address, LUN or CHAP value; its own strings reach
  // make's and git's argv, a C header and the identity command.
  const ROWS: Array<[field: string, label: string, value: unknown, named: string]> = [
    ['nic', 'a ;', 'rtl8139; reboot', 'nic'],
    ['nic', 'a QEMU option', 'rtl8139,romfile=/etc/shadow', 'nic'],
    ['debug', 'a ;', 'iscsi; reboot', 'debug'],
    ['debug', '$()', '$(reboot)', 'debug'],
    ['makeTarget', 'a ;', 'bin/rtl8139.rom; reboot', 'makeTarget'],
    ['makeTarget', '..', 'bin/../../../etc/passwd', 'makeTarget'],
    ['overrides.general.BANNER_TIMEOUT', 'a newline', '0"\n#include "/etc/shadow', 'overrides.general.BANNER_TIMEOUT'],
    ['overrides.general.BANNER_TIMEOUT', 'a comment in an expr', { expr: '0 /* x */' }, 'overrides.general.BANNER_TIMEOUT'],
    ['source.git.url', 'an option (--upload-pack=...)', '--upload-pack=touch /tmp/ibft-lab-pwned #', 'source.git.url'],
    ['source.git.ref', 'an option', '--upload-pack=touch /tmp/ibft-lab-pwned', 'source.git.ref'],
    ['source.git.url', 'a newline', 'https://example.invalid/ipxe.git\n--upload-pack=x', 'source.git.url'],
  ];
  const VALID = { script: 'boot.ipxe', nic: 'rtl8139', overrides: { general: { BANNER_TIMEOUT: 0 } }, source: { git: { url: 'https://example.invalid/ipxe.git', ref: 'master' } }, outputPath: 'firmware', jobs: 1 };
  let root: string;
  let shims: Shims;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'ibft-lab-bad-rom-'));
    writeFileSync(join(root, 'boot.ipxe'), '#!ipxe\necho == config done ==\n');
    shims = installShims();
  });
  afterEach(() => {
    shims.restore();
    rmSync(root, { recursive: true, force: true });
  });

  it('control: valid options reach git (the PATH shim sees it)', async () => {
    captureConsole();
    await expect(buildRom(VALID, context(root))).resolves.toEqual({ success: false });
    expect(shims.ran()).toMatch(/^git /m);
  });

  it.each(ROWS)('%s rejects %s', async (field, _label, value, named) => {
    const out = captureConsole();
    await expect(buildRom(withValue(VALID, field, value), context(root))).resolves.toEqual({ success: false });
    expect(out.text()).toContain(named);
    expect(shims.ran()).toBe('');
    expect(filesUnder(root)).toEqual(['boot.ipxe']);
    expect(existsSync(join(shims.dir, 'cache'))).toBe(false);
  });

  it('the library itself (resolveGitSource) refuses a url git would read as an option', () => {
    const result = resolveGitSource('--upload-pack=touch /tmp/ibft-lab-pwned #', '/tmp', join(shims.dir, 'cache'));
    expect(result).toMatchObject({ status: 'unavailable', reason: expect.stringContaining('source.git.url') });
    expect(shims.ran()).toBe('');
  });
});

// =========================================================== generator options

describe('generator @ibft-lab/lab:lab', () => {
  const ROWS: Array<[option: string, label: string, value: unknown, named: string, extra: Record<string, unknown>]> = [
    ...IQNS.map(([label, value]) => ['initiatorIqn', label, value, 'initiator.iqn', {}] as [string, string, unknown, string, Record<string, unknown>]),
    ...(['ip', 'gateway', 'dns'] as const).flatMap((option) =>
      IPV4S.map(([label, value]) => [option, label, value, option === 'dns' ? 'network.dns.0' : `network.${option}`, { network: 'static' }] as [string, string, unknown, string, Record<string, unknown>]),
    ),
    ...IPV4S.map(([label, value]) => ['portalIp', label, value, 'target.portal.ip', { target: 'local' }] as [string, string, unknown, string, Record<string, unknown>]),
    ...BAD_HOSTS.map(
      ([label, value]) =>
        ['sshHost', label, value, 'target.ssh.host', { target: 'ssh', portalIp: '192.0.2.10', sshPrivateKey: '/k', sshHostKeyFingerprint: `SHA256:${'A'.repeat(43)}` }] as [string, string, unknown, string, Record<string, unknown>],
    ),
    ...LUNS.map(([label, value]) => ['luns', label, value, 'luns', {}] as [string, string, unknown, string, Record<string, unknown>]),
    ...['Lab', 'my lab', '$(reboot)', 'lab\nx', ''].map((v) => ['name', JSON.stringify(v), v, 'name', {}] as [string, string, unknown, string, Record<string, unknown>]),
  ];
  let tree: Tree;
  beforeEach(() => (tree = createTreeWithEmptyWorkspace()));

  it('control: valid options write labs/ok/lab.json', async () => {
    await labGenerator(tree, { name: 'ok', network: 'static', target: 'local', chap: 'mutual' });
    expect(tree.exists('labs/ok/lab.json')).toBe(true);
  });

  it.each(ROWS)('%s rejects %s', async (option, _label, value, named, extra) => {
    const before = treeState(tree);
    const error = await labGenerator(tree, { name: 'bad', ...extra, [option]: value }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(new RegExp(`(^|\\s)${named.replace(/\./g, '\\.')}: `));
    expect(treeState(tree)).toEqual(before);
  });
});

describe('generator @ibft-lab/script-gen:script', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
    addProjectConfiguration(tree, 'lab', { root: 'labs/lab', targets: {} });
  });

  it('control: a known project gets a gen-script target', async () => {
    await scriptGenerator(tree, { project: 'lab' });
  });

  it.each([
    ['empty', ''],
    ['$(reboot)', '$(reboot)'],
    ['a newline', 'lab\nreboot'],
    ['not a string', 7],
  ])('project rejects %s', async (_label, value) => {
    const before = treeState(tree);
    await expect(scriptGenerator(tree, { project: value })).rejects.toThrow(/project/);
    expect(treeState(tree)).toEqual(before);
  });
});

describe('generator @ibft-lab/lio-target:target', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
    addProjectConfiguration(tree, 'lab', { root: 'labs/lab', targets: {} });
    // Its derived lab name, "-weird-project-", is not one LIO ownership can use.
    addProjectConfiguration(tree, '_weird_project_', { root: 'labs/weird', targets: {} });
  });

  it('control: valid options write lio-target.json', async () => {
    await targetGenerator(tree, { project: 'lab', initiatorIqn: 'iqn.2010-04.org.ipxe:client' });
    expect(tree.exists('labs/lab/lio-target.json')).toBe(true);
  });

  it.each([
    ...IQNS.map(([label, value]) => ['initiatorIqn', label, value, 'lab'] as const),
    ...['Lab', 'my lab', '$(reboot)', 'lab\nx', ''].map((v) => ['lab', JSON.stringify(v), v, 'lab'] as const),
    ['lab', 'derived from an odd project name', undefined, '_weird_project_'] as const,
  ])('%s rejects %s', async (option, _label, value, project) => {
    const before = treeState(tree);
    const error = await targetGenerator(tree, { project, ...(value === undefined ? {} : { [option]: value }) }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toContain(option);
    expect(treeState(tree)).toEqual(before);
  });
});

describe('generator @ibft-lab/ipxe-builder:rom', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = createTreeWithEmptyWorkspace();
    addProjectConfiguration(tree, 'lab', { root: 'labs/lab', targets: {} });
  });

  it('control: valid options add build-rom', async () => {
    await romGenerator(tree, { project: 'lab', nic: 'e1000', gitUrl: 'https://example.invalid/ipxe.git', gitRef: 'master' });
  });

  it.each([
    ['nic', 'a ;', 'rtl8139; reboot', {}],
    ['nic', 'a QEMU option', 'rtl8139,romfile=/etc/shadow', {}],
    ['nic', 'unknown', 'tulip', {}],
    ['gitUrl', 'an option (--upload-pack=...)', '--upload-pack=touch /tmp/ibft-lab-pwned #', { gitRef: '/tmp' }],
    ['gitUrl', 'a newline', 'https://example.invalid/x.git\nrm', { gitRef: 'master' }],
    ['gitRef', 'an option', '--upload-pack=x', { gitUrl: 'https://example.invalid/ipxe.git' }],
  ] as const)('%s rejects %s', async (option, _label, value, extra) => {
    const before = treeState(tree);
    const error = await romGenerator(tree, { project: 'lab', ...extra, [option]: value }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toContain(option);
    expect(treeState(tree)).toEqual(before);
  });
});

// ======================================================================= CLIs

describe('CLI ipxe-lint', () => {
  const bin = join(__dirname, '..', 'packages', 'script-gen', 'bin', 'ipxe-lint.js');
  // [what, line, code, the text at the reported column]
  const BAD_LINES: Array<[string, string, string, string]> = [
    ['uppercase initiator IQN', 'set initiator-iqn iqn.2010-04.org.ipxe:Client', 'bad-iqn', 'iqn.2010-04.org.ipxe:Client'],
    ['$() in the initiator IQN', 'set initiator-iqn iqn.2010-04.org.ipxe:$(reboot)', 'bad-iqn', 'iqn.2010-04.org.ipxe:$(reboot)'],
    ['SAN URI without target name', 'sanhook iscsi:10.0.2.2:::: ||', 'bad-iqn', ' ||'],
    ['SAN URI with too few fields', 'set root-path iscsi:10.0.2.2::3260:1', 'bad-san-uri', 'iscsi:'],
    ['SAN URI with a bad port', 'sanhook iscsi:10.0.2.2::99999::iqn.2003-01.org.example:disk1 ||', 'bad-san-uri', 'iscsi:'],
    ['SAN URI with a word port', 'sanhook iscsi:10.0.2.2::http::iqn.2003-01.org.example:disk1 ||', 'bad-san-uri', 'iscsi:'],
    ['SAN URI with a bad LUN', 'sanhook iscsi:10.0.2.2:::0-zz:iqn.2003-01.org.example:disk1 ||', 'bad-san-uri', 'iscsi:'],
    ['SAN URI with a 5-word LUN', 'sanhook iscsi:10.0.2.2:::1-0-0-0-0:iqn.2003-01.org.example:disk1 ||', 'bad-san-uri', 'iscsi:'],
    ['SAN URI with 10.0.2.300', 'sanhook iscsi:10.0.2.300::::iqn.2003-01.org.example:disk1 ||', 'bad-san-uri', 'iscsi:'],
    ['SAN URI with a backtick target', 'sanhook iscsi:10.0.2.2::::iqn.2003-01.org.example:`reboot` ||', 'bad-iqn', 'iqn.2003-01.org.example:`'],
  ];
  let dir: string;
  let result: ReturnType<typeof spawnSync>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ibft-lab-bad-lint-'));
    writeFileSync(join(dir, 'bad.ipxe'), ['#!ipxe', ...BAD_LINES.map(([, line]) => line), 'echo == config done ==', ''].join('\n'));
    result = spawnSync(process.execPath, [bin, 'bad.ipxe'], { cwd: dir, encoding: 'utf8' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 1', () => {
    expect(result.status).toBe(1);
  });

  it.each(BAD_LINES.map((row, index) => [...row, index + 2] as const))('%s: line:column and code', (_what, line, code, at, lineNo) => {
    const column = line.indexOf(at) + 1;
    expect(String(result.stdout).split('\n')).toContainEqual(expect.stringMatching(new RegExp(`^bad\\.ipxe:${lineNo}:${column}: error ${code} `)));
  });
});

describe('CLI ibft', () => {
  const bin = join(__dirname, '..', 'packages', 'ibft', 'bin', 'ibft.js');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ibft-lab-bad-ibft-'));
    writeFileSync(join(dir, 'a.bin'), Buffer.alloc(64));
    writeFileSync(join(dir, 'b.bin'), Buffer.alloc(64));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['no command', [], /missing command/],
    ['an unknown command', ['$(reboot)'], /unknown command "\$\(reboot\)"/],
    ['decode without a file', ['decode'], /decode needs a file/],
    ['an unknown format', ['decode', 'a.bin', '--format', 'xml'], /--format must be one of/],
    ['a negative offset', ['decode', 'a.bin', '--offset', '-1'], /--offset must be a non-negative number/],
    ['$() as offset', ['decode', 'a.bin', '--offset', '$(reboot)'], /--offset must be a non-negative number/],
    ['a missing offset', ['decode', 'a.bin', '--offset'], /--offset needs a value/],
    ['a bad base address', ['locate', 'a.bin', '--base-address=0x'], /--base-address must be a non-negative number/],
    ['an unknown option', ['decode', 'a.bin', '--bogus'], /unknown option --bogus/],
    ['two files', ['decode', 'a.bin', 'b.bin'], /unexpected argument "b.bin"/],
    ['an offset past the end', ['decode', 'a.bin', '--offset', '64'], /--offset 64 is past the end/],
  ] as const)('usage error: %s exits 2 naming it', (_what, args, message) => {
    const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8' });
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: '' });
    expect(r.stderr).toMatch(message);
  });
});
