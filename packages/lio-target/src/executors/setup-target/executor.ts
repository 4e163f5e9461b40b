import type { ExecutorContext } from '@nx/devkit';
import { endpointPath } from '../../lib/appliance';
import { loadDesiredInput, openTarget } from '../../lib/connect-target';
import { parseDesiredState } from '../../lib/model';
import { setUpTarget } from '../../lib/set-up-target';
import { verboseFromEnv } from '@ibft-lab/qemu-runner';
import { runExecutor } from '../run-executor';
import { optionsSchema } from './options';

/** Waits for the target, plans, applies in one targetcli script, verifies, writes initiator.json. */
export default async function setupTargetExecutor(raw: unknown, context: ExecutorContext): Promise<{ success: boolean }> {
  return runExecutor('setup-target', optionsSchema, raw, async (options) => {
    const project = context.projectName ?? 'unknown';
    const desired = parseDesiredState(loadDesiredInput(options, context.root));
    const log = (line: string) => console.log(line);
    const opened = await openTarget(options, endpointPath(context.root, project), log, context.root);
    try {
      await setUpTarget(opened, desired, {
        ...options,
        logPlanSteps: options.verbose || context.isVerbose || verboseFromEnv(),
        sshHost: options.ssh?.host,
        workspaceRoot: context.root,
        project,
        log,
      });
    } finally {
      await opened.transport.close();
    }
  }, context.root);
}
