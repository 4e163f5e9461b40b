import type { ExecutorContext } from '@nx/devkit';
export default async function genScript(options: unknown, context: ExecutorContext) {
  console.log('hello from ts executor', context.projectName, options);
  return { success: true };
}
