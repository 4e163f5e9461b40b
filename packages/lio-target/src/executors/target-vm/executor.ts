import type { ExecutorContext } from '@nx/devkit';
import { rmSync } from 'node:fs';
import type { z } from 'zod';
import {
  APPLIANCE_ERRORS,
  APPLIANCE_PHASES,
  APPLIANCE_SERIAL_PREFIX,
  endpointFailurePath,
  endpointPath,
  PortInUse,
  removeEndpoint,
  resolveApplianceDisks,
  startAppliance,
  writeEndpoint,
  writeEndpointFailure,
  type RunningAppliance,
} from '../../lib/appliance';
import { dirname, join } from 'node:path';
import { calmLog, verboseFromEnv, whenParentGone, workspaceCacheDir } from '@ibft-lab/qemu-runner';
import { runExecutor } from '../run-executor';
import { optionsSchema } from './options';

/** Continuous: boots the LIO appliance, writes the endpoint, prints `ready`, serves until Nx stops it. */
export default async function targetVmExecutor(raw: unknown, context: ExecutorContext): Promise<{ success: boolean }> {
  return runExecutor('target-vm', optionsSchema, raw, async (options) => {
    const file = options.endpointFile ?? endpointPath(context.root, context.projectName ?? 'unknown');
    const consoleLog = calmLog({
      serialPrefix: APPLIANCE_SERIAL_PREFIX,
      phases: APPLIANCE_PHASES,
      errors: APPLIANCE_ERRORS,
      verbose: options.verbose || context.isVerbose || verboseFromEnv(),
      file: join(dirname(file), 'appliance-serial.log'),
      print: (line) => console.log(line),
    });
    rmSync(endpointFailurePath(file), { force: true });
    const appliance = await startLabAppliance(options, context.root, consoleLog.log).catch((error: Error) => {
      // setup-target, started beside us by Nx, reads this instead of waiting out its deadline.
      writeEndpointFailure(file, error.message);
      throw error;
    });
    writeEndpoint(file, appliance.endpoint);
    console.log(`LIO appliance: ssh 127.0.0.1:${appliance.endpoint.sshPort}, iSCSI 127.0.0.1:${appliance.endpoint.iscsiPort} (guests: ${appliance.endpoint.guestPortal.ip}:${appliance.endpoint.guestPortal.port}); endpoint ${file}`);
    console.log('ready');
    // The listeners stay attached: qemu-runner's registry re-raises the signal
    // (killing this process before it reports) when it finds no other listener.
    let done = () => undefined as void;
    const stopped = new Promise<void>((resolve) => (done = resolve));
    process.on('SIGTERM', done);
    process.on('SIGINT', done);
    void appliance.vm.exited.then(done);
    // Nx killed outright (kill -9) sends no signal: notice that our parent is gone instead.
    const stopWatching = whenParentGone(done);
    await stopped;
    stopWatching();
    removeEndpoint(file);
    await appliance.stop();
    console.log('LIO appliance stopped');
  }, context.root);
}

/** The lab's images resolved (an OS image built on first use), then the appliance booted with them. */
async function startLabAppliance(options: z.output<typeof optionsSchema>, workspaceRoot: string, log: (line: string) => void): Promise<RunningAppliance> {
  const disks = await resolveApplianceDisks(options.disks, { workspaceRoot, cacheDir: workspaceCacheDir(), log: (line) => console.log(line) });
  for (const [i, disk] of disks.entries()) console.log(`LIO appliance: disk ${i} ${disk.path} (${disk.format}, ${(disk.virtualBytes / 2 ** 20).toFixed(0)} MiB, copy-on-write)`);
  try {
    return await startAppliance({ memoryMiB: options.memoryMiB, readyDeadlineMs: options.readyTimeoutSeconds * 1000, disks, iscsiPort: options.iscsiHostPort, log });
  } catch (error) {
    if (error instanceof PortInUse && options.iscsiHostPortField) {
      throw new Error(`${options.iscsiHostPortField}: port ${error.port} on 127.0.0.1 is in use by another process; set ${options.iscsiHostPortField} to a free port (below 32768), or stop what holds it`);
    }
    throw error;
  }
}
