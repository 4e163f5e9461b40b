export * from './lib/iscsi-name';
export * from './lib/san-uri';
export * from './lib/lab-script';
