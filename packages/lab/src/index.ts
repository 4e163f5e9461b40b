// @ibft-lab/lab: a lab declared once (LabSpec, lab.json) and everything derived
// from it: the iPXE script model, the LIO desired state, the iBFT expectations
// and the Nx targets. The plugin (./plugin) and the generators are the Nx side.
export * from './lib';
