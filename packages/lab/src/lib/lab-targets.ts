// The Nx targets of a lab project, derived from its LabSpec. Plain data (no
// @nx/devkit) so the createNodes plugin, the lab generator and tests share it.
//
//   gen-script ──▶ build-rom ──┐
//                               ├──▶ boot-vm
//   target-vm ─▶ setup-target ──┘
import { isAbsolute, posix } from 'node:path';
import { buildRomTargetConfig, identityScriptPath, qemuDeviceFor } from '@ibft-lab/ipxe-builder';
import type { SecretRef } from '@ibft-lab/script-gen';
import { labDesiredState, labExpectations, labPortal, labScript, labTargetIqn } from './derive-lab';
import { applianceSegments, initiatorSegmentNics } from './derive-segments';
import { isSegmentNetwork } from './lab-network';
import type { LabSpec } from './lab-spec';

export type TargetConfig = Record<string, unknown>;

/** Where a lab's files go, workspace-relative. */
export function labOutputDir(name: string): string {
  return `dist/labs/${name}`;
}

function targetConnection(lab: LabSpec): Record<string, unknown> {
  const target = lab.target;
  // setup-target cannot see the guest's side of a port forward: tell it the portal the script uses.
  if (target.kind === 'ssh') return { transport: 'ssh', ssh: target.ssh, initiatorPortal: labPortal(lab) };
  if (target.kind === 'local') return { transport: 'local', initiatorPortal: labPortal(lab) };
  return { transport: 'appliance' };
}

export interface LabTargetsContext {
  /** Absolute workspace root; locates ipxe-builder's identity script (repository or node_modules). */
  workspaceRoot?: string;
  /** The lab's folder, workspace-relative (its paths are relative to it); default labs/<name>. */
  labRoot?: string;
}

/** boot-vm's systemUnderTest: the lab's `boot` with its paths made workspace-relative. */
export function labSystemUnderTest(lab: LabSpec, labRoot: string): Record<string, unknown> | undefined {
  const boot = lab.boot;
  const fromLab = (path: string) => (isAbsolute(path) ? path : posix.join(labRoot, path));
  if (boot.kind === 'probe') return undefined;
  if (boot.kind === 'kernel') {
    return { ...boot, kernel: fromLab(boot.kernel), ...(boot.initrd ? { initrd: fromLab(boot.initrd) } : {}) };
  }
  return { ...boot, media: 'cdrom' in boot.media ? { cdrom: fromLab(boot.media.cdrom) } : { disk: fromLab(boot.media.disk) } };
}

/** The lab with each secret reference labelled by its lab field and its file made workspace-relative. */
function withOptionSecretRefs(lab: LabSpec, labRoot: string): LabSpec {
  if (!lab.chap) return lab;
  const option = (secret: string | SecretRef, field: string): string | SecretRef =>
    typeof secret === 'string' ? secret : 'env' in secret ? { env: secret.env, field } : { file: isAbsolute(secret.file) ? secret.file : posix.join(labRoot, secret.file), field };
  const { chap } = lab;
  return {
    ...lab,
    chap: {
      ...chap,
      password: option(chap.password, 'chap.password'),
      ...(chap.mutual ? { mutual: { ...chap.mutual, password: option(chap.mutual.password, 'chap.mutual.password') } } : {}),
    },
  };
}

export function labTargets(spec: LabSpec, context: LabTargetsContext = {}): Record<string, TargetConfig> {
  const labRoot = context.labRoot ?? `labs/${spec.name}`;
  const lab = withOptionSecretRefs(spec, labRoot);
  const out = labOutputDir(lab.name);
  const built = lab.firmware.rom === 'build';
  const target = { ...targetConnection(lab), config: labDesiredState(lab) };
  const appliance = lab.target.kind === 'appliance';
  const systemUnderTest = labSystemUnderTest(lab, labRoot);
  const segments = isSegmentNetwork(lab.network);
  // The script (and a ROM embedding it) must carry the CHAP secrets, since iPXE
  // sends them. Such outputs stay out of Nx's cache, which may be shared remotely.
  const cacheable = !lab.chap;

  const targets: Record<string, TargetConfig> = {
    'gen-script': {
      executor: '@ibft-lab/script-gen:gen-script',
      cache: cacheable,
      inputs: ['default', '^production'],
      outputs: [`{workspaceRoot}/${out}/boot.ipxe`],
      options: { script: labScript(lab) },
    },
    'lint-script': {
      executor: '@ibft-lab/script-gen:lint',
      dependsOn: ['gen-script'],
      options: { files: [`${out}/boot.ipxe`], failOnWarnings: true },
    },
    'setup-target': {
      executor: '@ibft-lab/lio-target:setup-target',
      cache: false,
      ...(appliance ? { dependsOn: ['target-vm'] } : {}),
      outputs: [`{workspaceRoot}/${out}/target/initiator.json`],
      options: target,
    },
    'teardown-target': { executor: '@ibft-lab/lio-target:teardown-target', cache: false, options: target },
    'target-status': { executor: '@ibft-lab/lio-target:target-status', cache: false, options: target },
    'boot-vm': {
      executor: '@ibft-lab/qemu-runner:boot-vm',
      cache: false,
      // target-vm is named too, so Nx keeps the appliance up until boot-vm ends.
      dependsOn: ['gen-script', ...(built ? ['build-rom'] : []), 'setup-target', ...(appliance ? ['target-vm'] : [])],
      options: {
        nic: qemuDeviceFor(lab.firmware.nic),
        mac: lab.initiator.mac,
        firmware: lab.firmware.platform,
        accel: lab.accel,
        ...(built ? { rom: `${out}/firmware` } : {}),
        initiatorFile: `${out}/target/initiator.json`,
        // NICs after net0, each connected to its segment (initiator.json says where).
        ...(segments ? { segmentNics: initiatorSegmentNics(lab) } : {}),
        expectations: labExpectations(lab),
        probe: lab.probe ?? lab.boot.kind === 'probe',
        consumers: lab.consumers,
        otherConsumers: lab.otherConsumers,
        ...(systemUnderTest ? { systemUnderTest } : {}),
        ...(lab.memoryMiB || systemUnderTest ? { memoryMiB: lab.memoryMiB ?? 1024 } : {}),
        deadlineSeconds: lab.deadlineSeconds,
      },
    },
  };
  if (built) {
    targets['build-rom'] = {
      ...buildRomTargetConfig({
        nic: lab.firmware.nic,
        platform: lab.firmware.platform,
        // QEMU loads it as the NIC's option ROM: for UEFI a .efirom, not the ipxe.efi application.
        format: 'rom',
        ...(lab.firmware.source ? { source: lab.firmware.source } : {}),
        fallback: lab.firmware.fallback,
        overrides: lab.firmware.overrides,
        hasGenScript: true,
        ...(context.workspaceRoot ? { identityScript: identityScriptPath(context.workspaceRoot) } : {}),
      }),
      cache: cacheable,
    };
  }
  if (appliance) {
    targets['target-vm'] = {
      executor: '@ibft-lab/lio-target:target-vm',
      continuous: true,
      cache: false,
      // gen-script resolves the lab's secret references: a missing one fails before any VM starts.
      ...(lab.chap ? { dependsOn: ['gen-script'] } : {}),
      options: segments ? { segments: applianceSegments(lab, labTargetIqn(lab)) } : {},
    };
  }
  return targets;
}
