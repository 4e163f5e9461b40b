import { z } from 'zod';

const diskSchema = z
  .object({
    image: z
      .union([
        z.object({ path: z.string().min(1).describe('A raw or qcow2 image, relative to the workspace root (never written)') }).strict(),
        z.object({ os: z.string().min(1).describe("An OS image recipe (qemu-runner's os-image recipes), built on first use and cached") }).strict(),
      ])
      .describe('The image'),
    field: z.string().optional().describe("Where the user declared it (e.g. lab.json's luns[0].image), named in errors"),
  })
  .strict();

export const optionsSchema = z.object({
  endpointFile: z.string().optional().describe('Where to write the endpoint (default dist/labs/<project>/target/endpoint.json)'),
  memoryMiB: z.number().int().min(256).default(768).describe('Appliance memory in MiB'),
  readyTimeoutSeconds: z.number().int().positive().default(300).describe('Deadline for boot until targetcli answers over SSH'),
  disks: z
    .array(diskSchema)
    .max(26)
    .default([])
    .describe('Disk images the appliance serves copy-on-write as /dev/vda, /dev/vdb, … (block backstores); the files are never written'),
  iscsiHostPort: z
    .number()
    .int()
    .min(1024)
    .max(65535)
    .optional()
    .describe("Publish the appliance's iSCSI portal on this host loopback port (initiators reach it at 10.0.2.2:<port>); default a free port"),
  iscsiHostPortField: z.string().optional().describe("Where the user declared iscsiHostPort (e.g. lab.json's target.hostPort), named when the port is busy"),
  savedState: z
    .boolean()
    .default(true)
    .describe("Restore the appliance from its saved state (about 1 s; saved in the cache after the first boot, keyed by image, QEMU and devices); false always boots it"),
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
