export * from './lib/model';
export * from './lib/live-state';
export * from './lib/ownership';
export * from './lib/plan';
export * from './lib/transport';
export * from './lib/targetcli';
export * from './lib/apply';
export * from './lib/appliance';
