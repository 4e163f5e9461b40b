// setup-target's work after the target is open: plan, apply (one targetcli
// script), verify, write initiator.json. One function so the setup-target
// executor and a boot that sets its target up itself say and do the same.
import { applyDesiredState, startsText } from './apply';
import type { OpenedTarget } from './connect-target';
import { initiatorInfo, initiatorInfoPath, writeInitiatorInfo, type InitiatorInfo } from './initiator-info';
import type { ResolvedDesiredState } from './model';

export interface SetUpTargetOptions {
  persist: boolean;
  dryRun: boolean;
  /** Each planned targetcli command printed (else only their count, unless dryRun). */
  logPlanSteps: boolean;
  /** Where initiator.json goes (default dist/labs/<project>/target/initiator.json). */
  initiatorFile?: string;
  initiatorPortal?: { ip: string; port: number };
  sshHost?: string;
  workspaceRoot: string;
  project: string;
  log: (line: string) => void;
}

/** Applies `desired` through the opened target and publishes initiator.json (not on a dry run). The target stays open. */
export async function setUpTarget(opened: OpenedTarget, desired: ResolvedDesiredState, options: SetUpTargetOptions): Promise<InitiatorInfo | undefined> {
  const { log } = options;
  const report = await applyDesiredState(opened.transport, desired, {
    persist: options.persist,
    dryRun: options.dryRun,
    log,
    logPlanSteps: options.dryRun || options.logPlanSteps,
    images: { workspaceRoot: options.workspaceRoot },
  });
  log(`setup-target: ${report.commandsRun} command(s), ${startsText(report)}, ${report.seconds.toFixed(1)} s`);
  if (options.dryRun) return undefined;
  const file = options.initiatorFile ?? initiatorInfoPath(options.workspaceRoot, options.project);
  const info = initiatorInfo(desired, opened.endpoint, options.sshHost, options.initiatorPortal);
  writeInitiatorInfo(file, info);
  log(`setup-target: wrote ${file}`);
  return info;
}
