export * from './transport';
export * from './host-key';
export * from './ssh-transport';
export * from './local-transport';
