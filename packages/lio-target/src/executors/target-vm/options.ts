import { z } from 'zod';

export const optionsSchema = z.object({
  endpointFile: z.string().optional().describe('Where to write the endpoint (default dist/labs/<project>/target/endpoint.json)'),
  memoryMiB: z.number().int().min(256).default(768).describe('Appliance memory in MiB'),
  readyTimeoutSeconds: z.number().int().positive().default(300).describe('Deadline for boot until targetcli answers over SSH'),
  segments: z
    .array(
      z.object({
        name: z.string().describe('Segment name'),
        ip: z.string().describe("The appliance's address on the segment (LIO's portal)"),
        prefix: z.number().int().describe('Prefix length of the segment'),
        vlan: z.number().int().optional().describe('802.1Q tag of the segment (the appliance uses eth<n>.<tag>)'),
        dhcp: z
          .object({
            poolStart: z.string(),
            poolEnd: z.string(),
            router: z.string().optional(),
            dns: z.array(z.string()).optional(),
            hosts: z.array(z.object({ mac: z.string(), ip: z.string(), hostname: z.string().optional(), rootPath: z.string().optional() })).optional(),
          })
          .optional()
          .describe('DHCP the appliance serves on the segment (dnsmasq): pool, router, DNS, fixed addresses by MAC with hostname and root-path'),
      }),
    )
    .default([])
    .describe('Private L2 segments to initiators (QEMU socket netdevs on host loopback); the lab derives them from network.segments'),
  verbose: z.boolean().default(false).describe("Stream the appliance's whole serial console (also: nx --verbose, IBFT_LAB_VERBOSE=1); by default one line per phase, errors at once, the console in dist/labs/<project>/target/appliance-serial.log"),
});
