export * from './lib/vm';
export * from './lib/guest';
