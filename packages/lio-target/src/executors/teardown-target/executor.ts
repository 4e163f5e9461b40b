import type { ExecutorContext } from '@nx/devkit';
import { teardownLab } from '../../lib/apply';
import { endpointPath } from '../../lib/appliance';
import { loadDesiredInput, openTarget } from '../../lib/connect-target';
import { parseDesiredState } from '../../lib/model';
import { runExecutor } from '../run-executor';
import { optionsSchema } from './options';

/** Removes exactly what the lab owns on the target machine (idempotent). */
export default async function teardownTargetExecutor(raw: unknown, context: ExecutorContext): Promise<{ success: boolean }> {
  return runExecutor('teardown-target', optionsSchema, raw, async (options) => {
    const lab = options.lab ?? parseDesiredState(loadDesiredInput(options, context.root)).lab;
    const { transport } = await openTarget(options, endpointPath(context.root, context.projectName ?? 'unknown'), (l) => console.log(l), context.root);
    try {
      const report = await teardownLab(transport, lab, { dryRun: options.dryRun, log: (l) => console.log(l) });
      console.log(`teardown-target: ${report.commandsRun} command(s); removed files: ${report.removedFiles.join(', ') || 'none'}`);
    } finally {
      await transport.close();
    }
  }, context.root);
}
