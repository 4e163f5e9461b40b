export * from './boot-lab';
export * from './ipxe-failures';
export * from './stock-rom';
export * from './resolve-rom';
export * from './target-access';
export * from './system-under-test';
export * from './replay-table';
export * from './boot-vm-task';
// The options a composing executor (the lab's boot-vm) extends.
export { optionsSchema as bootVmOptionsSchema, type BootVmOptions, type BootVmParsed } from './boot-vm-options';
