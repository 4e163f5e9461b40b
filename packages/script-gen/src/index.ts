export * from './lib/iscsi-name';
