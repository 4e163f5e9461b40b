export * from './lib/model';
export * from './lib/live-state';
export * from './lib/ownership';
export * from './lib/plan';
export * from './lib/transport';
export * from './lib/targetcli';
export * from './lib/lio-agent-client';
export * from './lib/apply';
export * from './lib/remote-image';
export * from './lib/image-digest';
export * from './lib/appliance';
export * from './lib/connect-target';
export * from './lib/initiator-info';
export * from './lib/nx-targets';
export * from './lib/set-up-target';
// The options a composing executor (the lab's boot-vm) validates its target part with.
export { optionsSchema as setupTargetOptionsSchema } from './executors/setup-target/options';
