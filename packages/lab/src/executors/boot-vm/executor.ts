// A lab's boot-vm: its target set up and its initiator booted in one task.
// With the LIO appliance reached through QEMU's relay, the initiator boots as
// soon as the appliance's endpoint is published (or its saved state is being
// restored), while SSH is opened and the target's plan applied: iPXE's login
// waits in a held relay until the target is ready (or the boot stops if it
// fails). Elsewhere (private segments, a published portal, SSH or this
// machine) the target is set up first, then the initiator boots.
import type { ExecutorContext } from '@nx/devkit';
import {
  APPLIANCE_GUEST_PORTAL,
  endpointPath,
  loadDesiredInput,
  openAppliance,
  openTarget,
  parseDesiredState,
  setUpTarget,
  waitForEndpoint,
  type ApplianceEndpoint,
  type OpenedTarget,
} from '@ibft-lab/lio-target';
import { projectsInRun, runBootVmTask, verboseFromEnv, whenParentGone, type BootVmParsed, type BootVmTaskContext } from '@ibft-lab/qemu-runner';
import { resolveSecretRefs } from '@ibft-lab/script-gen';
import { startHeldRelay } from '../../lib/held-relay';
import { optionsSchema } from './options';

export default async function labBootVm(raw: unknown, context: ExecutorContext): Promise<{ success: boolean }> {
  let parsed;
  try {
    const resolved = resolveSecretRefs(raw ?? {}, { baseDir: context.root, warn: (line) => console.warn(`boot-vm: ${line}`) });
    parsed = optionsSchema.safeParse(resolved);
  } catch (error) {
    console.error(`boot-vm: ${(error as Error).message}`);
    return { success: false };
  }
  if (!parsed.success) {
    for (const issue of parsed.error.issues) console.error(`boot-vm: ${issue.path.join('.') || '(options)'}: ${issue.message}`);
    return { success: false };
  }
  const { target, ...boot } = parsed.data;
  const project = context.projectName ?? 'lab';
  const verbose = context.isVerbose || verboseFromEnv();
  const log = (line: string) => console.log(line);
  // Nx killed outright (kill -9) sends no signal: notice that our parent is gone and stop.
  const parentGone = new AbortController();
  const stopWatching = whenParentGone(() => parentGone.abort());
  try {
    // Bad input is refused before anything waits or starts.
    const desired = parseDesiredState(loadDesiredInput(target, context.root));
    const setUp = (opened: OpenedTarget) =>
      setUpTarget(opened, desired, { ...target, logPlanSteps: target.verbose || verbose, sshHost: target.ssh?.host, workspaceRoot: context.root, project, log });
    const task: BootVmTaskContext = { workspaceRoot: context.root, project, verbose, projectsInRun: projectsInRun(context), signal: parentGone.signal };
    const relayed = target.transport === 'appliance' && !target.initiatorPortal && !boot.segmentNics.length && !target.dryRun;
    if (relayed) {
      const targetIqn = desired.targets[0]?.iqn;
      if (!targetIqn) throw new Error('target.config: the desired state declares no target; an initiator has nothing to log in to');
      const deadline = Date.now() + target.waitTimeoutSeconds * 1000;
      // The initiator starts once the appliance is published, or as soon as its target-vm restores it from
      // its saved state (it answers within seconds; iPXE's held login waits far longer): not during a cold boot.
      let restoring = () => undefined as void;
      const restoringSeen = new Promise<void>((resolve) => (restoring = resolve));
      const endpoint = waitForEndpoint(target.endpointFile ?? endpointPath(context.root, project), deadline, log, parentGone.signal, restoring);
      await Promise.race([endpoint, restoringSeen]);
      const open = (published: ApplianceEndpoint) => openAppliance(published, deadline, parentGone.signal);
      return { success: await overlapped(endpoint, open, targetIqn, setUp, boot, task, parentGone.signal) };
    }
    const opened = await openTarget(target, endpointPath(context.root, project), log, context.root, parentGone.signal);
    try {
      await setUp(opened);
    } finally {
      await opened.transport.close();
    }
    return { success: await runBootVmTask(boot, task) };
  } catch (error) {
    console.error(`boot-vm: ${(error as Error).message}`);
    return { success: false };
  } finally {
    stopWatching();
  }
}

/** The initiator boots while the appliance is published, SSH opened and the target set up; its login is held until the target is ready. */
async function overlapped(
  endpoint: Promise<ApplianceEndpoint>,
  open: (published: ApplianceEndpoint) => Promise<OpenedTarget>,
  targetIqn: string,
  setUp: (opened: OpenedTarget) => Promise<unknown>,
  boot: BootVmParsed,
  task: BootVmTaskContext,
  parentGone: AbortSignal,
): Promise<boolean> {
  const relay = await startHeldRelay();
  const stopBoot = new AbortController();
  parentGone.addEventListener('abort', () => stopBoot.abort(), { once: true });
  try {
    const setup = (async () => {
      const published = await endpoint;
      const opened = await open(published);
      try {
        await setUp(opened);
      } finally {
        await opened.transport.close();
      }
      return published;
    })().then(
      (published) => relay.open(published.iscsiPort),
      (error: unknown) => {
        relay.refuse();
        stopBoot.abort();
        throw error;
      },
    );
    const booted = runBootVmTask(boot, {
      ...task,
      signal: stopBoot.signal,
      access: {
        portal: { ...APPLIANCE_GUEST_PORTAL },
        targetIqn,
        relay: { guestIp: APPLIANCE_GUEST_PORTAL.ip, guestPort: APPLIANCE_GUEST_PORTAL.port, hostPort: relay.port },
      },
    });
    const [set, ran] = await Promise.allSettled([setup, booted]);
    if (set.status === 'rejected') throw new Error(`setup-target: ${(set.reason as Error).message}`);
    if (ran.status === 'rejected') throw ran.reason;
    return ran.value;
  } finally {
    await relay.close();
  }
}
