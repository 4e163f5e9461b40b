import { z } from 'zod';
import { iscsiName } from '../../lib/model/names';

export const optionsSchema = z.object({
  project: z.string().min(1).describe('Lab project to add the LIO target to'),
  lab: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, "may hold only a-z, 0-9 and '-'")
    .optional()
    .describe('Lab name for object ownership (default: the project name)'),
  // Checked here: any string used to be written into lio-target.json, to fail later in setup-target.
  initiatorIqn: iscsiName.default('iqn.2010-04.org.ipxe:lab-initiator').describe('Initiator allowed in by the ACL'),
  transport: z.enum(['appliance', 'ssh', 'local']).default('appliance').describe('Where LIO runs'),
});
