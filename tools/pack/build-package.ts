// Builds a workspace package into the layout an npm tarball needs, the way
// @nx/js:tsc lays out dist/packages/<name>: compiled JS (+ .d.ts) at the same
// relative paths as the sources, so executors.json paths like
// `./src/executors/x/executor` resolve to the .js; package.json pointing at the
// compiled files and listing every package the compiled code requires;
// executors.json, generators.json, schema.json files, generator `files/`
// templates, other non-TypeScript assets under src/, README.md, the bins and
// root entry points such as plugin.js.
//
// Usage: node -r ./tools/register-ts.js tools/pack/build-package.ts <name>...
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export const WORKSPACE_ROOT = resolve(__dirname, '..', '..');

/** Runtime TypeScript hooks a source-tree bin loads; the packed bin runs compiled JS and needs none. */
const TS_RUNTIME_HOOKS = new Set(['@swc-node/register', 'ts-node/register', 'ts-node/register/transpile-only']);

export interface BuildOptions {
  /** The monorepo root (holds packages/, tsconfig.base.json, package.json). */
  workspaceRoot?: string;
  /** Where dist/packages/<name> folders go; default <workspaceRoot>/dist/packages. */
  outRoot?: string;
  /** Receives notes about what the build had to fill in (undeclared dependencies). */
  log?: (line: string) => void;
}

export interface BuiltPackage {
  /** Folder name under packages/. */
  name: string;
  /** npm name, e.g. @ibft-lab/ibft. */
  packageName: string;
  version: string;
  /** Absolute path of the built package folder. */
  outDir: string;
}

export interface WorkspacePackage {
  name: string;
  dir: string;
  manifest: PackageManifest;
}

export interface PackageManifest {
  name: string;
  version: string;
  main?: string;
  types?: string;
  bin?: string | Record<string, string>;
  executors?: string;
  generators?: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  exports?: ExportsField;
  files?: string[];
  [key: string]: unknown;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const posix = (path: string) => path.split(sep).join('/');

/** Every folder under packages/ that has a package.json, keyed by folder name. */
export function workspacePackages(workspaceRoot = WORKSPACE_ROOT): Map<string, WorkspacePackage> {
  const packagesDir = join(workspaceRoot, 'packages');
  const found = new Map<string, WorkspacePackage>();
  for (const name of readdirSync(packagesDir).sort()) {
    const manifestFile = join(packagesDir, name, 'package.json');
    if (existsSync(manifestFile)) found.set(name, { name, dir: join(packagesDir, name), manifest: readJson(manifestFile) });
  }
  return found;
}

/** npm package name of a bare module specifier (`@scope/pkg/sub` → `@scope/pkg`), or undefined for relative/builtin. */
function packageNameOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || isBuiltin(specifier)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Package names a JS or TS text imports or requires (TypeScript's own import scanner). */
function importedPackages(text: string): Set<string> {
  const info = ts.preProcessFile(text, /* readImportFiles */ true, /* detectJavaScriptImports */ true);
  const names = new Set<string>();
  for (const ref of info.importedFiles) {
    const name = packageNameOf(ref.fileName);
    if (name) names.add(name);
  }
  return names;
}

/** Files under dir (sorted, recursive), as paths relative to dir. */
function walk(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const full = join(dir, entry.name);
      return entry.isDirectory() ? walk(full, base) : [relative(base, full)];
    });
}

const isSpec = (file: string) => /\.(spec|test)\.ts$/.test(file);
/** `src/generators/<g>/files/**` are templates Nx copies verbatim: never compiled, always shipped. */
const isGeneratorTemplate = (srcRelative: string) => /^generators\/[^/]+\/files\//.test(posix(srcRelative));
const isTestOnlyAsset = (srcRelative: string) => posix(srcRelative).split('/').includes('__snapshots__');

/** TypeScript source files of a package that belong in the build. */
function compiledSources(pkg: WorkspacePackage): string[] {
  const srcDir = join(pkg.dir, 'src');
  return walk(srcDir)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && !isSpec(file) && !isGeneratorTemplate(file))
    .map((file) => join(srcDir, file));
}

/** Workspace packages (folder names) the sources of pkg import. */
export function workspaceDependencies(pkg: WorkspacePackage, all: Map<string, WorkspacePackage>): string[] {
  const byNpmName = new Map([...all.values()].map((p) => [p.manifest.name, p.name]));
  const deps = new Set<string>();
  for (const file of compiledSources(pkg)) {
    for (const name of importedPackages(readFileSync(file, 'utf8'))) {
      const folder = byNpmName.get(name);
      if (folder && folder !== pkg.name) deps.add(folder);
    }
  }
  return [...deps].sort();
}

function formatDiagnostics(diagnostics: readonly ts.Diagnostic[], workspaceRoot: string): string {
  return ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => workspaceRoot,
    getNewLine: () => '\n',
  });
}

/**
 * Compiles src/**\/*.ts of pkg into outDir/src with tsconfig.base.json's settings. Workspace
 * dependencies type-check against their already built declarations (as a buildable Nx lib does),
 * so the emitted code keeps `require("@ibft-lab/<dep>")` for npm to satisfy.
 * Returns the text of every emitted .js file, keyed by its path relative to outDir.
 */
function compile(pkg: WorkspacePackage, deps: BuiltPackage[], outDir: string, workspaceRoot: string): Map<string, string> {
  const configFile = join(workspaceRoot, 'tsconfig.base.json');
  const { config, error } = ts.readConfigFile(configFile, ts.sys.readFile);
  if (error) throw new Error(formatDiagnostics([error], workspaceRoot));
  const base = ts.parseJsonConfigFileContent(config, ts.sys, workspaceRoot, undefined, configFile);
  const options: ts.CompilerOptions = {
    ...base.options,
    rootDir: join(pkg.dir, 'src'),
    outDir: join(outDir, 'src'),
    declaration: true,
    // Maps would point at sources the tarball does not carry.
    sourceMap: false,
    declarationMap: false,
    inlineSourceMap: false,
    noEmitOnError: true,
    incremental: false,
    composite: false,
    tsBuildInfoFile: undefined,
    // Spec files are not compiled, so Jest's globals are not part of a package.
    types: ['node'],
    // Built declarations may sit outside the workspace (a test's temp folder), where their own imports
    // (zod, …) find no node_modules: resolve those from the workspace's, or their types turn to any.
    paths: {
      ...Object.fromEntries(deps.map((dep) => [dep.packageName, [join(dep.outDir, 'src', 'index.d.ts')]])),
      '*': [join(workspaceRoot, 'node_modules', '*'), join(workspaceRoot, 'node_modules', '@types', '*')],
    },
  };
  const program = ts.createProgram({ rootNames: compiledSources(pkg), options });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length) throw new Error(`${pkg.name} does not compile:\n${formatDiagnostics(diagnostics, workspaceRoot)}`);

  const emittedJs = new Map<string, string>();
  const result = program.emit(undefined, (fileName, text) => {
    mkdirSync(dirname(fileName), { recursive: true });
    writeFileSync(fileName, text);
    if (fileName.endsWith('.js')) emittedJs.set(posix(relative(outDir, fileName)), text);
  });
  if (result.diagnostics.length || result.emitSkipped) {
    throw new Error(`${pkg.name} did not emit:\n${formatDiagnostics(result.diagnostics, workspaceRoot)}`);
  }
  return emittedJs;
}

/**
 * A source-tree bin loads TypeScript through a runtime hook (`require('@swc-node/register');
 * require('../src/cli.ts')`). The packed bin drops the hook and requires the compiled .js that
 * sits at the same relative path, so one bin file serves both layouts.
 */
function packedBin(text: string, binFile: string): string {
  const source = ts.createSourceFile(binFile, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const isRequireOf = (node: ts.Node): node is ts.CallExpression =>
    ts.isCallExpression(node) &&
    ts.isIdentifier(node.expression) &&
    node.expression.text === 'require' &&
    node.arguments.length === 1 &&
    ts.isStringLiteral(node.arguments[0]);
  const specifierOf = (call: ts.CallExpression) => (call.arguments[0] as ts.StringLiteral).text;

  const transformer: ts.TransformerFactory<ts.SourceFile> = (context) => {
    const visit = (node: ts.Node): ts.Node | undefined => {
      if (ts.isExpressionStatement(node) && isRequireOf(node.expression) && TS_RUNTIME_HOOKS.has(specifierOf(node.expression))) {
        return undefined;
      }
      if (isRequireOf(node)) {
        const specifier = specifierOf(node);
        if (specifier.startsWith('.') && /(?<!\.d)\.ts$/.test(specifier)) {
          return context.factory.updateCallExpression(node, node.expression, node.typeArguments, [
            context.factory.createStringLiteral(specifier.replace(/\.ts$/, '.js'), true),
          ]);
        }
      }
      return ts.visitEachChild(node, visit, context);
    };
    return (file) => ts.visitNode(file, visit) as ts.SourceFile;
  };
  const [transformed] = ts.transform(source, [transformer]).transformed;
  return ts.createPrinter({ newLine: ts.NewLineKind.LineFeed }).printFile(transformed);
}

/** Relative require()s of a packed bin must land on files that exist in the built package. */
function checkBinRequires(binText: string, binPath: string, outDir: string): void {
  for (const ref of ts.preProcessFile(binText, true, true).importedFiles) {
    if (!ref.fileName.startsWith('.')) continue;
    try {
      require.resolve(resolve(dirname(binPath), ref.fileName));
    } catch {
      throw new Error(`${posix(relative(outDir, binPath))} requires ${ref.fileName}, which the built package does not have`);
    }
  }
}

/** `.js` files at a package's root other than tool configuration (`jest.config.js`). */
function rootEntryPoints(pkgDir: string): string[] {
  return readdirSync(pkgDir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.js') && !entry.name.endsWith('.config.js'))
    .map((entry) => entry.name)
    .sort();
}

const toJs = (path: string) => path.replace(/(?<!\.d)\.ts$/, '.js');
const toDts = (path: string) => path.replace(/(?<!\.d)\.ts$/, '.d.ts');

type ExportsField = string | null | ExportsField[] | { [conditionOrSubpath: string]: ExportsField };

/**
 * The source manifest's `exports` point at TypeScript (`./src/index.ts`), which the workspace loads
 * through its TypeScript hooks; the packed package's point at the compiled files: a `types`
 * condition at the `.d.ts`, every other target at the `.js`.
 */
function packedExports(field: ExportsField, condition?: string): ExportsField {
  if (typeof field === 'string') return condition === 'types' ? toDts(field) : toJs(field);
  if (Array.isArray(field)) return field.map((entry) => packedExports(entry, condition));
  if (field === null) return null;
  return Object.fromEntries(Object.entries(field).map(([key, value]) => [key, packedExports(value, key.startsWith('.') ? undefined : key)]));
}

/** Every file an `exports` field names, with the subpath (or condition chain) naming it. */
function exportTargets(field: ExportsField, where = '.'): [string, string][] {
  if (typeof field === 'string') return [[where, field]];
  if (Array.isArray(field)) return field.flatMap((entry) => exportTargets(entry, where));
  if (field === null) return [];
  return Object.entries(field).flatMap(([key, value]) => exportTargets(value, key.startsWith('.') ? key : `${where} (${key})`));
}

/** executors.json / generators.json entries must resolve to compiled code and existing schemas. */
function checkCollection(outDir: string, collectionFile: string | undefined, key: 'executors' | 'generators'): void {
  if (!collectionFile) return;
  const file = join(outDir, collectionFile);
  const collection = readJson<Record<string, Record<string, { implementation?: string; factory?: string; schema?: string }>>>(file);
  for (const [entryName, entry] of Object.entries(collection[key] ?? {})) {
    const code = entry.implementation ?? entry.factory;
    for (const [what, path] of [['code', code], ['schema', entry.schema]] as const) {
      if (!path) continue;
      const target = resolve(dirname(file), path.split('#')[0]);
      try {
        require.resolve(target);
      } catch {
        throw new Error(`${collectionFile} ${entryName}: ${what} ${path} does not resolve in the built package`);
      }
    }
  }
}

/**
 * Builds the named packages (folder names under packages/) and, first, every workspace package
 * they import, into <outRoot>/<name>. Returns the requested ones in the order asked.
 */
export function buildPackages(names: string[], options: BuildOptions = {}): BuiltPackage[] {
  const workspaceRoot = options.workspaceRoot ?? WORKSPACE_ROOT;
  const outRoot = options.outRoot ?? join(workspaceRoot, 'dist', 'packages');
  const log = options.log ?? ((line: string) => console.error(line));
  const all = workspacePackages(workspaceRoot);
  const rootManifest = readJson<PackageManifest>(join(workspaceRoot, 'package.json'));
  const rootVersions = { ...rootManifest.devDependencies, ...rootManifest.dependencies };
  const built = new Map<string, BuiltPackage>();

  const build = (name: string, chain: string[]): BuiltPackage => {
    const done = built.get(name);
    if (done) return done;
    if (chain.includes(name)) throw new Error(`workspace packages import each other in a cycle: ${[...chain, name].join(' → ')}`);
    const pkg = all.get(name);
    if (!pkg) throw new Error(`no package.json in packages/${name}`);
    const deps = workspaceDependencies(pkg, all).map((dep) => build(dep, [...chain, name]));

    const outDir = join(outRoot, name);
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    const emittedJs = compile(pkg, deps, outDir, workspaceRoot);

    // Everything under src/ that is not TypeScript (schema.json, generator templates, init scripts,
    // run-time fixtures); generator templates are copied even when they end in .ts.
    for (const file of walk(join(pkg.dir, 'src'))) {
      const isTypeScript = file.endsWith('.ts');
      if ((isTypeScript && !isGeneratorTemplate(file)) || isTestOnlyAsset(file)) continue;
      mkdirSync(dirname(join(outDir, 'src', file)), { recursive: true });
      copyFileSync(join(pkg.dir, 'src', file), join(outDir, 'src', file));
    }
    for (const file of ['README.md', pkg.manifest.executors, pkg.manifest.generators]) {
      if (file && existsSync(join(pkg.dir, file))) copyFileSync(join(pkg.dir, file), join(outDir, file));
    }

    const requiredTexts = [...emittedJs.values()];
    const bins = typeof pkg.manifest.bin === 'string' ? { [pkg.manifest.name.split('/').pop()!]: pkg.manifest.bin } : (pkg.manifest.bin ?? {});
    for (const binFile of Object.values(bins)) {
      const text = packedBin(readFileSync(join(pkg.dir, binFile), 'utf8'), binFile);
      const binPath = join(outDir, binFile);
      mkdirSync(dirname(binPath), { recursive: true });
      writeFileSync(binPath, text);
      chmodSync(binPath, 0o755);
      checkBinRequires(text, binPath, outDir);
      requiredTexts.push(text);
    }
    // Entry points at the package root, such as lab's plugin.js (nx.json names
    // "@ibft-lab/lab/plugin"): Nx requires them by subpath, so they ship like bins.
    for (const entry of rootEntryPoints(pkg.dir)) {
      const text = packedBin(readFileSync(join(pkg.dir, entry), 'utf8'), entry);
      writeFileSync(join(outDir, entry), text);
      checkBinRequires(text, join(outDir, entry), outDir);
      requiredTexts.push(text);
    }

    // Dependencies: what the package declares, plus every package its compiled code requires.
    // Workspace packages take their own version (the tarballs are released together); anything
    // else it forgot to declare takes the root package.json's range, with a note.
    const declared = { ...pkg.manifest.peerDependencies, ...pkg.manifest.dependencies };
    const dependencies: Record<string, string> = { ...pkg.manifest.dependencies };
    const required = new Set(requiredTexts.flatMap((text) => [...importedPackages(text)]));
    for (const dependency of [...required].sort()) {
      if (dependency === pkg.manifest.name || declared[dependency]) continue;
      const workspaceDep = [...all.values()].find((p) => p.manifest.name === dependency);
      if (workspaceDep) {
        dependencies[dependency] = workspaceDep.manifest.version;
      } else if (rootVersions[dependency]) {
        dependencies[dependency] = rootVersions[dependency];
        log(`note: ${pkg.manifest.name} requires ${dependency} without declaring it; using the root package.json's ${rootVersions[dependency]}`);
      } else {
        throw new Error(`${pkg.manifest.name} requires ${dependency}, declared neither in packages/${name}/package.json nor the root package.json`);
      }
    }

    const manifest: PackageManifest = { ...pkg.manifest };
    delete manifest.devDependencies;
    manifest.main = toJs(pkg.manifest.main ?? './src/index.ts');
    manifest.types = toDts(pkg.manifest.types ?? pkg.manifest.main ?? './src/index.ts');
    for (const field of ['main', 'types'] as const) {
      if (!existsSync(join(outDir, manifest[field]!))) throw new Error(`${pkg.manifest.name}: ${field} ${manifest[field]} was not built`);
    }
    if (pkg.manifest.exports !== undefined) manifest.exports = packedExports(pkg.manifest.exports);
    if (Object.keys(dependencies).length) {
      manifest.dependencies = Object.fromEntries(Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b)));
    }
    // Fields a published package needs and the workspace states once at the root.
    for (const field of ['license', 'engines'] as const) {
      if (manifest[field] === undefined && rootManifest[field] !== undefined) manifest[field] = rootManifest[field];
    }
    writeFileSync(join(outDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    for (const [subpath, target] of manifest.exports === undefined ? [] : exportTargets(manifest.exports)) {
      if (!existsSync(join(outDir, target))) throw new Error(`${pkg.manifest.name}: exports ${subpath} → ${target} was not built`);
    }
    for (const entry of manifest.files ?? []) {
      if (!entry.startsWith('!') && !existsSync(join(outDir, entry))) {
        throw new Error(`${pkg.manifest.name}: files lists ${entry}, which the built package does not have`);
      }
    }

    checkCollection(outDir, manifest.executors, 'executors');
    checkCollection(outDir, manifest.generators, 'generators');

    const result = { name, packageName: pkg.manifest.name, version: pkg.manifest.version, outDir };
    built.set(name, result);
    return result;
  };

  return names.map((name) => build(name, []));
}

export function buildPackage(name: string, options: BuildOptions = {}): BuiltPackage {
  return buildPackages([name], options)[0];
}

if (require.main === module) {
  const names = process.argv.slice(2);
  if (!names.length) {
    console.error('usage: build-package.ts <package folder name>...');
    process.exit(2);
  }
  try {
    for (const pkg of buildPackages(names)) console.log(posix(relative(WORKSPACE_ROOT, pkg.outDir)));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
