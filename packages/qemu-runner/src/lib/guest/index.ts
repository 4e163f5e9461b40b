export { workspaceCacheDir, findWorkspaceRoot, cacheDirNotWritable, withWritableCache } from './cache-dir';
export { downloadDebianPackages, debianDependencyClosure, type DownloadDebianPackagesOptions } from './debian-packages';
export { extractDebs, restoreMergedUsr } from './extract-debs';
export { ensureCloudKernel, cloudKernelPackage, type CloudKernel } from './cloud-kernel';
export { addKernelModules, resolveModuleClosure } from './kernel-modules';
export { buildInitramfs, treeKey, type BuildInitramfsOptions, type BuiltInitramfs } from './initramfs';
export { copyBinariesWithLibraries, elfDynamicInfo, LIBRARY_DIRS, type CopiedBinaries, type ElfDynamicInfo } from './elf-libraries';
export { aptAnswer, aptStateId } from './apt-answers';
