import type { ExecutorContext } from '@nx/devkit';
import { rmSync } from 'node:fs';
import type { z } from 'zod';
import {
  APPLIANCE_ERRORS,
  APPLIANCE_PHASES,
  APPLIANCE_SERIAL_PREFIX,
  endpointAlive,
  endpointFailurePath,
  endpointPath,
  endpointSshOptions,
  PortInUse,
  readEndpoint,
  removeEndpoint,
  removeEndpointRestoring,
  resolveApplianceDisks,
  startAppliance,
  writeEndpoint,
  writeEndpointFailure,
  writeEndpointRestoring,
  type ApplianceEndpoint,
  type RunningAppliance,
} from '../../lib/appliance';
import { dirname, join } from 'node:path';
import { processAlive } from '@ibft-lab/cache';
import { calmLog, verboseFromEnv, whenParentGone, workspaceCacheDir } from '@ibft-lab/qemu-runner';
import { connectSsh } from '../../lib/transport';
import { runExecutor } from '../run-executor';
import { optionsSchema } from './options';

/** Resolves on SIGTERM/SIGINT, on `alsoWhen`, or when Nx (our parent) is gone. */
async function serveUntilStopped(alsoWhen: (done: () => void) => void): Promise<void> {
  // The listeners stay attached: qemu-runner's registry re-raises the signal
  // (killing this process before it reports) when it finds no other listener.
  let done = () => undefined as void;
  const stopped = new Promise<void>((resolve) => (done = resolve));
  process.on('SIGTERM', done);
  process.on('SIGINT', done);
  alsoWhen(done);
  // Nx killed outright (kill -9) sends no signal: notice that our parent is gone instead.
  const stopWatching = whenParentGone(done);
  await stopped;
  stopWatching();
}

/** An appliance another target-vm of this lab serves (left running in a terminal) and that answers SSH. */
async function keptAppliance(file: string): Promise<ApplianceEndpoint | undefined> {
  let endpoint: ApplianceEndpoint | undefined;
  try {
    endpoint = readEndpoint(file);
  } catch {
    return undefined;
  }
  if (!endpoint || endpoint.pid === process.pid || !endpointAlive(endpoint)) return undefined;
  try {
    const transport = await connectSsh(endpointSshOptions(endpoint));
    await transport.close();
    return endpoint;
  } catch {
    return undefined;
  }
}

/**
 * Continuous: boots the LIO appliance, writes the endpoint, prints `ready`,
 * serves until Nx stops it. When another target-vm of the lab already serves
 * one (`nx run <lab>:target-vm` kept running in a terminal), this run uses it
 * and leaves it running: the kept target serves every boot-vm of the lab.
 */
export default async function targetVmExecutor(raw: unknown, context: ExecutorContext): Promise<{ success: boolean }> {
  return runExecutor('target-vm', optionsSchema, raw, async (options) => {
    const file = options.endpointFile ?? endpointPath(context.root, context.projectName ?? 'unknown');
    const kept = await keptAppliance(file);
    if (kept) {
      console.log(`LIO appliance: the kept one of pid ${kept.pid} (ssh 127.0.0.1:${kept.sshPort}, iSCSI 127.0.0.1:${kept.iscsiPort}); endpoint ${file}`);
      console.log('ready');
      // The poll also keeps this process alive: it holds no VM of its own.
      let poll: NodeJS.Timeout | undefined;
      await serveUntilStopped((done) => (poll = setInterval(() => processAlive(kept.pid) || done(), 1000)));
      clearInterval(poll);
      console.log('LIO appliance: left running (it is kept by pid ' + kept.pid + ')');
      return;
    }
    const consoleLog = calmLog({
      serialPrefix: APPLIANCE_SERIAL_PREFIX,
      phases: APPLIANCE_PHASES,
      errors: APPLIANCE_ERRORS,
      verbose: options.verbose || context.isVerbose || verboseFromEnv(),
      file: join(dirname(file), 'appliance-serial.log'),
      print: (line) => console.log(line),
    });
    rmSync(endpointFailurePath(file), { force: true });
    const appliance = await startLabAppliance(options, context.root, consoleLog.log, () => writeEndpointRestoring(file)).catch((error: Error) => {
      // setup-target, started beside us by Nx, reads this instead of waiting out its deadline.
      writeEndpointFailure(file, error.message);
      removeEndpointRestoring(file);
      throw error;
    });
    writeEndpoint(file, appliance.endpoint);
    removeEndpointRestoring(file);
    console.log(`LIO appliance: ssh 127.0.0.1:${appliance.endpoint.sshPort}, iSCSI 127.0.0.1:${appliance.endpoint.iscsiPort} (guests: ${appliance.endpoint.guestPortal.ip}:${appliance.endpoint.guestPortal.port}); endpoint ${file}`);
    for (const segment of appliance.endpoint.segments ?? []) console.log(`LIO appliance: segment ${segment.name} at ${segment.ip}, initiators connect to ${segment.connect}`);
    console.log('ready');
    await serveUntilStopped((done) => void appliance.vm.exited.then(done));
    // Only our own endpoint: a later run may have replaced it after ours went stale.
    if (readEndpointQuietly(file)?.pid === process.pid) removeEndpoint(file);
    await appliance.stop();
    console.log('LIO appliance stopped');
  }, context.root);
}

function readEndpointQuietly(file: string): ApplianceEndpoint | undefined {
  try {
    return readEndpoint(file);
  } catch {
    return undefined;
  }
}

/** The lab's images resolved (an OS image built on first use), then the appliance booted with them. */
async function startLabAppliance(options: z.output<typeof optionsSchema>, workspaceRoot: string, log: (line: string) => void, onRestoring: () => void): Promise<RunningAppliance> {
  const disks = await resolveApplianceDisks(options.disks, { workspaceRoot, cacheDir: workspaceCacheDir(), log: (line) => console.log(line) });
  for (const [i, disk] of disks.entries()) console.log(`LIO appliance: disk ${i} ${disk.path} (${disk.format}, ${(disk.virtualBytes / 2 ** 20).toFixed(0)} MiB, copy-on-write)`);
  try {
    return await startAppliance({
      memoryMiB: options.memoryMiB,
      savedState: options.savedState,
      readyDeadlineMs: options.readyTimeoutSeconds * 1000,
      disks,
      iscsiPort: options.iscsiHostPort,
      segments: options.segments,
      log,
      onRestoring,
    });
  } catch (error) {
    if (error instanceof PortInUse && options.iscsiHostPortField) {
      throw new Error(`${options.iscsiHostPortField}: port ${error.port} on 127.0.0.1 is in use by another process; set ${options.iscsiHostPortField} to a free port (below 32768), or stop what holds it`);
    }
    throw error;
  }
}
