// `nx g @ibft-lab/lab:lab <name>`: writes labs/<name>/lab.json (checked
// against LabSpec before anything is written) and registers the plugin that
// infers the lab's targets from it.
import { randomBytes } from 'node:crypto';
import { joinPathFragments, type Tree } from '@nx/devkit';
import { LAB_FILE, LabSpecError, osProofExpectations, parseLabSpec, type LabSpecInput } from '../../lib';
import initGenerator from '../init/generator';
import { optionsSchema } from './options';

const CHAP_SECRET_FILE = 'chap-secret.txt';
const MUTUAL_SECRET_FILE = 'mutual-secret.txt';

/** 16 characters from the CHAP alphabet both iPXE and targetcli carry unchanged. */
function chapSecret(): string {
  return randomBytes(12).toString('base64').replace(/\//g, '_').replace(/=/g, '.');
}

export default async function labGenerator(tree: Tree, raw: unknown): Promise<void> {
  const parsed = optionsSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map((i) => `lab generator: ${i.path.join('.') || '(options)'}: ${i.message}`).join('\n'));
  }
  const o = parsed.data;
  const dir = o.directory ?? joinPathFragments('labs', o.name);
  const file = joinPathFragments(dir, LAB_FILE);
  if (tree.exists(file)) throw new Error(`lab generator: ${file} exists already; pick another name or directory`);

  const spec: LabSpecInput = {
    name: o.name,
    initiator: { iqn: o.initiatorIqn ?? `iqn.2010-04.org.ipxe:${o.name}` },
    network: o.network === 'static' ? { mode: 'static', ip: o.ip, prefix: o.prefix, gateway: o.gateway, dns: [o.dns] } : { mode: 'dhcp' },
    firmware: { nic: o.nic ?? (o.os ? 'virtio-net' : 'rtl8139'), platform: o.firmware, rom: o.rom },
    target: targetOf(o),
    // With an OS, LUN 0 holds its image (the LUN is the image's size); other LUNs stay empty disks.
    luns: Array.from({ length: o.luns }, (_, i) => (o.os && i === 0 ? { image: { os: o.os } } : { sizeMiB: 64 })),
    ...(o.chap === 'none'
      ? {}
      : {
          // By reference: the secrets stay in git-ignored files beside lab.json, out of Nx's project graph.
          chap: {
            username: `${o.name}-initiator`.slice(0, 32),
            password: { file: CHAP_SECRET_FILE },
            ...(o.chap === 'mutual' ? { mutual: { username: `${o.name}-target`.slice(0, 32), password: { file: MUTUAL_SECRET_FILE } } } : {}),
          },
        }),
    probe: o.probe ?? !o.os,
  };
  if (o.os) {
    // The proof names the lab's target and portal, which follow from the rest of the spec.
    spec.boot = { kind: 'sanboot', expect: osProofExpectations(parseLabSpec({ ...spec, boot: undefined }, o.name, file)) };
    spec.deadlineSeconds = 600;
    if (spec.probe === false) delete spec.probe;
  }
  try {
    parseLabSpec(spec, o.name, file);
  } catch (error) {
    if (error instanceof LabSpecError) throw new Error(`lab generator: the options make an invalid lab:\n${error.message}`);
    throw error;
  }
  tree.write(file, `${JSON.stringify(spec, null, 2)}\n`);
  if (o.chap !== 'none') {
    tree.write(joinPathFragments(dir, '.gitignore'), '*-secret.txt\n');
    tree.write(joinPathFragments(dir, CHAP_SECRET_FILE), `${chapSecret()}\n`);
    if (o.chap === 'mutual') tree.write(joinPathFragments(dir, MUTUAL_SECRET_FILE), `${chapSecret()}\n`);
  }
  await initGenerator(tree, {});
}

function targetOf(o: ReturnType<typeof optionsSchema.parse>): LabSpecInput['target'] {
  if (o.target === 'appliance') return { kind: 'appliance' };
  if (o.target === 'local') return { kind: 'local', portal: { ip: o.portalIp ?? '10.0.2.2', port: o.portalPort } };
  if (!o.sshHost) throw new Error("lab generator: sshHost: required with target 'ssh' (the machine that runs LIO)");
  return {
    kind: 'ssh',
    ssh: {
      host: o.sshHost,
      port: o.sshPort,
      user: o.sshUser,
      ...(o.sshPrivateKey ? { privateKeyPath: o.sshPrivateKey } : {}),
      ...(o.sshHostKeyFingerprint ? { hostKeyFingerprint: o.sshHostKeyFingerprint } : {}),
    },
    portal: { ip: o.portalIp ?? o.sshHost, port: o.portalPort },
  };
}
