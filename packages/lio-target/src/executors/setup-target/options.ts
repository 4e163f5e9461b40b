import { z } from 'zod';
import { targetOptionsSchema } from '../shared-options';

export const optionsSchema = targetOptionsSchema.extend({
  persist: z.boolean().default(false).describe('Also save the configuration on the target machine (targetcli saveconfig)'),
  dryRun: z.boolean().default(false).describe('Print the plan (secrets masked) and change nothing'),
  verbose: z.boolean().default(false).describe('Print every planned targetcli command (also: nx --verbose, IBFT_LAB_VERBOSE=1); by default only their count, unless dryRun'),
  initiatorFile: z.string().optional().describe('Where to write what the initiator needs (default dist/labs/<project>/target/initiator.json)'),
});
