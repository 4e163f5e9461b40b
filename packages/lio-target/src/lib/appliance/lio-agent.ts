// The appliance's LIO agent: targetcli's own shell (its TargetCLI class and
// UIRoot, as targetclid keeps them) and rtslib, imported once when the
// appliance boots and so already warm in its saved state. setup-target then
// starts no python and no targetcli per read or apply (each a 1.2 to 2.7 s
// start under TCG, facts.md). targetclid itself listens on a unix socket,
// which dropbear cannot forward; this agent listens on the appliance's own
// loopback, reached only through the SSH connection (a direct-tcpip
// channel), so SSH's key stays the one way in.
//
// One request per connection, one JSON line each way. A request runs only
// once it has arrived whole, and to its end even if the connection drops
// meanwhile (old state or new, never half); it holds targetcli's own lock
// file, so a targetcli started by hand waits for it and vice versa.

/** The appliance's loopback port the agent listens on (never forwarded to the host). */
export const LIO_AGENT_PORT = 7311;
export const LIO_AGENT_PATH = '/usr/lib/ibft-lab/lio-agent';
export const LIO_AGENT_PROTOCOL = 'ibft-lab-lio-agent/1';

export const LIO_AGENT_SOURCE = String.raw`#!/usr/bin/python3
import fcntl, importlib.machinery, importlib.util, json, os, socket, sys, tempfile, time

PROTOCOL = '${LIO_AGENT_PROTOCOL}'
PORT = int(sys.argv[1])

# /usr/bin/targetcli's own shell class (its default preferences: auto_add_mapped_luns, …).
loader = importlib.machinery.SourceFileLoader('targetcli_main', '/usr/bin/targetcli')
spec = importlib.util.spec_from_loader('targetcli_main', loader)
main = importlib.util.module_from_spec(spec)
loader.exec_module(main)
from rtslib_fb import RTSRoot
from targetcli import UIRoot

# No preferences folder: nothing of a request (its secrets) goes to a history or log file.
shell = main.TargetCLI(None)
# configshell's Log.debug takes inspect.stack() for every message, kept or not: 1.3 s of a 2.6 s
# fileio create under TCG (profiled). With no log file and the console at info, no debug message is
# kept anywhere, so none is built.
from configshell_fb import log as configshell_log
levels = configshell_log.Log.levels
if shell.prefs['logfile'] is None and levels.index(shell.prefs['loglevel_console']) < levels.index('debug'):
    configshell_log.Log.debug = lambda self, msg: None
root = UIRoot(shell, as_root=True)
root.refresh()
console = shell.con
stdout, stderr = console._stdout, console._stderr

def run(lines, seconds):
    # A fresh tree: targetcli started by hand (or rtslib) may have changed LIO since the last request.
    started = time.monotonic()
    root.refresh()
    seconds.append(round(time.monotonic() - started, 3))
    shell._current_node = shell._root_node
    with tempfile.TemporaryFile(mode='w+', dir='/run') as out:
        console._stdout = console._stderr = out
        try:
            for line in lines:
                started = time.monotonic()
                try:
                    shell.run_cmdline(line.strip())
                except Exception as error:  # as targetcli's run_stdin: say it, go on
                    shell.log.error(str(error))
                seconds.append(round(time.monotonic() - started, 3))
        finally:
            console._stdout, console._stderr = stdout, stderr
        out.seek(0)
        return out.read()

def answer(request):
    if request.get('protocol') != PROTOCOL:
        return {'error': 'protocol %r, this agent speaks %s' % (request.get('protocol'), PROTOCOL)}
    if request.get('op') == 'ping':
        return {'ok': True}
    with open(main.lock_file, 'w+') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        reply = {'ok': True}
        if request.get('op') == 'run':
            # Seconds of the tree's refresh, then of each line: where an apply's time goes (the bench).
            reply['seconds'] = []
            reply['output'] = run(request.get('lines', []), reply['seconds'])
        elif request.get('op') != 'dump':
            return {'error': 'unknown op %r' % request.get('op')}
        started = time.monotonic()
        reply['state'] = RTSRoot().dump()
        reply['dumpSeconds'] = round(time.monotonic() - started, 3)
        return reply

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(('127.0.0.1', PORT))
server.listen(4)
while True:
    connection, _ = server.accept()
    with connection:
        data = b''
        while not data.endswith(b'\n'):
            chunk = connection.recv(65536)
            if not chunk:
                break
            data += chunk
        if not data.endswith(b'\n'):
            continue  # cut off before its end: nothing runs
        try:
            reply = answer(json.loads(data))
        except Exception as error:
            reply = {'error': '%s: %s' % (type(error).__name__, error)}
        try:
            connection.sendall((json.dumps(reply, sort_keys=True) + '\n').encode())
        except OSError:
            pass  # the caller is gone; what ran, ran whole
`;
