// apply = read live state → plan → one piped targetcli script → read again →
// re-plan must be empty (piped targetcli exits 0 even when a line failed).
// teardown = the same with an empty desired state, then the backing files the
// lab created. The ledger on the machine records what the lab owns.
import type { LiveState } from './live-state';
import { dirname, basename } from 'node:path';
import { imageSourcePath, ownedBackstorePrefix, parseDesiredState, type FileioBackstore, type ResolvedDesiredState } from './model';
import { ensureRemoteImage } from './remote-image';
import { withImageDigests, type ImageDigestOptions } from './image-digest';
import { hostname } from 'node:os';
import { ledgerPath, lockPath, parseLedger, type Ledger } from './ownership';
import { formatPlan, plan, renderStep, type Plan } from './plan';
import { processAlive } from '@ibft-lab/cache';
import { maskSecrets, readLiveState, runTargetcliScript, targetcliSession, type TargetcliSession } from './targetcli';
import type { Transport } from './transport';

export interface ApplyOptions {
  /** Write /etc/rtslib-fb-target/saveconfig.json so the config survives a reboot. */
  persist?: boolean;
  /** Plan only; run no changing command. */
  dryRun?: boolean;
  log?: (line: string) => void;
  /** Log each planned command (default), or only the plan's first line ("LIO plan: N command(s)"). */
  logPlanSteps?: boolean;
  /** Images declared by path alone: where their paths are relative to and their digests are remembered. */
  images?: Omit<ImageDigestOptions, 'log'>;
}

export interface ApplyReport {
  plan: Plan;
  /** The dry-run text of the plan (secrets masked). */
  planText: string;
  commandsRun: number;
  targetcliStarts: number;
  /** Requests the machine's LIO agent answered instead (the appliance's warm targetcli: no start each). */
  agentRequests: number;
  /** Why the machine's LIO agent was not used, when the transport named one. */
  agentUnreachable?: string;
  /**
   * Where the verifying re-plan read the state: the saveconfig the apply's own targetcli ran last
   * (no second python start), the LIO agent's dump right after its run, or a fresh rtslib read when
   * the script did not get that far; null without changes.
   */
  verifiedFrom: 'targetcli-saveconfig' | 'lio-agent' | 'rtslib-read' | null;
  seconds: number;
}

export class ApplyVerificationError extends Error {}
export class LabLockedError extends Error {}

/** A lock older than this belongs to a run that died (a normal apply takes seconds). */
const STALE_LOCK_SECONDS = 15 * 60;
/** Labs this process is changing right now (a lock of ours not in here is left from a dropped connection). */
const locksHeldHere = new Set<string>();

/** Is the run that wrote `owner` certainly gone? */
function holderGone(owner: string, ageSeconds: number, lab: string): boolean {
  if (ageSeconds > STALE_LOCK_SECONDS) return true;
  const match = /^host=(\S+) pid=(\d+) /.exec(owner);
  if (!match || match[1] !== hostname()) return false;
  const pid = Number(match[2]);
  return pid === process.pid ? !locksHeldHere.has(lab) : !processAlive(pid);
}

/**
 * Runs `body` holding the lab's lock on the machine (an atomic mkdir). A second
 * run of the same lab, from anywhere, fails at once naming the holder; a lock
 * left by a run that died (or lost its connection) is taken over.
 */
async function withLabLock<T>(transport: Transport, lab: string, log: (line: string) => void, body: () => Promise<T>): Promise<T> {
  const path = lockPath(lab);
  const owner = `host=${hostname()} pid=${process.pid} since=${new Date().toISOString()}`;
  const take = async () =>
    (await transport.run(['sh', '-c', 'mkdir -p "$(dirname "$1")" && mkdir "$1" 2>/dev/null && printf %s "$2" > "$1/owner"', 'sh', path, owner])).code === 0;
  if (!(await take())) {
    const held = await transport.run(['sh', '-c', 'echo $(( $(date +%s) - $(stat -c %Y "$1") )); cat "$1/owner" 2>/dev/null', 'sh', path]);
    const [age, ...rest] = held.stdout.split('\n');
    const holder = rest.join(' ').trim();
    const gone = holderGone(holder, Number(age), lab);
    if (gone) log(`lab ${lab}: taking over the lock of a run that is gone (${holder || 'no owner recorded'})`);
    if (!gone || !(await retake())) {
      throw new LabLockedError(
        `lab ${lab} is being changed on ${transport.description} by another run (${holder || 'owner unknown'}); ` +
          `wait for it to finish, or if that run died, remove ${path} there`,
      );
    }
  }
  locksHeldHere.add(lab);
  try {
    return await body();
  } finally {
    locksHeldHere.delete(lab);
    await transport.run(['rm', '-rf', '--', path]).catch(() => undefined);
  }

  async function retake(): Promise<boolean> {
    await transport.run(['rm', '-rf', '--', path]);
    return take();
  }
}

function secretsOf(desired: ResolvedDesiredState): string[] {
  const secrets: string[] = [];
  if (desired.discoveryAuth) secrets.push(desired.discoveryAuth.password, desired.discoveryAuth.mutual?.password ?? '');
  for (const t of desired.targets) for (const tpg of t.tpgs) for (const acl of tpg.acls) secrets.push(acl.chap?.password ?? '', acl.mutualChap?.password ?? '');
  return secrets.filter(Boolean);
}

async function readLedger(transport: Transport, lab: string): Promise<Ledger> {
  return parseLedger(lab, await transport.readFile(ledgerPath(lab)));
}

async function writeLedger(transport: Transport, ledger: Ledger): Promise<void> {
  await transport.writeFile(ledgerPath(ledger.lab), `${JSON.stringify(ledger, null, 2)}\n`);
}

async function existingPaths(transport: Transport, paths: string[]): Promise<Set<string>> {
  const existing = new Set<string>();
  for (const path of paths) if ((await transport.run(['test', '-e', path])).code === 0) existing.add(path);
  return existing;
}

/** Brings the machine to `desiredInput` (validated before any command runs). */
export async function applyDesiredState(transport: Transport, desiredInput: unknown, options: ApplyOptions = {}): Promise<ApplyReport> {
  const desired = parseDesiredState(desiredInput);
  return converge(transport, desired, options);
}

async function converge(transport: Transport, desired: ResolvedDesiredState, options: ApplyOptions): Promise<ApplyReport> {
  const log = options.log ?? (() => undefined);
  if (options.dryRun) return convergeLocked(transport, desired, options);
  return withLabLock(transport, desired.lab, log, () => convergeLocked(transport, desired, options));
}

async function convergeLocked(transport: Transport, declared: ResolvedDesiredState, options: ApplyOptions): Promise<ApplyReport> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const session = targetcliSession(transport);
  const { desired, fromFile } = await withImageDigests(declared, { ...options.images, log });
  let ledger = await readLedger(transport, desired.lab);
  if (!options.dryRun) ledger = await ensureBackstoreImages(transport, desired, ledger, log, fromFile);
  const live = await readLiveState(session);
  const first = plan(desired, live, ledger);
  const planText = formatPlan(first);
  log(options.logPlanSteps === false ? planText.split('\n')[0] : planText);
  let verifiedFrom: ApplyReport['verifiedFrom'] = null;
  const report = (commandsRun: number): ApplyReport => ({
    plan: first,
    planText,
    commandsRun,
    targetcliStarts: session.starts,
    agentRequests: session.agentRequests,
    ...(session.agentUnreachable ? { agentUnreachable: session.agentUnreachable } : {}),
    verifiedFrom,
    seconds: (Date.now() - started) / 1000,
  });
  if (options.dryRun) return report(0);
  if (first.steps.length === 0) {
    if (options.persist) await runTargetcliScript(session, ['saveconfig']);
    return report(0);
  }

  // Record ownership before creating, so a half-applied run can still be torn down.
  const preexisting = await existingPaths(transport, first.createsFiles);
  const owned: Ledger = {
    ...ledger,
    targets: [...new Set([...ledger.targets, ...first.createsTargets])],
    files: [...new Set([...ledger.files, ...first.createsFiles.filter((p) => !preexisting.has(p))])],
    discoveryAuth: ledger.discoveryAuth || first.setsDiscoveryAuth,
  };
  await writeLedger(transport, owned);
  if (first.copiesImages.length) {
    await copyImages(transport, first.copiesImages, log);
    // Only now: a copy that failed leaves the ledger saying the file still holds the old bytes.
    owned.images = { ...owned.images, ...Object.fromEntries(first.copiesImages.map((b) => [b.name, b.image!.sha256!])) };
    await writeLedger(transport, owned);
  }

  const lines = first.steps.map((step) => renderStep(step, true));
  if (options.persist) lines.push('saveconfig');
  const { output, stateAfter } = await runTargetcliScript(session, lines, { saveStateAfter: true });
  const secrets = secretsOf(desired);

  verifiedFrom = !stateAfter ? 'rtslib-read' : session.agentRequests && !session.agentUnreachable ? 'lio-agent' : 'targetcli-saveconfig';
  try {
    await verify(session, desired, owned, output, secrets, stateAfter);
  } catch (error) {
    // A first apply that did not take (e.g. no space for a backing file) is
    // undone, so the machine is left as it was, not half configured.
    const ownedNothingBefore = ledger.targets.length === 0 && ledger.files.length === 0 && !ledger.discoveryAuth;
    if (ownedNothingBefore && !hasOwnedBackstores(live, desired.lab)) {
      await undoFirstApply(transport, session, desired.lab, owned, log);
      throw new ApplyVerificationError(`${(error as Error).message}\nNothing was left behind: the lab's objects and files were removed again.`);
    }
    throw error;
  }
  const deleted = new Set(first.deletesTargets);
  if (deleted.size) await writeLedger(transport, { ...owned, targets: owned.targets.filter((t) => !deleted.has(t)) });
  log(`applied ${first.steps.length} command(s) with ${startsText(report(first.steps.length))}`);
  // Where the agent's time went, for --verbose and the bench (fileio create is the slow line under TCG).
  if (options.logPlanSteps !== false) for (const run of session.agentSeconds) log(`LIO agent: tree refresh ${run.refresh.toFixed(2)} s, lines ${run.lines.map((s) => s.toFixed(2)).join(' + ')} s, dump ${run.dump.toFixed(2)} s`);
  return report(first.steps.length);
}

/** "1 targetcli start(s)", or what the agent did instead (and why it was not reached, when it was not). */
export function startsText(report: Pick<ApplyReport, 'targetcliStarts' | 'agentRequests' | 'agentUnreachable'>): string {
  const agent = report.agentRequests ? ` (${report.agentRequests} request(s) to the LIO agent's warm targetcli)` : '';
  const missed = report.agentUnreachable ? ` (the LIO agent was not reached: ${report.agentUnreachable})` : '';
  return `${report.targetcliStarts} targetcli start(s)${agent}${missed}`;
}

/** Plans again from the state the script left (as targetcli saved it at its end, else read anew): nothing may be left to do. */
async function verify(session: TargetcliSession, desired: ResolvedDesiredState, ledger: Ledger, output: string, secrets: string[], stateAfter?: LiveState): Promise<void> {
  const again = plan(desired, stateAfter ?? (await readLiveState(session)), ledger);
  if (again.steps.length === 0) return;
  const errors = maskSecrets(output, secrets)
    .split('\n')
    .filter((line) => /error|failed|cannot|could not|no such|invalid/i.test(line) && !/preferences file/.test(line))
    .slice(0, 20);
  throw new ApplyVerificationError(
    [
      `LIO on ${session.transport.description} did not take ${again.steps.length} change(s):`,
      formatPlan(again),
      ...(errors.length ? ['targetcli said:', ...errors.map((l) => `  ${l.trim()}`)] : []),
    ].join('\n'),
  );
}

/**
 * Each image-backed backstore's image on the machine (<path>.source), sent
 * only when the machine does not hold these bytes yet. Recorded in the
 * ledger before anything is sent, so teardown removes even a cut-off upload.
 */
async function ensureBackstoreImages(transport: Transport, desired: ResolvedDesiredState, ledger: Ledger, log: (line: string) => void, digestFromFile: Set<string>): Promise<Ledger> {
  const withImages = desired.backstores.filter((b): b is FileioBackstore => b.kind === 'fileio' && Boolean(b.image));
  if (!withImages.length) return ledger;
  const sources = withImages.flatMap((b) => [imageSourcePath(b), `${imageSourcePath(b)}.sha256`]);
  const next: Ledger = { ...ledger, files: [...new Set([...ledger.files, ...sources])] };
  if (next.files.length !== ledger.files.length) await writeLedger(transport, next);
  for (const b of withImages) {
    const source = imageSourcePath(b);
    await ensureRemoteImage(transport, { localPath: b.image!.path, sha256: b.image!.sha256!, remoteDir: dirname(source), name: basename(source), log, digestFromFile: digestFromFile.has(b.name) });
  }
  return next;
}

/** The backing file of each (re)created image backstore: a copy of its source, made on the machine, renamed into place whole. */
async function copyImages(transport: Transport, backstores: FileioBackstore[], log: (line: string) => void): Promise<void> {
  for (const b of backstores) {
    const started = Date.now();
    const copy = await transport.run([
      'sh',
      '-c',
      'cp --sparse=always -- "$1" "$2.partial" 2>/dev/null || cp -- "$1" "$2.partial" && mv -f -- "$2.partial" "$2"',
      'sh',
      imageSourcePath(b),
      b.path,
    ]);
    if (copy.code !== 0) {
      await transport.run(['rm', '-f', '--', `${b.path}.partial`]).catch(() => undefined);
      throw new Error(`${transport.description}: copying ${imageSourcePath(b)} to ${b.path} failed (exit ${copy.code}): ${copy.stderr.trim()}`);
    }
    log(`backstore ${b.name}: ${b.path} copied from its image (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
}

function hasOwnedBackstores(live: LiveState, lab: string): boolean {
  return live.storage_objects.some((o) => o.name.startsWith(ownedBackstorePrefix(lab)));
}

async function undoFirstApply(transport: Transport, session: TargetcliSession, lab: string, owned: Ledger, log: (line: string) => void): Promise<void> {
  const empty = parseDesiredState({ lab });
  const back = plan(empty, await readLiveState(session), owned);
  log(`undoing the first apply of lab ${lab}: ${back.steps.length} command(s)`);
  if (back.steps.length) await runTargetcliScript(session, back.steps.map((step) => renderStep(step, true)));
  if (owned.files.length) await transport.run(['rm', '-f', '--', ...owned.files]);
  await transport.run(['rm', '-f', '--', ledgerPath(lab)]);
}

export interface TeardownReport extends ApplyReport {
  removedFiles: string[];
}

/** Removes exactly what `lab` owns (targets in its ledger, its prefixed backstores, files it created). Idempotent. */
export async function teardownLab(transport: Transport, lab: string, options: ApplyOptions = {}): Promise<TeardownReport> {
  const empty = parseDesiredState({ lab });
  const ledger = await readLedger(transport, lab);
  const result = await converge(transport, empty, options);
  if (options.dryRun) return { ...result, removedFiles: [] };
  if (ledger.files.length) {
    const rm = await transport.run(['rm', '-f', '--', ...ledger.files]);
    if (rm.code !== 0) throw new Error(`${transport.description}: removing ${ledger.files.join(', ')} failed: ${rm.stderr.trim()}`);
    // Uploads of the lab's images that never finished (ensureRemoteImage's temporary names beside them).
    await transport.run(['sh', '-c', 'for f; do rm -f -- "$(dirname -- "$f")/.$(basename -- "$f").partial-"*; done', 'sh', ...ledger.files.filter((f) => f.endsWith('.source'))]);
  }
  await transport.run(['rm', '-f', '--', ledgerPath(lab)]);
  return { ...result, removedFiles: ledger.files };
}

/** Drift report: what apply would do now (one targetcli start). */
export async function targetStatus(transport: Transport, desiredInput: unknown, options: Pick<ApplyOptions, 'images'> = {}): Promise<{ inSync: boolean; planText: string }> {
  const { desired } = await withImageDigests(parseDesiredState(desiredInput), options.images);
  const session = targetcliSession(transport);
  const p = plan(desired, await readLiveState(session), await readLedger(transport, desired.lab));
  return { inSync: p.steps.length === 0, planText: formatPlan(p) };
}

