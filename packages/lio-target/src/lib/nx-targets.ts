// The Nx target configuration the `target` generator adds to a lab project.
// Plain data (no @nx/devkit), so it is unit-tested and reusable by a plugin.
import { derivedTargetIqn, type DesiredStateInput } from './model';

export function lioTargetConfigTemplate(lab: string, initiatorIqn: string): DesiredStateInput {
  return {
    lab,
    backstores: [{ kind: 'fileio', name: 'disk', path: `/var/tmp/ibft-lab-${lab}-disk.img`, sizeMiB: 64 }],
    targets: [
      {
        iqn: derivedTargetIqn(lab, 0),
        tpgs: [
          {
            tag: 1,
            attributes: { authentication: false, generate_node_acls: false, demo_mode_write_protect: false, cache_dynamic_acls: false },
            portals: [{ ip: '0.0.0.0', port: 3260 }],
            luns: [{ index: 0, backstore: 'disk' }],
            acls: [{ initiatorIqn, mappedLuns: [{ index: 0, tpgLun: 0, writeProtect: false }] }],
          },
        ],
      },
    ],
  };
}

export function lioTargetTargets(configFile: string, transport: 'appliance' | 'ssh' | 'local'): Record<string, Record<string, unknown>> {
  const common = { configFile, transport };
  const targets: Record<string, Record<string, unknown>> = {
    'setup-target': {
      executor: '@ibft-lab/lio-target:setup-target',
      options: common,
      cache: false,
      ...(transport === 'appliance' ? { dependsOn: ['target-vm'] } : {}),
      outputs: ['{workspaceRoot}/dist/labs/{projectName}/target/initiator.json'],
    },
    'teardown-target': { executor: '@ibft-lab/lio-target:teardown-target', options: common, cache: false },
    'target-status': { executor: '@ibft-lab/lio-target:target-status', options: common, cache: false },
  };
  if (transport === 'appliance') {
    targets['target-vm'] = { executor: '@ibft-lab/lio-target:target-vm', continuous: true, cache: false, options: {} };
  }
  return targets;
}
