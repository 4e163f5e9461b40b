export * from './names';
export * from './desired-state';
