// The schema lives in the library (a composing executor extends it); schema.json is generated from it.
export * from '../../lib/boot/boot-vm-options';
