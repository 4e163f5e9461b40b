export * from './boot-lab';
export * from './ipxe-failures';
export * from './stock-rom';
export * from './resolve-rom';
export * from './target-access';
export * from './system-under-test';
