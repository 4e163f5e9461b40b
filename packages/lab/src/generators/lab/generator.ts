// `nx g @ibft-lab/lab:lab <name>`: writes labs/<name>/lab.json (checked
// against LabSpec before anything is written) and registers the plugin that
// infers the lab's targets from it.
import { createHash, randomBytes } from 'node:crypto';
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
    network: networkOf(o),
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

function targetOf(o: GeneratorOptions): LabSpecInput['target'] {
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

type GeneratorOptions = ReturnType<typeof optionsSchema.parse>;

function networkOf(o: GeneratorOptions): LabSpecInput['network'] {
  if (o.network === 'dhcp') return { mode: 'dhcp' };
  if (o.network === 'static') return { mode: 'static', ip: o.ip, prefix: o.prefix, gateway: o.gateway, dns: [o.dns] };
  // The shapes of labs/two-nics, labs/multipath and labs/dhcp-root-path, which the labs e2e boots.
  const mac = segmentMacs(o.name);
  const luns = Array.from({ length: o.luns }, (_, lun) => lun);
  if (o.network === 'multipath') {
    const segments = ['path-a', 'path-b'];
    return {
      mode: 'segments',
      segments: segments.map((name, i) => ({ name, subnet: `192.168.${31 + i}.0/24` })),
      nics: segments.map((segment, i) => ({ segment, mac: mac(i), config: 'static' as const, ip: `192.168.${31 + i}.10` })),
      paths: luns.map((lun) => ({ lun, segments })),
    };
  }
  const pool = (third: number) => ({ pool: { start: `192.168.${third}.100`, end: `192.168.${third}.199` } });
  if (o.network === 'dhcp-root-path') {
    return { mode: 'dhcp-root-path', segments: [{ name: 'san', subnet: '192.168.40.0/24', dhcp: pool(40) }], nics: [{ segment: 'san', mac: mac(0) }] };
  }
  const segments = luns.map((lun) => `san-${String.fromCharCode(97 + lun)}`);
  return {
    mode: 'segments',
    segments: segments.map((name, i) => ({ name, subnet: `192.168.${21 + i}.0/24`, dhcp: pool(21 + i) })),
    nics: segments.map((segment, i) => ({ segment, mac: mac(i) })),
    paths: luns.map((lun) => ({ lun, segments: [segments[lun]] })),
  };
}

/**
 * MACs for a lab's segment NICs, from its name: two labs' NICs differ (their iBFTs tell them apart), and
 * none is the appliance's own (52:54:00:a0:00:*) or net0's default.
 */
function segmentMacs(name: string): (index: number) => string {
  const [a, b] = createHash('sha256').update(name).digest();
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  const high = a === 0xa0 ? 0xa1 : a;
  return (index) => `52:54:00:${hex(high)}:${hex(b)}:${hex(index + 1)}`;
}
