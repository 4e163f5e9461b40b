import type { ExecutorContext } from '@nx/devkit';
import { targetStatus } from '../../lib/apply';
import { endpointPath } from '../../lib/appliance';
import { loadDesiredInput, openTarget } from '../../lib/connect-target';
import { parseDesiredState } from '../../lib/model';
import { runExecutor } from '../run-executor';
import { optionsSchema } from './options';

/** Prints the plan apply would run now; fails when the target drifted from the declaration. */
export default async function targetStatusExecutor(raw: unknown, context: ExecutorContext): Promise<{ success: boolean }> {
  return runExecutor('target-status', optionsSchema, raw, async (options) => {
    // Validate before connecting: a bad declaration must fail before any SSH connection or command.
    const desired = parseDesiredState(loadDesiredInput(options, context.root));
    const { transport } = await openTarget(options, endpointPath(context.root, context.projectName ?? 'unknown'), (l) => console.log(l), context.root);
    try {
      const status = await targetStatus(transport, desired, { images: { workspaceRoot: context.root } });
      console.log(status.inSync ? 'target-status: in sync' : status.planText);
      return status.inSync;
    } finally {
      await transport.close();
    }
  }, context.root);
}
