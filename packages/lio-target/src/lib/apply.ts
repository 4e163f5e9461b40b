// apply = read live state → plan → one piped targetcli script → read again →
// re-plan must be empty (piped targetcli exits 0 even when a line failed).
// teardown = the same with an empty desired state, then the backing files the
// lab created. The ledger on the machine records what the lab owns.
import { parseDesiredState, type ResolvedDesiredState } from './model';
import { ledgerPath, parseLedger, type Ledger } from './ownership';
import { formatPlan, plan, renderStep, type Plan } from './plan';
import { maskSecrets, readLiveState, runTargetcliScript, targetcliSession, type TargetcliSession } from './targetcli';
import type { Transport } from './transport';

export interface ApplyOptions {
  /** Write /etc/rtslib-fb-target/saveconfig.json so the config survives a reboot. */
  persist?: boolean;
  /** Plan only; run no changing command. */
  dryRun?: boolean;
  log?: (line: string) => void;
}

export interface ApplyReport {
  plan: Plan;
  /** The dry-run text of the plan (secrets masked). */
  planText: string;
  commandsRun: number;
  targetcliStarts: number;
  seconds: number;
}

export class ApplyVerificationError extends Error {}

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
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const session = targetcliSession(transport);
  const ledger = await readLedger(transport, desired.lab);
  const live = await readLiveState(session);
  const first = plan(desired, live, ledger);
  const planText = formatPlan(first);
  log(planText);
  const report = (commandsRun: number): ApplyReport => ({
    plan: first,
    planText,
    commandsRun,
    targetcliStarts: session.starts,
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

  const lines = first.steps.map((step) => renderStep(step, true));
  if (options.persist) lines.push('saveconfig');
  const { output } = await runTargetcliScript(session, lines);
  const secrets = secretsOf(desired);

  await verify(session, desired, owned, output, secrets);
  const deleted = new Set(first.deletesTargets);
  if (deleted.size) await writeLedger(transport, { ...owned, targets: owned.targets.filter((t) => !deleted.has(t)) });
  log(`applied ${first.steps.length} command(s) with ${session.starts} targetcli start(s)`);
  return report(first.steps.length);
}

async function verify(session: TargetcliSession, desired: ResolvedDesiredState, ledger: Ledger, output: string, secrets: string[]): Promise<void> {
  const again = plan(desired, await readLiveState(session), ledger);
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
  }
  await transport.run(['rm', '-f', '--', ledgerPath(lab)]);
  return { ...result, removedFiles: ledger.files };
}

/** Drift report: what apply would do now (one targetcli start). */
export async function targetStatus(transport: Transport, desiredInput: unknown): Promise<{ inSync: boolean; planText: string }> {
  const desired = parseDesiredState(desiredInput);
  const session = targetcliSession(transport);
  const p = plan(desired, await readLiveState(session), await readLedger(transport, desired.lab));
  return { inSync: p.steps.length === 0, planText: formatPlan(p) };
}

