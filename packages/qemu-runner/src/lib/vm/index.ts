export * from './vm-spec';
export * from './qemu-argv';
export * from './qmp-client';
export * from './serial-console';
export * from './start-qemu';
export { liveVmCount, registerTempDir, whenParentGone } from './live-vms';
export * from './user-network';
export * from './calm-log';
