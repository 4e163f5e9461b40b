import { z } from 'zod';
import { targetConnectionSchema } from '../../lib/connect-target';
import { desiredStateSourceSchema } from '../shared-options';

export const optionsSchema = targetConnectionSchema.extend(desiredStateSourceSchema.shape).extend({
  lab: z.string().optional().describe('Lab whose objects to remove (default: the lab named in config/configFile)'),
  dryRun: z.boolean().default(false).describe('Print what would be removed and change nothing'),
});
