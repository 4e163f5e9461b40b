// The local transport: commands on this machine through execa (no shell: argv
// goes to the program as is), with the same environment and sudo rule as ssh.
import { COMMAND_ENV, readFileVia, writeFileVia, type CommandResult, type RunOptions, type Transport } from './transport';

// execa 9 is ESM-only; Node 20.19+ loads it through require(), and this
// boundary keeps the rest of the package free of it.
async function loadExeca(): Promise<typeof import('execa')> {
  return import('execa');
}

export function localTransport(): Transport {
  const asRoot = process.getuid?.() === 0;
  const transport: Transport = {
    description: 'local',
    async run(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
      const { execa } = await loadExeca();
      const [file, ...args] = asRoot ? argv : ['sudo', '-n', 'env', ...Object.entries(COMMAND_ENV).map(([k, v]) => `${k}=${v}`), ...argv];
      const result = await execa(file, args, {
        env: COMMAND_ENV,
        input: options.stdin,
        stdin: options.stdin === undefined ? 'ignore' : undefined,
        reject: false,
        stripFinalNewline: false,
      });
      return {
        code: typeof result.exitCode === 'number' ? result.exitCode : result.failed ? 127 : 0,
        stdout: String(result.stdout ?? ''),
        stderr: String(result.stderr ?? (result.failed ? result.message : '')),
      };
    },
    readFile: (path) => readFileVia(transport, path),
    writeFile: (path, content) => writeFileVia(transport, path, content),
    async close() {},
  };
  return transport;
}
