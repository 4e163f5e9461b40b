// diff(desired, live, ledger) → ordered targetcli commands. Only objects this
// lab owns are touched: backstores named with the lab prefix and targets in
// the lab's ledger. Deletions come first (targets, then backstores), then
// creations in dependency order: backstores, targets, TPGs, portals, LUNs,
// ACLs, mapped LUNs, auth, attributes, enable.
import { ownedBackstoreName, ownedBackstorePrefix, rtslibPlugin, type Backstore, type FileioBackstore, type ResolvedDesiredState } from './model';
import type { LiveState, LiveTarget, LiveTpg } from './live-state';
import type { Ledger } from './ownership';

export interface PlanArg {
  key?: string;
  value: string;
  /** Masked in dry runs, logs and errors. */
  secret?: boolean;
}

export interface PlanStep {
  /** configshell path the command runs in, e.g. /iscsi/iqn…/tpg1/acls */
  path: string;
  command: string;
  args: PlanArg[];
  /** Why the step is needed, for the dry run. */
  reason: string;
}

export interface Plan {
  steps: PlanStep[];
  /** Targets and backing files this plan creates (to record in the ledger). */
  createsTargets: string[];
  createsFiles: string[];
  /** Image-backed fileio backstores this plan (re)creates: apply copies each one's image to its path first. */
  copiesImages: FileioBackstore[];
  deletesTargets: string[];
  setsDiscoveryAuth: boolean;
}


const MIB = 1024 * 1024;

export class OwnershipError extends Error {}

function arg(key: string, value: string | number | boolean, secret = false): PlanArg {
  return { key, value: String(value), secret };
}

function sameBackstore(want: Backstore, liveName: string, live: LiveState, ledger: Ledger): boolean | undefined {
  const so = live.storage_objects.find((o) => o.name === liveName);
  if (!so) return undefined;
  // rtslib-fb 2.1.7x dumps ramdisks as "ramdisk", older ones as "rd_mcp".
  if (so.plugin !== want.kind && so.plugin !== rtslibPlugin(want.kind)) return false;
  if (want.kind === 'fileio') {
    const sameFile = so.dev === want.path && Boolean(so.write_back) === want.writeBack;
    // An image-backed file is the image's copy: the same while the ledger says it was copied from these bytes.
    if (want.image) return sameFile && ledger.images[want.name] === want.image.sha256;
    return sameFile && so.size === (want.sizeMiB ?? 0) * MIB;
  }
  if (want.kind === 'block') return so.dev === want.device;
  return so.size === want.sizeMiB * MIB;
}

function createBackstoreStep(lab: string, want: Backstore): PlanStep {
  const name = ownedBackstoreName(lab, want.name);
  const args =
    want.kind === 'fileio'
      ? want.image
        ? // The file exists (apply copied the image there): targetcli takes its size.
          [arg('name', name), arg('file_or_dev', want.path), arg('write_back', want.writeBack)]
        : [arg('name', name), arg('file_or_dev', want.path), arg('size', `${want.sizeMiB}M`), arg('sparse', want.sparse), arg('write_back', want.writeBack)]
      : want.kind === 'block'
        ? [arg('name', name), arg('dev', want.device)]
        : [arg('name', name), arg('size', `${want.sizeMiB}M`)];
  return { path: `/backstores/${want.kind}`, command: 'create', args, reason: `backstore ${want.name} is missing` };
}

function liveBool(value: unknown): boolean {
  return value === true || value === 1 || value === '1';
}

/** What a TPG created by targetcli looks like before we touch it (targetcli-fb 2.1.53 defaults). */
function freshTpg(tag: number): LiveTpg {
  return {
    tag,
    enable: true,
    attributes: { authentication: 0 },
    parameters: {},
    luns: [],
    node_acls: [],
    portals: [{ ip_address: '0.0.0.0', port: 3260 }],
  };
}

export function plan(desired: ResolvedDesiredState, live: LiveState, ledger: Ledger): Plan {
  const lab = desired.lab;
  const prefix = ownedBackstorePrefix(lab);
  const owned = new Set(ledger.targets);
  const steps: PlanStep[] = [];
  const result: Plan = { steps, createsTargets: [], createsFiles: [], copiesImages: [], deletesTargets: [], setsDiscoveryAuth: false };
  // An image's bytes are known by their sha256 only: without it an image backstore would look unchanged forever.
  for (const b of desired.backstores) {
    if (b.kind === 'fileio' && b.image && !b.image.sha256) throw new Error(`backstore ${b.name}: its image's sha256 is not known yet (withImageDigests takes it from the file)`);
  }

  // Refuse, before any command, to adopt a target someone else made.
  for (const t of desired.targets) {
    if (live.targets.some((lt) => lt.wwn === t.iqn) && !owned.has(t.iqn)) {
      throw new OwnershipError(
        `target ${t.iqn} already exists on the machine and lab ${lab} did not create it; choose another iqn (or omit it to get ${lab}'s own) or remove that target by hand`,
      );
    }
  }

  // 1. Owned targets no longer declared.
  const desiredIqns = new Set(desired.targets.map((t) => t.iqn));
  for (const lt of live.targets) {
    if (lt.fabric === 'iscsi' && owned.has(lt.wwn) && !desiredIqns.has(lt.wwn)) {
      steps.push({ path: '/iscsi', command: 'delete', args: [arg('wwn', lt.wwn)], reason: `target ${lt.wwn} is no longer declared` });
      result.deletesTargets.push(lt.wwn);
    }
  }

  // 2. Backstores: delete owned ones not declared or declared differently (rtslib drops their LUNs too).
  const desiredByLiveName = new Map(desired.backstores.map((b) => [ownedBackstoreName(lab, b.name), b]));
  const recreated = new Set<string>();
  for (const so of live.storage_objects) {
    if (!so.name.startsWith(prefix)) continue;
    const want = desiredByLiveName.get(so.name);
    const kind = so.plugin === 'rd_mcp' ? 'ramdisk' : so.plugin;
    if (!want || sameBackstore(want, so.name, live, ledger) === false) {
      // Delete its LUNs in owned targets first: targetcli's tree keeps a stale
      // lunN node when the backstore goes first, and a later "create lun=N" fails.
      for (const lt of live.targets.filter((t) => owned.has(t.wwn) && desiredIqns.has(t.wwn))) {
        for (const ltpg of lt.tpgs) {
          for (const l of ltpg.luns.filter((x) => x.storage_object.split('/').pop() === so.name)) {
            steps.push({ path: `/iscsi/${lt.wwn}/tpg${ltpg.tag}/luns`, command: 'delete', args: [arg('lun', l.index)], reason: `LUN ${l.index} sits on backstore ${so.name}, which goes` });
          }
        }
      }
      steps.push({ path: `/backstores/${kind}`, command: 'delete', args: [arg('name', so.name)], reason: want ? `backstore ${want.name} differs from its declaration` : `backstore ${so.name} is no longer declared` });
      recreated.add(so.name);
    }
  }
  for (const want of desired.backstores) {
    const liveName = ownedBackstoreName(lab, want.name);
    if (sameBackstore(want, liveName, live, ledger) !== true) {
      steps.push(createBackstoreStep(lab, want));
      if (want.kind === 'fileio') result.createsFiles.push(want.path);
      if (want.kind === 'fileio' && want.image) result.copiesImages.push(want);
    }
  }
  const backstoreOf = (name: string) => desired.backstores.find((x) => x.name === name)!;
  const paths: BackstorePaths = {
    recorded: (name) => `/backstores/${backstoreOf(name).kind}/${ownedBackstoreName(lab, name)}`,
    ui: (name) => `/backstores/${backstoreOf(name).kind}/${ownedBackstoreName(lab, name)}`,
  };

  // 3. Targets and everything under them.
  for (const t of desired.targets) {
    let lt: LiveTarget | undefined = live.targets.find((x) => x.wwn === t.iqn);
    if (!lt) {
      steps.push({ path: '/iscsi', command: 'create', args: [arg('wwn', t.iqn)], reason: `target ${t.iqn} is missing` });
      result.createsTargets.push(t.iqn);
      lt = { wwn: t.iqn, fabric: 'iscsi', tpgs: [freshTpg(1)] };
    }
    const base = `/iscsi/${t.iqn}`;
    for (const ltpg of lt.tpgs) {
      if (!t.tpgs.some((tpg) => tpg.tag === ltpg.tag)) {
        steps.push({ path: base, command: 'delete', args: [arg('tag', ltpg.tag)], reason: `TPG ${ltpg.tag} is not declared` });
      }
    }
    for (const tpg of t.tpgs) {
      let ltpg = lt.tpgs.find((x) => x.tag === tpg.tag);
      if (!ltpg) {
        steps.push({ path: base, command: 'create', args: [arg('tag', tpg.tag)], reason: `TPG ${tpg.tag} is missing` });
        ltpg = freshTpg(tpg.tag);
      }
      planTpg(steps, `${base}/tpg${tpg.tag}`, tpg, ltpg, recreated, paths);
    }
  }

  // 4. Discovery auth is machine-wide: set only when declared, compare every field.
  if (desired.discoveryAuth) {
    const d = desired.discoveryAuth;
    const fm = live.fabric_modules.find((f) => f.name === 'iscsi');
    const same =
      fm &&
      fm.discovery_enable_auth === true &&
      fm.discovery_userid === d.userid &&
      fm.discovery_password === d.password &&
      (fm.discovery_mutual_userid ?? '') === (d.mutual?.userid ?? '') &&
      (fm.discovery_mutual_password ?? '') === (d.mutual?.password ?? '');
    if (!same) {
      const args = [arg('enable', 1), arg('userid', d.userid), arg('password', d.password, true)];
      if (d.mutual) args.push(arg('mutual_userid', d.mutual.userid), arg('mutual_password', d.mutual.password, true));
      steps.push({ path: '/iscsi', command: 'set discovery_auth', args, reason: 'discovery CHAP differs' });
      result.setsDiscoveryAuth = true;
    }
  } else if (ledger.discoveryAuth) {
    const fm = live.fabric_modules.find((f) => f.name === 'iscsi');
    if (fm?.discovery_enable_auth) {
      steps.push({ path: '/iscsi', command: 'set discovery_auth', args: [arg('enable', 0)], reason: 'discovery CHAP was set by this lab and is no longer declared' });
    }
  }
  return result;
}

interface BackstorePaths {
  recorded(name: string): string;
  ui(name: string): string;
}

type DesiredTpg = ResolvedDesiredState['targets'][number]['tpgs'][number];

function planTpg(
  steps: PlanStep[],
  path: string,
  tpg: DesiredTpg,
  live: LiveTpg,
  recreated: Set<string>,
  paths: BackstorePaths,
): void {
  const storagePathOf = paths.recorded;
  // Portals.
  const key = (ip: string, port: number) => `${ip}:${port}`;
  const wantPortals = new Set(tpg.portals.map((p) => key(p.ip, p.port)));
  const livePortals = new Set(live.portals.map((p) => key(p.ip_address, p.port)));
  for (const p of live.portals) {
    if (!wantPortals.has(key(p.ip_address, p.port))) {
      steps.push({ path: `${path}/portals`, command: 'delete', args: [arg('ip_address', p.ip_address), arg('ip_port', p.port)], reason: `portal ${key(p.ip_address, p.port)} is not declared` });
    }
  }
  for (const p of tpg.portals) {
    if (!livePortals.has(key(p.ip, p.port))) {
      steps.push({ path: `${path}/portals`, command: 'create', args: [arg('ip_address', p.ip), arg('ip_port', p.port)], reason: `portal ${key(p.ip, p.port)} is missing` });
    }
  }

  // LUNs (a LUN on a recreated backstore is gone already).
  const liveLuns = live.luns
    .filter((l) => !recreated.has(l.storage_object.split('/').pop() ?? ''))
    .map((l) => ({ ...l, storage_object: l.storage_object.replace('/backstores/rd_mcp/', '/backstores/ramdisk/') }));
  // A LUN that goes takes its mapped LUNs with it (rtslib deletes them).
  const lunsGone = new Set(live.luns.filter((l) => !liveLuns.some((x) => x.index === l.index)).map((l) => l.index));
  for (const l of liveLuns) {
    const want = tpg.luns.find((x) => x.index === l.index);
    if (!want || storagePathOf(want.backstore) !== l.storage_object) {
      steps.push({ path: `${path}/luns`, command: 'delete', args: [arg('lun', l.index)], reason: want ? `LUN ${l.index} points elsewhere` : `LUN ${l.index} is not declared` });
      lunsGone.add(l.index);
    }
  }
  for (const want of tpg.luns) {
    const l = liveLuns.find((x) => x.index === want.index);
    if (!l || storagePathOf(want.backstore) !== l.storage_object) {
      steps.push({
        path: `${path}/luns`,
        command: 'create',
        args: [arg('storage_object', paths.ui(want.backstore)), arg('lun', want.index), arg('add_mapped_luns', false)],
        reason: `LUN ${want.index} is missing`,
      });
    }
  }

  // ACLs.
  for (const acl of live.node_acls) {
    if (!tpg.acls.some((a) => a.initiatorIqn === acl.node_wwn)) {
      steps.push({ path: `${path}/acls`, command: 'delete', args: [arg('wwn', acl.node_wwn)], reason: `ACL ${acl.node_wwn} is not declared` });
    }
  }
  for (const want of tpg.acls) {
    let lacl = live.node_acls.find((a) => a.node_wwn === want.initiatorIqn);
    // configshell cannot carry an empty value to clear CHAP: drop and recreate the ACL instead.
    const dropsChap = lacl && ((lacl.chap_userid && !want.chap) || (lacl.chap_mutual_userid && !want.mutualChap));
    if (lacl && dropsChap) {
      steps.push({ path: `${path}/acls`, command: 'delete', args: [arg('wwn', want.initiatorIqn)], reason: `ACL ${want.initiatorIqn} must lose its CHAP` });
      lacl = undefined;
    }
    if (!lacl) {
      steps.push({ path: `${path}/acls`, command: 'create', args: [arg('wwn', want.initiatorIqn), arg('add_mapped_luns', false)], reason: `ACL ${want.initiatorIqn} is missing` });
      lacl = { node_wwn: want.initiatorIqn, mapped_luns: [] };
    }
    const aclPath = `${path}/acls/${want.initiatorIqn}`;
    const liveMapped = lacl.mapped_luns.filter((m) => !lunsGone.has(m.tpg_lun));
    for (const m of liveMapped) {
      const w = want.mappedLuns.find((x) => x.index === m.index);
      if (!w || w.tpgLun !== m.tpg_lun || w.writeProtect !== Boolean(m.write_protect)) {
        steps.push({ path: aclPath, command: 'delete', args: [arg('mapped_lun', m.index)], reason: `mapped LUN ${m.index} differs or is not declared` });
      }
    }
    for (const w of want.mappedLuns) {
      const m = liveMapped.find((x) => x.index === w.index);
      if (!m || w.tpgLun !== m.tpg_lun || w.writeProtect !== Boolean(m.write_protect)) {
        steps.push({
          path: aclPath,
          command: 'create',
          args: [arg('mapped_lun', w.index), arg('tpg_lun_or_backstore', w.tpgLun), arg('write_protect', w.writeProtect ? 1 : 0)],
          reason: `mapped LUN ${w.index} is missing`,
        });
      }
    }
    const authArgs: PlanArg[] = [];
    if (want.chap && (lacl.chap_userid !== want.chap.userid || lacl.chap_password !== want.chap.password)) {
      authArgs.push(arg('userid', want.chap.userid), arg('password', want.chap.password, true));
    }
    if (want.mutualChap && (lacl.chap_mutual_userid !== want.mutualChap.userid || lacl.chap_mutual_password !== want.mutualChap.password)) {
      authArgs.push(arg('mutual_userid', want.mutualChap.userid), arg('mutual_password', want.mutualChap.password, true));
    }
    if (authArgs.length) steps.push({ path: aclPath, command: 'set auth', args: authArgs, reason: `CHAP of ACL ${want.initiatorIqn} differs` });
  }

  // Attributes (rtslib dumps them as 0/1).
  const attrArgs: PlanArg[] = [];
  for (const [name, value] of Object.entries(tpg.attributes)) {
    if (liveBool(live.attributes[name]) !== value || live.attributes[name] === undefined) attrArgs.push(arg(name, value ? 1 : 0));
  }
  if (attrArgs.length) steps.push({ path, command: 'set attribute', args: attrArgs, reason: 'TPG attributes differ' });
  if (!live.enable) steps.push({ path, command: 'enable', args: [], reason: 'TPG is disabled' });
}

/** One targetcli line. Secrets are masked unless `reveal` (only for the script piped to targetcli). */
export function renderStep(step: PlanStep, reveal = false): string {
  const args = step.args.map((a) => {
    const value = a.secret && !reveal ? '********' : a.value;
    return a.key ? `${a.key}=${value}` : value;
  });
  return [step.path, step.command, ...args].join(' ');
}

/** The dry run: one line per step with its reason; secrets masked. */
export function formatPlan(p: Plan): string {
  if (p.steps.length === 0) return 'LIO plan: nothing to do';
  const width = String(p.steps.length).length;
  return [
    `LIO plan: ${p.steps.length} command(s)`,
    ...p.steps.map((s, i) => `${String(i + 1).padStart(width)}. ${renderStep(s)}    # ${s.reason}`),
  ].join('\n');
}
