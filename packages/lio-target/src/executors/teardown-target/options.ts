import { z } from 'zod';
import { targetConnectionSchema } from '../../lib/connect-target';
import { labName } from '../../lib/model/names';
import { desiredStateSourceSchema } from '../shared-options';

export const optionsSchema = targetConnectionSchema.extend(desiredStateSourceSchema.shape).extend({
  // Checked with the options, before the transport opens (it was checked only by teardownLab, after the SSH connection).
  lab: labName.optional().describe('Lab whose objects to remove (default: the lab named in config/configFile)'),
  dryRun: z.boolean().default(false).describe('Print what would be removed and change nothing'),
});
