// The Nx targets of a lab project, derived from its LabSpec. Plain data (no
// @nx/devkit) so the createNodes plugin, the lab generator and tests share it.
//
//   gen-script ──▶ build-rom ──┐
//                               ├──▶ boot-vm (sets the target up itself)
//   target-vm (continuous) ─────┘
//   setup-target, teardown-target, target-status: the target alone
import { isAbsolute, posix } from 'node:path';
import { buildRomTargetConfig, identityScriptPath, qemuDeviceFor } from '@ibft-lab/ipxe-builder';
import type { SecretRef } from '@ibft-lab/script-gen';
import { labDesiredState, labDisks, labExpectations, labHasImage, labHostPort, labPortal, labScript, labTargetIqn } from './derive-lab';
import { applianceSegments, initiatorSegmentNics } from './derive-segments';
import { isSegmentNetwork } from './lab-network';
import { isTableLab, type AnyLabSpec, type LabSpec, type TableLabSpec } from './lab-spec';
import { LAB_FILE } from './read-lab';

export type TargetConfig = Record<string, unknown>;

/**
 * What every ROM a lab builds is built with, under the lab's own firmware.overrides: no banner waits, and
 * DHCP that neither waits 2 s for a ProxyDHCP answer (no lab network sends one) nor 1 s to send again a
 * DHCPDISCOVER lost while the link came up. The table is the same (measured: bench/README.md, boot-vm).
 */
export const LAB_ROM_OVERRIDES = {
  general: { BANNER_TIMEOUT: 0, ROM_BANNER_TIMEOUT: 0 },
  dhcp: { DHCP_DISC_PROXY_TIMEOUT_SEC: 0, DHCP_DISC_START_TIMEOUT_SEC: 0 },
} as const;

/** Where a lab's files go, workspace-relative. */
export function labOutputDir(name: string): string {
  return `dist/labs/${name}`;
}

function targetConnection(lab: LabSpec): Record<string, unknown> {
  const target = lab.target;
  // setup-target cannot see the guest's side of a port forward: tell it the portal the script uses.
  if (target.kind === 'ssh') return { transport: 'ssh', ssh: target.ssh, initiatorPortal: labPortal(lab) };
  if (target.kind === 'local') return { transport: 'local', initiatorPortal: labPortal(lab) };
  // With an image LUN the guest reaches the appliance's published port directly (see labPortal). An OS image
  // is built by target-vm on first use (1-2 minutes on a quiet machine, several under load) before the
  // appliance boots: setup-target waits for it that much longer.
  const osImage = labDisks(lab).some((disk) => typeof disk.image === 'object');
  return { transport: 'appliance', ...(labHasImage(lab) ? { initiatorPortal: labPortal(lab) } : {}), ...(osImage ? { waitTimeoutSeconds: 900 } : {}) };
}

/** LUN image files inside the lab folder (relative paths), for Nx input exclusions. */
function labImageFiles(lab: LabSpec): string[] {
  return labDisks(lab).flatMap((disk) => (typeof disk.image === 'string' && !isAbsolute(disk.image) && !disk.image.startsWith('..') ? [posix.normalize(disk.image)] : []));
}

/** target-vm's options: the lab's private segments; its images (paths made workspace-relative) and, with any, the fixed portal port. */
function targetVmOptions(lab: LabSpec, labRoot: string): Record<string, unknown> {
  if (isSegmentNetwork(lab.network)) return { segments: applianceSegments(lab, labTargetIqn(lab)) };
  if (!labHasImage(lab)) return {};
  const disks = labDisks(lab).map((disk) => ({
    image: typeof disk.image === 'string' ? { path: isAbsolute(disk.image) ? disk.image : posix.join(labRoot, disk.image) } : { os: disk.image.os },
    field: disk.field,
  }));
  return { disks, iscsiHostPort: labHostPort(lab), iscsiHostPortField: 'target.hostPort' };
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
  if (boot.kind === 'sanboot') return { ...boot };
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

/**
 * A table lab has one target: boot-vm replays its table (no gen-script, build-rom, target-vm or
 * setup-target: no iPXE runs and nothing logs in). Its expectations are the table itself (the host
 * decode), so each consumer is compared with what the table says.
 */
export function tableLabTargets(lab: TableLabSpec, context: LabTargetsContext = {}): Record<string, TargetConfig> {
  const labRoot = context.labRoot ?? `labs/${lab.name}`;
  const { table } = lab.firmware;
  return {
    'boot-vm': {
      executor: '@ibft-lab/qemu-runner:boot-vm',
      cache: false,
      options: {
        // An inline spec is read from lab.json when the task runs: its secrets stay out of the project graph.
        table: table !== undefined ? { file: isAbsolute(table) ? table : posix.join(labRoot, table) } : { specFile: posix.join(labRoot, LAB_FILE), at: 'firmware.spec' },
        accel: lab.accel,
        consumers: lab.consumers,
        otherConsumers: lab.otherConsumers,
        ...(lab.memoryMiB ? { memoryMiB: lab.memoryMiB } : {}),
        deadlineSeconds: lab.deadlineSeconds,
      },
    },
  };
}

export function labTargets(spec: AnyLabSpec, context: LabTargetsContext = {}): Record<string, TargetConfig> {
  if (isTableLab(spec)) return tableLabTargets(spec, context);
  return ipxeLabTargets(spec, context);
}

function ipxeLabTargets(spec: LabSpec, context: LabTargetsContext): Record<string, TargetConfig> {
  const labRoot = context.labRoot ?? `labs/${spec.name}`;
  const lab = withOptionSecretRefs(spec, labRoot);
  const out = labOutputDir(lab.name);
  const built = lab.firmware.rom === 'build';
  const target = { ...targetConnection(lab), config: labDesiredState(lab, labRoot) };
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
      // The script does not depend on a LUN image's bytes: Nx need not hash (possibly gigabytes of) them.
      inputs: ['default', '^production', ...labImageFiles(lab).map((file) => `!{projectRoot}/${file}`)],
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
      // The lab's own boot sets the target up itself (setup-target's options as `target`): for the appliance
      // while the initiator starts, which Nx's one-task-after-another could not do.
      executor: '@ibft-lab/lab:boot-vm',
      cache: false,
      // target-vm is continuous: Nx starts boot-vm as soon as it has started it, and keeps the appliance up until boot-vm ends.
      dependsOn: ['gen-script', ...(built ? ['build-rom'] : []), ...(appliance ? ['target-vm'] : [])],
      options: {
        target,
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
        baseOverrides: LAB_ROM_OVERRIDES,
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
      options: targetVmOptions(lab, labRoot),
    };
  }
  return targets;
}
