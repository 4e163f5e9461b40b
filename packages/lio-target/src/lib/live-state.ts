// `targetcli saveconfig FILE` output, parsed with rtslib-fb's own field names
// (rtslib_fb/root.py, target.py, tcm.py dump()). Unknown fields pass through:
// other rtslib versions add some, and we never write this back.
import { z } from 'zod';

const mappedLun = z.looseObject({
  index: z.number().int(),
  tpg_lun: z.number().int(),
  write_protect: z.boolean().default(false),
});

const nodeAcl = z.looseObject({
  node_wwn: z.string(),
  mapped_luns: z.array(mappedLun).default([]),
  chap_userid: z.string().optional(),
  chap_password: z.string().optional(),
  chap_mutual_userid: z.string().optional(),
  chap_mutual_password: z.string().optional(),
  attributes: z.record(z.string(), z.unknown()).optional(),
});

const lun = z.looseObject({ index: z.number().int(), storage_object: z.string(), alias: z.string().optional() });
const portal = z.looseObject({ ip_address: z.string(), port: z.number().int() });

const tpg = z.looseObject({
  tag: z.number().int(),
  enable: z.union([z.boolean(), z.number()]).transform(Boolean).default(true),
  attributes: z.record(z.string(), z.unknown()).default({}),
  parameters: z.record(z.string(), z.unknown()).default({}),
  luns: z.array(lun).default([]),
  node_acls: z.array(nodeAcl).default([]),
  portals: z.array(portal).default([]),
});

const target = z.looseObject({ wwn: z.string(), fabric: z.string(), tpgs: z.array(tpg).default([]) });

const storageObject = z.looseObject({
  name: z.string(),
  plugin: z.string(),
  dev: z.string().optional(),
  size: z.number().optional(),
  write_back: z.boolean().optional(),
  wwn: z.string().optional(),
});

const fabricModule = z.looseObject({
  name: z.string(),
  discovery_enable_auth: z.union([z.boolean(), z.number()]).transform(Boolean).optional(),
  discovery_userid: z.string().optional(),
  discovery_password: z.string().optional(),
  discovery_mutual_userid: z.string().optional(),
  discovery_mutual_password: z.string().optional(),
});

export const liveStateSchema = z.looseObject({
  storage_objects: z.array(storageObject).default([]),
  targets: z.array(target).default([]),
  fabric_modules: z.array(fabricModule).default([]),
});

export type LiveState = z.output<typeof liveStateSchema>;
export type LiveTarget = LiveState['targets'][number];
export type LiveTpg = LiveTarget['tpgs'][number];
export type LiveStorageObject = LiveState['storage_objects'][number];

export function parseLiveState(json: string | unknown): LiveState {
  const value = typeof json === 'string' ? JSON.parse(json || '{}') : json;
  const result = liveStateSchema.safeParse(value);
  if (!result.success) {
    throw new Error(`targetcli saveconfig output does not match rtslib's format: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return result.data;
}

export const EMPTY_LIVE_STATE: LiveState = { storage_objects: [], targets: [], fabric_modules: [] };
