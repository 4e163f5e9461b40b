import { z } from 'zod';

export const optionsSchema = z.object({
  endpointFile: z.string().optional().describe('Where to write the endpoint (default dist/labs/<project>/target/endpoint.json)'),
  memoryMiB: z.number().int().min(256).default(768).describe('Appliance memory in MiB'),
  readyTimeoutSeconds: z.number().int().positive().default(300).describe('Deadline for boot until targetcli answers over SSH'),
  savedState: z
    .boolean()
    .default(true)
    .describe("Restore the appliance from its saved state (about 1 s; saved in the cache after the first boot, keyed by image, QEMU and devices); false always boots it"),
  verbose: z.boolean().default(false).describe("Stream the appliance's whole serial console (also: nx --verbose, IBFT_LAB_VERBOSE=1); by default one line per phase, errors at once, the console in dist/labs/<project>/target/appliance-serial.log"),
});
