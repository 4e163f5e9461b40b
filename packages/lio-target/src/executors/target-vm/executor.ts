import type { ExecutorContext } from '@nx/devkit';
import { APPLIANCE_ERRORS, APPLIANCE_PHASES, APPLIANCE_SERIAL_PREFIX, endpointPath, removeEndpoint, startAppliance, writeEndpoint } from '../../lib/appliance';
import { dirname, join } from 'node:path';
import { calmLog, verboseFromEnv, whenParentGone } from '@ibft-lab/qemu-runner';
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
    const appliance = await startAppliance({ memoryMiB: options.memoryMiB, readyDeadlineMs: options.readyTimeoutSeconds * 1000, segments: options.segments, log: consoleLog.log });
    writeEndpoint(file, appliance.endpoint);
    console.log(`LIO appliance: ssh 127.0.0.1:${appliance.endpoint.sshPort}, iSCSI 127.0.0.1:${appliance.endpoint.iscsiPort} (guests: ${appliance.endpoint.guestPortal.ip}:${appliance.endpoint.guestPortal.port}); endpoint ${file}`);
    for (const segment of appliance.endpoint.segments ?? []) console.log(`LIO appliance: segment ${segment.name} at ${segment.ip}, initiators connect to ${segment.connect}`);
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
