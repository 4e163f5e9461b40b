import { z } from 'zod';

export const optionsSchema = z.object({
  endpointFile: z.string().optional().describe('Where to write the endpoint (default dist/labs/<project>/target/endpoint.json)'),
  memoryMiB: z.number().int().min(256).default(768).describe('Appliance memory in MiB'),
  readyTimeoutSeconds: z.number().int().positive().default(300).describe('Deadline for boot until targetcli answers over SSH'),
});
