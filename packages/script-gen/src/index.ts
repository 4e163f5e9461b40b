// Public API of @ibft-lab/script-gen: the lab script model, renderer,
// parser/linter, SAN URIs and iSCSI name/CHAP validation.
export * from './lib/iscsi-name';
export * from './lib/san-uri';
export * from './lib/lab-script';
export * from './lib/diagnostic';
export * from './lib/lexer';
export * from './lib/ipxe-commands';
export * from './lib/render';
export * from './lib/lint';
export * from './lib/parse';
export * from './lib/find-files';
export * from './lib/lint-files';
export * from './lib/default-script';
export * from './lib/secret-ref';
