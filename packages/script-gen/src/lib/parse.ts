// iPXE script text → lab script model, for scripts in the shape the
// renderer writes (the seed's shape). Anything the model cannot express is
// reported with its position and no model is returned, so a parsed model
// always renders back to the same commands.
import type { Diagnostic } from './diagnostic';
import { formatIssues, labScriptSchema, NETDEV_NAME, type LabScript } from './lab-script';
import { lexScript, type Segment, type Token } from './lexer';
import { lintScript } from './lint';
import { CHAP_SETTINGS, type ChapSetting, type ChapState } from './render';
import { parseSanUri, type SanTarget } from './san-uri';

export interface ParseResult {
  model?: LabScript;
  diagnostics: Diagnostic[];
}

/** The model as it is assembled, before labScriptSchema checks it. */
interface Input {
  network: Record<string, unknown>;
  interfaces: Record<string, unknown>[];
  clearSettings: string[];
  initiatorIqn?: string;
  sanhooks: Record<string, unknown>[];
  diagnostics: { show: string[]; route: boolean };
  marker?: string;
  prompt?: Record<string, unknown>;
  next?: Record<string, unknown>;
}

class Unsupported extends Error {
  constructor(
    readonly token: Token,
    message: string,
  ) {
    super(message);
  }
}

function parseNumber(token: Token, what: string): number {
  const text = token.text;
  const value = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text, 16) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (Number.isNaN(value)) throw new Unsupported(token, `${what} "${text}" is not a number`);
  return value;
}

function ipv4sFromHex(token: Token, text: string): string[] {
  const bytes = text.split(':');
  if (bytes.length % 4 !== 0 || bytes.some((b) => !/^[0-9a-f]{1,2}$/i.test(b))) {
    throw new Unsupported(token, 'dns:hex must be whole IPv4 addresses as hex bytes');
  }
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += 4) out.push(bytes.slice(i, i + 4).map((b) => parseInt(b, 16)).join('.'));
  return out;
}

/** True when the line ends with a bare "||" (the "keep going" idiom). */
function endsWithKeepGoing(segments: Segment[]): boolean {
  const last = segments[segments.length - 1];
  return segments.length >= 2 && last.words.length === 0 && segments[segments.length - 2].operator?.kind === '||';
}

/** `isset ${net0/ip} || dhcp`, exactly as render writes it. */
function isKeepLeaseDhcp(segments: Segment[]): boolean {
  const [test, run] = segments;
  return (
    segments.length === 2 &&
    test.operator?.kind === '||' &&
    test.words.map((w) => w.text).join(' ') === 'isset ${net0/ip}' &&
    run.words.length === 1 &&
    run.words[0].text === 'dhcp' &&
    !run.operator
  );
}

export function parseScript(text: string): ParseResult {
  const diagnostics = lintScript(text);
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };

  const model: Input = { network: {}, interfaces: [], clearSettings: [], sanhooks: [], diagnostics: { show: [], route: false } };
  const chap: ChapState = {};
  // net0 first, then each further interface; a static one is its `set <netdev>/...` lines up to `ifopen <netdev>`.
  let net0: { network: Record<string, unknown>; token: Token; named: boolean } | undefined;
  let staticBlock: { netdev: string; settings: Record<string, unknown>; token: Token } | undefined;
  let pendingVlan: { netdev: string; tag: number; token: Token } | undefined;
  let marker: string | undefined;
  let kernel: Record<string, unknown> | undefined;

  const setNext = (token: Token, next: Record<string, unknown>) => {
    if (model.next) throw new Unsupported(token, 'only one next step (exit, sanboot, chain, kernel or shell) can be modelled');
    model.next = next;
  };

  try {
    for (const line of lexScript(text)) {
      if (line.label) throw new Unsupported(line.label, 'labels are not part of the lab script model');
      const segments = line.segments;
      const words = segments[0].words;
      const [command, ...args] = words;
      const plain = segments.length === 1;
      const keepGoing = segments.length === 2 && endsWithKeepGoing(segments);

      if (isKeepLeaseDhcp(segments)) {
        configure('net0', { mode: 'dhcp', keepFirmwareLease: true }, command, false);
        continue;
      }
      if (command.text === 'clear' && keepGoing) {
        if (args.length !== 1) throw new Unsupported(command, '"clear S ||" takes one setting');
        if (model.initiatorIqn !== undefined || model.sanhooks.length || marker !== undefined) {
          throw new Unsupported(command, '"clear S ||" is modelled after the interfaces, before initiator-iqn and the sanhooks');
        }
        model.clearSettings.push(args[0].text);
        continue;
      }
      if (command.text === 'prompt' && marker !== undefined) {
        parsePrompt(model, segments);
        continue;
      }
      if (!plain && !(keepGoing && ['sanhook', 'sanboot', 'chain'].includes(command.text))) {
        throw new Unsupported(command, `"${command.text}" with && or || is not part of the lab script model`);
      }
      if (marker !== undefined && !['exit', 'shell', 'sanboot', 'chain', 'kernel', 'initrd', 'boot'].includes(command.text)) {
        throw new Unsupported(command, `"${command.text}" after the marker is not part of the lab script model`);
      }
      if (marker === undefined && ['exit', 'shell', 'sanboot', 'chain', 'kernel', 'initrd', 'boot'].includes(command.text)) {
        throw new Unsupported(command, `"${command.text}" before the marker echo is not modelled (the next step follows the marker)`);
      }
      if (kernel && command.text !== 'initrd' && command.text !== 'boot') {
        throw new Unsupported(command, 'after "kernel" only "initrd" and "boot" are modelled');
      }

      switch (command.text) {
        case 'dhcp':
        case 'ifconf':
          if (args.length > 1) throw new Unsupported(args[1], `${command.text} is modelled with at most one network device`);
          if (args.length && !NETDEV_NAME.test(args[0].text)) throw new Unsupported(args[0], `${command.text} "${args[0].text}" is not a network device name such as net1`);
          configure(args[0]?.text ?? 'net0', { mode: 'dhcp', keepFirmwareLease: false }, command, args.length === 1);
          break;
        case 'ifopen': {
          const netdev = args[0]?.text;
          if (args.length !== 1 || !staticBlock || staticBlock.netdev !== netdev) {
            throw new Unsupported(command, `"ifopen" is modelled only as the end of a static interface: set ${netdev ?? 'net0'}/ip and netmask, then ifopen ${netdev ?? 'net0'}`);
          }
          const block = staticBlock;
          staticBlock = undefined;
          configure(block.netdev, { mode: 'static', dns: [], ...block.settings }, block.token, true);
          break;
        }
        case 'vcreate': {
          const [flag, tag, netdev] = args;
          if (args.length !== 3 || flag.text !== '--tag' || !/^net[0-9]{1,2}$/.test(netdev.text)) throw new Unsupported(command, 'vcreate is modelled only as "vcreate --tag N netX"');
          if (pendingVlan) throw new Unsupported(command, `configure ${pendingVlan.netdev}-${pendingVlan.tag} before the next vcreate`);
          pendingVlan = { netdev: netdev.text, tag: parseNumber(tag, 'VLAN tag'), token: command };
          break;
        }
        case 'set':
        case 'clear':
          parseSetting(command, args);
          break;
        case 'sanhook':
          model.sanhooks.push(parseSanhook(command, args, keepGoing, chap));
          break;
        case 'show':
          if (args.length !== 1) throw new Unsupported(command, 'show takes one setting name');
          model.diagnostics.show.push(args[0].text);
          break;
        case 'route':
          if (args.length) throw new Unsupported(args[0], 'route arguments are not modelled');
          model.diagnostics.route = true;
          break;
        case 'echo':
          if (marker !== undefined) throw new Unsupported(command, 'only one echo (the marker) is modelled');
          if (!args.length || args[0].text === '-n') throw new Unsupported(command, 'the marker echo needs text and no -n');
          marker = args.map((a) => a.text).join(' ');
          model.marker = marker;
          break;
        case 'exit':
        case 'shell':
          if (args.length) throw new Unsupported(args[0], `${command.text} arguments are not modelled`);
          setNext(command, { action: command.text });
          break;
        case 'sanboot': {
          const next: Record<string, unknown> = { action: 'sanboot', keepGoing };
          for (let i = 0; i < args.length; i++) {
            if (args[i].text === '--drive' && args[i + 1]) next.drive = parseNumber(args[++i], 'drive');
            else if (args[i].text === '--no-describe') next.noDescribe = true;
            else throw new Unsupported(args[i], `sanboot "${args[i].text}" is not modelled (hook targets with sanhook first)`);
          }
          setNext(command, next);
          break;
        }
        case 'chain':
          if (args.length !== 1) throw new Unsupported(command, 'chain is modelled only as "chain URL" (with or without ||)');
          setNext(command, { action: 'chain', url: args[0].text, keepGoing });
          break;
        case 'kernel':
          if (!args.length) throw new Unsupported(command, 'kernel needs a URL');
          kernel = { action: 'kernel', kernelUrl: args[0].text, initrdUrls: [] };
          if (args.length > 1) kernel.cmdline = args.slice(1).map((a) => a.text).join(' ');
          setNext(command, kernel);
          break;
        case 'initrd':
          if (!kernel || args.length !== 1) throw new Unsupported(command, 'initrd is modelled only as "initrd URL" after kernel');
          (kernel.initrdUrls as string[]).push(args[0].text);
          break;
        case 'boot':
          if (!kernel || args.length) throw new Unsupported(command, 'boot is modelled only as a bare "boot" after kernel');
          kernel = undefined;
          break;
        default:
          throw new Unsupported(command, `"${command.text}" is a valid iPXE command but not part of the lab script model`);
      }
    }

    if (marker === undefined) {
      return {
        diagnostics: [
          ...diagnostics,
          { line: 1, column: 1, severity: 'error', code: 'missing-marker', message: 'no "echo <marker>" line: the lab model needs a completion marker' },
        ],
      };
    }
    if (staticBlock) throw new Unsupported(staticBlock.token, `a static interface ends with "ifopen ${staticBlock.netdev}"`);
    if (pendingVlan) throw new Unsupported(pendingVlan.token, `vcreate made ${pendingVlan.netdev}-${pendingVlan.tag}, which is never configured`);
    if (!net0) throw new Unsupported({ text: '', line: 1, column: 1 }, 'no network configuration (dhcp or set net0/ip ... ifopen net0)');
    // The renderer names net0 in its dhcp exactly when more interfaces follow (a bare dhcp would configure them too).
    if (net0.network.mode === 'dhcp' && net0.named !== model.interfaces.length > 0) {
      throw new Unsupported(
        net0.token,
        model.interfaces.length ? 'with more interfaces, net0 is configured by "dhcp net0"' : '"dhcp net0" is modelled only before more interfaces; alone it is a bare "dhcp"',
      );
    }
    model.network = net0.network;
  } catch (error) {
    if (!(error instanceof Unsupported)) throw error;
    return { diagnostics: [...diagnostics, unsupported(error.token, error.message)] };
  }

  const result = labScriptSchema.safeParse(model);
  if (!result.success) {
    return { diagnostics: [...diagnostics, { line: 1, column: 1, severity: 'error', code: 'invalid-model', message: formatIssues(result.error) }] };
  }
  return { model: result.data, diagnostics };

  function parseSetting(command: Token, args: Token[]): void {
    const name = args[0]?.text;
    if (!name) throw new Unsupported(command, `${command.text} needs a setting name`);
    if (command.text === 'clear') {
      if (args.length !== 1 || !(CHAP_SETTINGS as readonly string[]).includes(name)) {
        throw new Unsupported(command, 'only "clear" of a CHAP setting is modelled');
      }
      delete chap[name as ChapSetting];
      return;
    }
    if (args.length !== 2) throw new Unsupported(command, `"set ${name}" with ${args.length - 1} values is not modelled`);
    const value = args[1].text;
    if ((CHAP_SETTINGS as readonly string[]).includes(name)) {
      chap[name as ChapSetting] = value;
      return;
    }
    if (name === 'initiator-iqn') {
      model.initiatorIqn = value;
      return;
    }
    if (name === 'hostname') {
      if (!staticBlock) throw new Unsupported(args[0], '"set hostname" is modelled inside a static interface (after its set <netdev>/ip)');
      staticBlock.settings.hostname = value;
      return;
    }
    const scoped = /^(net[0-9]{1,2}(?:-[0-9]{1,4})?)\/(ip|netmask|gateway|dns|dns:hex)$/.exec(name);
    if (!scoped) throw new Unsupported(args[0], `setting "${name}" is not part of the lab script model`);
    const [, netdev, field] = scoped;
    if (staticBlock && staticBlock.netdev !== netdev) throw new Unsupported(args[0], `finish ${staticBlock.netdev} with "ifopen ${staticBlock.netdev}" before setting ${netdev}`);
    const block = (staticBlock ??= { netdev, settings: {}, token: command });
    if (field === 'dns') block.settings.dns = [value];
    else if (field === 'dns:hex') block.settings.dns = ipv4sFromHex(args[1], value);
    else block.settings[field] = value;
  }

  /** One interface's configuration: net0 first, then the others (a VLAN device right after its vcreate). */
  function configure(netdev: string, network: Record<string, unknown>, token: Token, named: boolean): void {
    if (netdev === 'net0') {
      if (net0) throw new Unsupported(token, 'only one network configuration of net0 is modelled');
      net0 = { network, token, named };
      return;
    }
    if (!net0) throw new Unsupported(token, `net0 is configured before ${netdev}`);
    if (pendingVlan) {
      const vlanDevice = `${pendingVlan.netdev}-${pendingVlan.tag}`;
      if (netdev !== vlanDevice) throw new Unsupported(token, `after "vcreate --tag ${pendingVlan.tag} ${pendingVlan.netdev}" the model configures ${vlanDevice}`);
      model.interfaces.push({ netdev: pendingVlan.netdev, vlan: pendingVlan.tag, network });
      pendingVlan = undefined;
      return;
    }
    model.interfaces.push({ netdev, network });
  }
}

function parseSanhook(command: Token, args: Token[], keepGoing: boolean, chap: ChapState): Record<string, unknown> {
  const hook: Record<string, unknown> = { keepGoing, noDescribe: false };
  const targets: SanTarget[] = [];
  const settingUris: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i];
    if (word.text === '--drive' && args[i + 1]) hook.drive = parseNumber(args[++i], 'drive');
    else if (word.text === '--no-describe') hook.noDescribe = true;
    else if (word.text.startsWith('-')) throw new Unsupported(word, `sanhook option "${word.text}" is not modelled`);
    else if (/^\$\{[^}]+\}$/.test(word.text)) settingUris.push(word.text.slice(2, -1));
    else if (settingUris.length) throw new Unsupported(word, 'SAN URIs come before the settings that hold one (${net1/root-path}), as the renderer writes them');
    else {
      const parsed = parseSanUri(word.text);
      if (!parsed.ok) throw new Unsupported(word, `only iSCSI SAN URIs are modelled: ${parsed.message}`);
      targets.push(parsed.target);
    }
  }
  hook.targets = targets;
  hook.settingUris = settingUris;
  if (chap.username !== undefined || chap.password !== undefined) {
    if (chap.username === undefined || chap.password === undefined) {
      throw new Unsupported(command, 'CHAP needs both username and password set before sanhook');
    }
    const mutualSet = chap['reverse-username'] !== undefined || chap['reverse-password'] !== undefined;
    if (mutualSet && (chap['reverse-username'] === undefined || chap['reverse-password'] === undefined)) {
      throw new Unsupported(command, 'mutual CHAP needs both reverse-username and reverse-password');
    }
    hook.chap = {
      username: chap.username,
      password: chap.password,
      ...(mutualSet ? { mutual: { username: chap['reverse-username'], password: chap['reverse-password'] } } : {}),
    };
  } else if (chap['reverse-username'] !== undefined || chap['reverse-password'] !== undefined) {
    throw new Unsupported(command, 'reverse-username/reverse-password without username/password is not modelled');
  }
  return hook;
}

function parsePrompt(model: Input, segments: Segment[]): void {
  const [prompt, shell] = segments;
  const ok =
    segments.length === 3 &&
    prompt.operator?.kind === '&&' &&
    shell.words.length === 1 &&
    shell.words[0].text === 'shell' &&
    shell.operator?.kind === '||' &&
    segments[2].words.length === 0;
  if (!ok || model.prompt) {
    throw new Unsupported(prompt.words[0], 'only one "prompt --key K --timeout T text && shell ||" is modelled');
  }
  const args = prompt.words.slice(1);
  const result: Record<string, unknown> = {};
  let i = 0;
  for (; i < args.length; i++) {
    if (args[i].text === '--key' && args[i + 1]) {
      const key = args[++i];
      result.key = key.text.length === 1 ? key.text.charCodeAt(0) : parseNumber(key, 'key');
    } else if (args[i].text === '--timeout' && args[i + 1]) {
      result.timeoutMs = parseNumber(args[++i], 'timeout');
    } else break;
  }
  if (result.key === undefined || result.timeoutMs === undefined || i >= args.length) {
    throw new Unsupported(prompt.words[0], 'the modelled prompt has --key, --timeout and a text');
  }
  result.text = args.slice(i).map((a) => a.text).join(' ');
  model.prompt = result;
}

function unsupported(token: Token, message: string): Diagnostic {
  return { line: token.line, column: token.column, severity: 'error', code: 'not-modelled', message };
}
