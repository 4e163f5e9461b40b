// iPXE's command names (ipxe.org/cmd and its sitemap of cmd/* pages, plus
// aliases). Whether a given build includes a command depends on its
// config/general.h; the linter only flags names no iPXE build knows.
export const IPXE_COMMANDS: ReadonlySet<string> = new Set([
  // boot
  'autoboot', 'pxebs',
  // network interfaces
  'ifstat', 'ifopen', 'ifclose', 'ifconf', 'dhcp', 'iflinkwait', 'route', 'nstat', 'ipstat', 'vcreate', 'vdestroy',
  'ibstat', 'iwstat', 'iwlist',
  // images
  'imgstat', 'chain', 'imgexec', 'boot', 'imgfetch', 'module', 'initrd', 'kernel', 'imgselect', 'imgload',
  'imgfree', 'imgargs', 'imgtrust', 'imgverify', 'imgdecrypt', 'imgextract', 'imgmem', 'shim', 'fdt',
  'digest', 'md4sum', 'md5sum', 'sha1sum', 'sha224sum', 'sha256sum', 'sha384sum', 'sha512sum',
  // SAN
  'sanhook', 'sanboot', 'sanunhook', 'fcstat', 'fcels',
  // settings
  'config', 'show', 'set', 'clear', 'read', 'inc', 'login',
  // flow control
  'isset', 'iseq', 'goto', 'exit', 'prompt', 'shell', 'sleep', 'echo', 'help',
  // menus and forms
  'menu', 'item', 'choose', 'form', 'present', 'param', 'params',
  // certificates
  'certstat', 'certstore', 'certfree',
  // console
  'console', 'colour', 'cpair',
  // diagnostics and misc
  'nslookup', 'ping', 'ntp', 'time', 'pciscan', 'usbscan', 'cpuid', 'sync', 'reboot', 'poweroff',
  'gdbstub', 'lotest', 'profstat', 'startpxe', 'stoppxe',
]);

/** Commands whose failure ends a script unless a `||` follows. */
export const SAN_ATTACH_COMMANDS: ReadonlySet<string> = new Set(['sanhook', 'sanboot']);
