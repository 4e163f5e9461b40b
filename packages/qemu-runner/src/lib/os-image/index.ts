export * from './recipes';
export * from './proof';
export * from './layout';
export { parseSimulatedInstall, resolveImagePackages, aptListsIdentity } from './resolve-packages';
export { buildOsImage, osImageBuildUnavailable, hostAptSources, mountsUnder, removeBuildTree, sha256File, writeOverlay, OS_IMAGE_TOOLS, type BuiltOsImage, type BootFiles } from './build-os-image';
export * from './ensure-os-image';
