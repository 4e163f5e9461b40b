import type { ExecutorContext } from '@nx/devkit';
import { APPLIANCE_ERRORS, APPLIANCE_PHASES, APPLIANCE_SERIAL_PREFIX, endpointPath, PortInUse, removeEndpoint, resolveApplianceDisks, startAppliance, writeEndpoint } from '../../lib/appliance';
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
    const disks = await resolveApplianceDisks(options.disks, { workspaceRoot: context.root, cacheDir: workspaceCacheDir(), log: (line) => console.log(line) });
    for (const [i, disk] of disks.entries()) console.log(`LIO appliance: disk ${i} ${disk.path} (${disk.format}, ${(disk.virtualBytes / 2 ** 20).toFixed(0)} MiB, copy-on-write)`);
    const appliance = await startAppliance({
      memoryMiB: options.memoryMiB,
      readyDeadlineMs: options.readyTimeoutSeconds * 1000,
      disks,
      iscsiPort: options.iscsiHostPort,
      log: consoleLog.log,
    }).catch((error) => {
      if (error instanceof PortInUse && options.iscsiHostPortField) {
        throw new Error(`${options.iscsiHostPortField}: port ${error.port} on 127.0.0.1 is in use by another process; set ${options.iscsiHostPortField} to a free port (below 32768), or stop what holds it`);
      }
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
