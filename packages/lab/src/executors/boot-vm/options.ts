import { bootVmOptionsSchema } from '@ibft-lab/qemu-runner';
import { setupTargetOptionsSchema } from '@ibft-lab/lio-target';

export const optionsSchema = bootVmOptionsSchema
  .extend({
    target: setupTargetOptionsSchema.describe("The lab's target, set up by this boot before the initiator logs in (setup-target's options)."),
  })
  .describe("Set the lab's target up and boot its initiator in QEMU (for the LIO appliance at once, its login waiting for the target), read its iBFT back and check it.");
