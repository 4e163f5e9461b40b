// Model → iPXE script text. The order is fixed: signature, network,
// initiator name, SAN drives (each preceded by the CHAP settings it needs),
// diagnostics, marker, optional shell prompt, next step.
import { buildSanUri } from './san-uri';
import { formatIssues, labScriptSchema, prefixToNetmask, type LabScript, type LabScriptInput } from './lab-script';

/** iPXE settings that carry CHAP credentials, in the order we write them. */
export const CHAP_SETTINGS = ['username', 'password', 'reverse-username', 'reverse-password'] as const;
export type ChapSetting = (typeof CHAP_SETTINGS)[number];
export type ChapState = Partial<Record<ChapSetting, string>>;

/** DHCP only when net0 has no address yet: a stock ROM that fetched the script over TFTP already has one. */
export const KEEP_LEASE_DHCP = 'isset ${net0/ip} || dhcp';

export class LabScriptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabScriptError';
  }
}

/** Validates the model; throws LabScriptError naming each bad field. */
export function validateLabScript(input: LabScriptInput | LabScript): LabScript {
  const result = labScriptSchema.safeParse(input);
  if (!result.success) throw new LabScriptError(`invalid lab script:\n${formatIssues(result.error)}`);
  return result.data;
}

export function hex(value: number, width = 2): string {
  return `0x${value.toString(16).padStart(width, '0')}`;
}

function ipv4Hex(addresses: string[]): string {
  return addresses.flatMap((a) => a.split('.').map((o) => Number(o).toString(16).padStart(2, '0'))).join(':');
}

function chapState(chap: LabScript['sanhooks'][number]['chap']): ChapState {
  if (!chap) return {};
  return {
    username: chap.username,
    password: chap.password,
    'reverse-username': chap.mutual?.username,
    'reverse-password': chap.mutual?.password,
  };
}

function networkLines(net: LabScript['network'], netdev: string, named: boolean): string[] {
  // A DHCP lab's net0 keeps the lease the stock ROM took for the TFTP script: a second DHCP costs 3 s.
  if (net.mode === 'dhcp') return [named ? `dhcp ${netdev}` : net.keepFirmwareLease ? KEEP_LEASE_DHCP : 'dhcp'];
  const lines = [`set ${netdev}/ip ${net.ip}`, `set ${netdev}/netmask ${net.netmask ?? prefixToNetmask(net.prefix ?? 32)}`];
  if (net.gateway) lines.push(`set ${netdev}/gateway ${net.gateway}`);
  // iPXE's dns setting holds several addresses only as raw bytes; the iBFT
  // takes the first two from it.
  if (net.dns.length === 1) lines.push(`set ${netdev}/dns ${net.dns[0]}`);
  if (net.dns.length > 1) lines.push(`set ${netdev}/dns:hex ${ipv4Hex(net.dns)}`);
  if (net.hostname) lines.push(`set hostname ${net.hostname}`);
  lines.push(`ifopen ${netdev}`);
  return lines;
}

export function renderScript(input: LabScriptInput | LabScript): string {
  const model = validateLabScript(input);
  const lines: string[] = ['#!ipxe'];

  // A lab with more interfaces names net0 in its dhcp: a bare `dhcp` would configure the others too.
  lines.push(...networkLines(model.network, 'net0', model.interfaces.length > 0));
  for (const iface of model.interfaces) {
    if (iface.vlan !== undefined) lines.push(`vcreate --tag ${iface.vlan} ${iface.netdev}`);
    lines.push(...networkLines(iface.network, iface.vlan === undefined ? iface.netdev : `${iface.netdev}-${iface.vlan}`, true));
  }
  for (const setting of model.clearSettings) lines.push(`clear ${setting} ||`);

  if (model.initiatorIqn) lines.push(`set initiator-iqn ${model.initiatorIqn}`);

  let current: ChapState = {};
  for (const hook of model.sanhooks) {
    const wanted = chapState(hook.chap);
    for (const setting of CHAP_SETTINGS) {
      if (wanted[setting] === current[setting]) continue;
      lines.push(wanted[setting] === undefined ? `clear ${setting}` : `set ${setting} ${wanted[setting]}`);
    }
    current = wanted;
    const words = ['sanhook'];
    if (hook.drive !== undefined) words.push('--drive', hex(hook.drive));
    if (hook.noDescribe) words.push('--no-describe');
    words.push(...hook.targets.map((t) => buildSanUri(t)), ...hook.settingUris.map((name) => `\${${name}}`));
    if (hook.keepGoing) words.push('||');
    lines.push(words.join(' '));
  }

  for (const setting of model.diagnostics.show) lines.push(`show ${setting}`);
  if (model.diagnostics.route) lines.push('route');

  lines.push(`echo ${model.marker}`);

  if (model.prompt) {
    const { key, timeoutMs, text } = model.prompt;
    lines.push(`prompt --key ${hex(key)} --timeout ${timeoutMs} ${text} && shell ||`);
  }

  const next = model.next;
  if (next?.action === 'exit') lines.push('exit');
  if (next?.action === 'shell') lines.push('shell');
  if (next?.action === 'sanboot') {
    const words = ['sanboot'];
    if (next.drive !== undefined) words.push('--drive', hex(next.drive));
    if (next.noDescribe) words.push('--no-describe');
    if (next.keepGoing) words.push('||');
    lines.push(words.join(' '));
  }
  if (next?.action === 'chain') lines.push(`chain ${next.url}${next.keepGoing ? ' ||' : ''}`);
  if (next?.action === 'kernel') {
    lines.push(['kernel', next.kernelUrl, ...(next.cmdline ? [next.cmdline] : [])].join(' '));
    for (const url of next.initrdUrls) lines.push(`initrd ${url}`);
    lines.push('boot');
  }
  return `${lines.join('\n')}\n`;
}
