// The declared LIO configuration of one lab, in rtslib's object model:
// backstores, then iSCSI targets → TPGs → portals, LUNs, ACLs → mapped LUNs.
import { z } from 'zod';
import { parseOrExplain } from '../zod-errors';
import { chapSecret, chapUserid, ipv4, iscsiName, labName, objectName, safePath } from './names';

const chapCredentials = z.object({
  userid: chapUserid.describe('CHAP user name the initiator presents'),
  password: chapSecret.describe('CHAP secret (12+ characters; never logged)'),
});

/** A local image a fileio backstore starts from (uploaded to the machine once, see remote-image.ts). */
const backstoreImage = z
  .object({
    path: z.string().min(1).describe('The image file on this machine (raw); read only, never written'),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (sha256sum of the image)')
      .optional()
      .describe('sha256 of the image: what the machine must hold; default: taken from the file when the task runs (remembered while its size and times are unchanged)'),
  })
  .strict();

const fileioBackstore = z
  .object({
    kind: z.literal('fileio'),
    name: objectName.describe('Backstore name within the lab'),
    path: safePath.describe('Backing file on the target machine'),
    sizeMiB: z.number().int().positive().optional().describe('Size of the backing file in MiB (with image: the image\'s size, leave out)'),
    sparse: z.boolean().default(true).describe('Create the backing file sparse'),
    writeBack: z.boolean().default(false).describe('Use the page cache (write-back) instead of write-through'),
    image: backstoreImage
      .optional()
      .describe('Start from this local image: uploaded once beside path (<path>.source, checked by sha256, reused while unchanged) and copied to path when the backstore is made'),
  })
  .superRefine((b, ctx) => {
    if (b.image && b.sizeMiB !== undefined) ctx.addIssue({ code: 'custom', path: ['sizeMiB'], message: 'must be left out with image (the backing file is the image, at its own size)' });
    if (!b.image && b.sizeMiB === undefined) ctx.addIssue({ code: 'custom', path: ['sizeMiB'], message: 'is required (or image: a local image to start from)' });
  });

const blockBackstore = z.object({
  kind: z.literal('block'),
  name: objectName,
  device: safePath.describe('Block device on the target machine, e.g. /dev/vdb'),
});

const ramdiskBackstore = z.object({
  kind: z.literal('ramdisk'),
  name: objectName,
  sizeMiB: z.number().int().positive(),
});

export const backstoreSchema = z.discriminatedUnion('kind', [fileioBackstore, blockBackstore, ramdiskBackstore]);

const mappedLunSchema = z.object({
  index: z.number().int().min(0).max(65535).describe('LUN number the initiator sees'),
  tpgLun: z.number().int().min(0).max(65535).describe('TPG LUN it maps to'),
  writeProtect: z.boolean().default(false),
});

const aclSchema = z.object({
  initiatorIqn: iscsiName.describe('Initiator name allowed in'),
  mappedLuns: z.array(mappedLunSchema).default([]),
  chap: chapCredentials.optional().describe('One-way CHAP: the initiator authenticates to the target'),
  mutualChap: chapCredentials.optional().describe('Mutual CHAP: the target authenticates back to the initiator'),
});

const tpgAttributesSchema = z.object({
  authentication: z.boolean().default(false),
  generate_node_acls: z.boolean().default(false),
  demo_mode_write_protect: z.boolean().default(false),
  cache_dynamic_acls: z.boolean().default(false),
});

const portalSchema = z.object({ ip: ipv4.default('0.0.0.0'), port: z.number().int().min(1).max(65535).default(3260) });

const tpgSchema = z.object({
  tag: z.number().int().min(1).max(65535).default(1),
  attributes: tpgAttributesSchema.prefault({}),
  portals: z.array(portalSchema).default([{ ip: '0.0.0.0', port: 3260 }]),
  luns: z.array(z.object({ index: z.number().int().min(0).max(65535), backstore: objectName })).default([]),
  acls: z.array(aclSchema).default([]),
});

const targetSchema = z.object({
  iqn: iscsiName.optional().describe('Target IQN; derived stably from the lab name when omitted'),
  // prefault: the default goes through the schema, so the TPG gets its own defaults too.
  tpgs: z.array(tpgSchema).min(1).prefault([{}]),
});

export const desiredStateSchema = z
  .object({
    lab: labName.describe('Lab name: prefixes every backstore this lab owns'),
    backstores: z.array(backstoreSchema).default([]),
    targets: z.array(targetSchema).default([]),
    discoveryAuth: z
      .object({ userid: chapUserid, password: chapSecret, mutual: chapCredentials.optional() })
      .optional()
      .describe('CHAP for SendTargets discovery (machine-wide: set only when declared)'),
  })
  .superRefine((state, ctx) => {
    const names = new Set<string>();
    state.backstores.forEach((b, i) => {
      if (names.has(b.name)) ctx.addIssue({ code: 'custom', path: ['backstores', i, 'name'], message: `repeats backstore ${b.name}` });
      names.add(b.name);
    });
    state.targets.forEach((t, ti) =>
      t.tpgs.forEach((tpg, pi) => {
        const lunIndexes = new Set(tpg.luns.map((l) => l.index));
        tpg.luns.forEach((lun, li) => {
          if (!names.has(lun.backstore)) {
            ctx.addIssue({
              code: 'custom',
              path: ['targets', ti, 'tpgs', pi, 'luns', li, 'backstore'],
              message: `names backstore ${lun.backstore}, which backstores[] does not declare`,
            });
          }
        });
        tpg.acls.forEach((acl, ai) => {
          if (acl.mutualChap && !acl.chap) {
            ctx.addIssue({ code: 'custom', path: ['targets', ti, 'tpgs', pi, 'acls', ai, 'mutualChap'], message: 'needs chap as well (mutual CHAP is on top of one-way CHAP)' });
          }
          acl.mappedLuns.forEach((m, mi) => {
            if (!lunIndexes.has(m.tpgLun)) {
              ctx.addIssue({
                code: 'custom',
                path: ['targets', ti, 'tpgs', pi, 'acls', ai, 'mappedLuns', mi, 'tpgLun'],
                message: `maps TPG LUN ${m.tpgLun}, which this TPG's luns[] does not declare`,
              });
            }
          });
        });
      }),
    );
  });

export type DesiredStateInput = z.input<typeof desiredStateSchema>;
export type DesiredState = z.output<typeof desiredStateSchema>;
export type Backstore = z.output<typeof backstoreSchema>;
export type FileioBackstore = Extract<Backstore, { kind: 'fileio' }>;

/** Where a fileio backstore's image is kept on the machine: beside its backing file, which is copied from it. */
export function imageSourcePath(backstore: FileioBackstore): string {
  return `${backstore.path}.source`;
}
export type ChapCredentials = z.output<typeof chapCredentials>;

/** A stable target IQN for a lab's n-th target, so re-runs find the same object. */
export function derivedTargetIqn(lab: string, index: number): string {
  return `iqn.2024-01.org.ibft-lab:${lab}${index === 0 ? '' : `-${index}`}`;
}

/** The name a lab's backstore has on the machine: the prefix marks it as ours. */
export function ownedBackstorePrefix(lab: string): string {
  return `ibftlab_${lab}_`;
}

export function ownedBackstoreName(lab: string, name: string): string {
  return `${ownedBackstorePrefix(lab)}${name}`;
}

export function rtslibPlugin(kind: Backstore['kind']): string {
  return kind === 'ramdisk' ? 'rd_mcp' : kind;
}

/** Parses and validates; errors name each bad field (never a secret's value) and what to do. */
/** Desired state after parsing: every target has its IQN (given or derived). */
export type ResolvedDesiredState = DesiredState & { targets: Array<DesiredState['targets'][number] & { iqn: string }> };

export function parseDesiredState(input: unknown): ResolvedDesiredState {
  const state = parseOrExplain(desiredStateSchema, input, 'LIO desired state');
  return { ...state, targets: state.targets.map((t, i) => ({ ...t, iqn: t.iqn ?? derivedTargetIqn(state.lab, i) })) };
}
