// Options the setup/teardown/status executors share: where LIO runs and what it should hold.
import { z } from 'zod';
import { targetConnectionSchema } from '../lib/connect-target';
import { ipv4 } from '../lib/model/names';

export const desiredStateSourceSchema = z.object({
  config: z.record(z.string(), z.unknown()).optional().describe('The LIO desired state inline (lab, backstores, targets, discoveryAuth)'),
  configFile: z.string().optional().describe('A JSON file with the LIO desired state, relative to the workspace root'),
});

export const targetOptionsSchema = targetConnectionSchema.extend(desiredStateSourceSchema.shape).extend({
  initiatorPortal: z
    // ipv4, not any string: the address lands in initiator.json and from there in boot-vm's checks.
    .object({ ip: ipv4.describe('Address'), port: z.number().int().min(1).max(65535).describe('TCP port') })
    .optional()
    .describe("The portal as the initiator reaches it, for initiator.json (default: the declared portal, 0.0.0.0 read as the SSH host; the appliance's is fixed)"),
});
