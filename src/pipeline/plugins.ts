/**
 * Pipeline plugins: store drivers and model kinds that a {@link Pipeline} uses beside the built-in
 * ones. A plugin given as a module specifier survives every boundary: the HTTP API's job workers
 * and other processes import the same module and rebuild the same pipeline.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModelFactory } from '../models/types.js';
import type { TextStep } from '../stages/preprocess/text.js';
import type { StoreDriver } from '../stores/types.js';

/** Store drivers and model kinds, packaged for a pipeline. */
export interface PipelinePlugin {
  /** Name, for messages. */
  readonly name: string;
  /**
   * The module that exports this plugin (set it to `import.meta.url`): job worker threads import
   * it to rebuild the pipeline. A plugin without one can only run in this thread.
   */
  readonly module?: string;
  /** Store drivers, asked before the built-in ones. */
  readonly storeDrivers?: readonly StoreDriver[];
  /** Model kinds the pipeline can train and load. */
  readonly models?: readonly ModelFactory[];
  /** Text cleaning steps by name (see `registerTextStep`), for preprocessing that names them. */
  readonly textSteps?: Readonly<Record<string, TextStep>>;
}

/**
 * Declares a plugin (typed identity). Export it as the module's default export so that
 * `--plugin ./my-plugin.js` and worker threads find it.
 *
 * @example
 * ```ts
 * // my-plugin.ts
 * import { definePlugin } from 'rakuten-pipeline';
 * export default definePlugin({ name: 'my-plugin', module: import.meta.url, storeDrivers: [myDriver], models: [myModel] });
 * ```
 */
export function definePlugin(plugin: PipelinePlugin): PipelinePlugin {
  return plugin;
}

/** A plugin module that could not be loaded or does not export a plugin. */
export class PluginLoadError extends Error {
  /** Creates the error. */
  constructor(
    /** The specifier as given. */
    readonly specifier: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`plugin ${JSON.stringify(specifier)}: ${message}`, options);
    this.name = 'PluginLoadError';
  }
}

/**
 * The URL of a plugin module: a `file:` URL as it is, a path (`./x.js`, `/abs/x.js`) resolved
 * against `cwd`, a package name resolved as `cwd`'s project would (so `--plugin my-driver` finds
 * the user's dependency, not one of this package's), else a file of that relative path.
 */
export function resolvePluginSpecifier(specifier: string, cwd = process.cwd()): string {
  if (specifier.startsWith('file:')) return specifier;
  if (specifier.startsWith('.') || path.isAbsolute(specifier)) return pathToFileURL(path.resolve(cwd, specifier)).href;
  try {
    return pathToFileURL(createRequire(path.join(cwd, 'package.json')).resolve(specifier)).href;
  } catch (e) {
    // `--plugin plugins/x.js` on a command line means the file, as a shell user expects.
    if (existsSync(path.resolve(cwd, specifier))) return pathToFileURL(path.resolve(cwd, specifier)).href;
    throw new PluginLoadError(specifier, `cannot resolve it from ${cwd}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
}

const TYPESCRIPT = /\.[cm]?tsx?$/;

// tsx evaluates a module again on each tsImport: kept by URL, so that a TypeScript plugin is one
// module instance per thread as a JavaScript one is (its text steps and model factories the same
// functions each time it is named).
const typescriptModules = new Map<string, Promise<Record<string, unknown>>>();

async function importTypeScript(url: string): Promise<Record<string, unknown>> {
  const tsx = (await import('tsx/esm/api').catch(() => undefined)) as { tsImport?: (u: string, parent: string) => Promise<Record<string, unknown>> } | undefined;
  if (!tsx?.tsImport) throw new Error('it is TypeScript and tsx is not installed: compile it to JavaScript or add tsx');
  return tsx.tsImport(url, import.meta.url);
}

function importModule(url: string): Promise<Record<string, unknown>> {
  // TypeScript plugins (a user's sources, our tests) load through tsx when it is installed.
  if (TYPESCRIPT.test(new URL(url).pathname)) {
    let loaded = typescriptModules.get(url);
    if (!loaded) {
      loaded = importTypeScript(url);
      typescriptModules.set(url, loaded);
      // A failed import is tried again next time (the file may have been fixed).
      loaded.catch(() => typescriptModules.delete(url));
    }
    return loaded;
  }
  return import(url) as Promise<Record<string, unknown>>;
}

function isPlugin(value: unknown): value is PipelinePlugin {
  return typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string';
}

/**
 * Imports a plugin module and returns its plugin: the default export, or an export named `plugin`.
 * The plugin's `module` is set to the URL it was loaded from, so workers load the same file.
 */
export async function loadPlugin(specifier: string, cwd?: string): Promise<PipelinePlugin> {
  const url = resolvePluginSpecifier(specifier, cwd);
  let exports: Record<string, unknown>;
  try {
    exports = await importModule(url);
  } catch (e) {
    throw new PluginLoadError(specifier, `cannot import ${url}: ${(e as Error).message}`, { cause: e });
  }
  // tsx and CommonJS interop may nest the default export once more.
  const candidates = [exports['default'], (exports['default'] as Record<string, unknown> | undefined)?.['default'], exports['plugin']];
  const plugin = candidates.find(isPlugin);
  if (!plugin) throw new PluginLoadError(specifier, 'its module exports no plugin (export default definePlugin({ name, ... }))');
  return { ...plugin, module: url };
}

/** Throws a `TypeError` naming the plugin and the field when `plugin` is not shaped as a {@link PipelinePlugin}. */
function checkPluginShape(plugin: PipelinePlugin): void {
  const fail = (message: string) => {
    throw new TypeError(`plugin ${plugin.name}: ${message}`);
  };
  const { storeDrivers, models, textSteps } = plugin as { storeDrivers?: unknown; models?: unknown; textSteps?: unknown };
  if (storeDrivers !== undefined && !Array.isArray(storeDrivers)) fail('storeDrivers must be an array of store drivers');
  for (const d of (storeDrivers ?? []) as Partial<StoreDriver>[]) {
    if (typeof d?.accepts !== 'function' || typeof d.open !== 'function') fail(`store driver ${JSON.stringify(d?.name)} has no accepts(uri) or open(uri) function`);
  }
  if (models !== undefined && !Array.isArray(models)) fail('models must be an array of model factories');
  for (const m of (models ?? []) as Partial<ModelFactory>[]) if (typeof m?.kind !== 'string' || m.kind === '') fail('a model factory has no kind');
  if (textSteps !== undefined && (typeof textSteps !== 'object' || textSteps === null || Array.isArray(textSteps))) fail('textSteps must be an object of text steps by name');
}

/** The plugins of a list of plugins and specifiers, specifiers loaded in order. */
export async function resolvePlugins(plugins: readonly (PipelinePlugin | string)[], cwd?: string): Promise<PipelinePlugin[]> {
  const out: PipelinePlugin[] = [];
  for (const p of plugins) {
    const plugin = typeof p === 'string' ? await loadPlugin(p, cwd) : p;
    checkPluginShape(plugin);
    out.push(plugin);
  }
  return out;
}

/** Plugin specifiers from the environment (`RAKUTEN_PLUGINS`, comma-separated). */
export function pluginsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env['RAKUTEN_PLUGINS'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
