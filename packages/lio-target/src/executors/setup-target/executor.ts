import type { ExecutorContext } from '@nx/devkit';
import { applyDesiredState, startsText } from '../../lib/apply';
import { endpointPath } from '../../lib/appliance';
import { loadDesiredInput, openTarget } from '../../lib/connect-target';
import { initiatorInfo, initiatorInfoPath, writeInitiatorInfo } from '../../lib/initiator-info';
import { parseDesiredState } from '../../lib/model';
import { verboseFromEnv } from '@ibft-lab/qemu-runner';
import { runExecutor } from '../run-executor';
import { optionsSchema } from './options';

/** Waits for the target, plans, applies in one targetcli script, verifies, writes initiator.json. */
export default async function setupTargetExecutor(raw: unknown, context: ExecutorContext): Promise<{ success: boolean }> {
  return runExecutor('setup-target', optionsSchema, raw, async (options) => {
    const project = context.projectName ?? 'unknown';
    const desired = parseDesiredState(loadDesiredInput(options, context.root));
    const { transport, endpoint } = await openTarget(options, endpointPath(context.root, project), (l) => console.log(l), context.root);
    try {
      const report = await applyDesiredState(transport, desired, {
        persist: options.persist,
        dryRun: options.dryRun,
        log: (l) => console.log(l),
        logPlanSteps: options.dryRun || options.verbose || context.isVerbose || verboseFromEnv(),
        images: { workspaceRoot: context.root },
      });
      console.log(`setup-target: ${report.commandsRun} command(s), ${startsText(report)}, ${report.seconds.toFixed(1)} s`);
      if (!options.dryRun) {
        const file = options.initiatorFile ?? initiatorInfoPath(context.root, project);
        writeInitiatorInfo(file, initiatorInfo(desired, endpoint, options.ssh?.host, options.initiatorPortal));
        console.log(`setup-target: wrote ${file}`);
      }
    } finally {
      await transport.close();
    }
  }, context.root);
}
