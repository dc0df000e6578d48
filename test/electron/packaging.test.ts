import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import preloadBuild from '../../vite.preload.config.ts';
import rendererBuild from '../../vite.renderer.config.ts';

/**
 * What can be checked of the installers without the internet (electron-builder downloads Electron and its packaging
 * tools): the config against electron-builder's own schema, every file it names, the targets, and that the packed files
 * include the entry points the build produces and main.ts loads.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const config = parse(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8'));
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const require = (await import('node:module')).createRequire(import.meta.url);

/** Every source file main.ts reaches through static and dynamic imports (relative ones; packages are dependencies). */
function importGraph(entry: string): string[] {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = path.resolve(path.dirname(file), m[1]);
      if (existsSync(target)) stack.push(target);
    }
  }
  return [...seen].map((f) => path.relative(root, f).split(path.sep).join('/')).sort();
}

const patternsInclude = (patterns: string[], file: string) => {
  let inside = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (path.matchesGlob(file, p.slice(1))) inside = false;
    } else if (path.matchesGlob(file, p)) inside = true;
  }
  return inside;
};

describe('the packaged app carries only what it runs', () => {
  const graph = importGraph(path.join(root, 'src-main/electron/main.ts'));

  it("main.ts's imports stay in src-main and never reach the CLI, the demo or the simulators", () => {
    expect(graph.length).toBeGreaterThan(50);
    expect(graph.filter((f) => !f.startsWith('src-main/'))).toEqual([]);
    expect(graph.filter((f) => f === 'src-main/cli.ts' || f.startsWith('src-main/cli/'))).toEqual([]);
  });

  it('the main-process build compiles main.ts and its imports only, and the packed files hold every one of them', () => {
    const tsconfig = JSON.parse(readFileSync(path.join(root, 'tsconfig.electron.json'), 'utf8')) as { files?: string[]; include?: string[] };
    // The entry, and the ambient typings of untyped packages (a .d.ts is never imported, so it is named).
    expect(tsconfig.files?.filter((f) => !f.endsWith('.d.ts'))).toEqual(['src-main/electron/main.ts']);
    expect(tsconfig.include ?? []).toEqual([]);
    const ambient = readdirSync(path.join(root, 'src-main'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.d.ts')).map((f) => `src-main/${f.split(path.sep).join('/')}`);
    expect(ambient.length).toBeGreaterThan(0);
    for (const file of ambient) expect(tsconfig.files, file).toContain(file);
    for (const file of graph) expect(patternsInclude(config.files, `dist/main/${file.replace(/\.ts$/, '.js')}`), file).toBe(true);
  });

  it('the CLI still has its demo (the command line offers it): demo-environment imports the simulators', () => {
    expect(readFileSync(path.join(root, 'src-main/cli/demo-environment.ts'), 'utf8')).toMatch(/from '\.\.\/\.\.\/test\/peers\//);
  });
});

describe('electron-builder.yml', () => {
  it('is valid against electron-builder\'s own configuration schema', () => {
    const schema = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8'));
    const ajv = new Ajv({ strict: false, allErrors: true });
    const valid = ajv.validate(schema, config);
    expect(ajv.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('targets NSIS on Windows, a hardened-runtime dmg on macOS, AppImage and deb on Linux', () => {
    const names = (t: unknown[]) => t.map((x) => (typeof x === 'string' ? x : (x as { target: string }).target));
    expect(names(config.win.target)).toEqual(['nsis']);
    expect(names(config.mac.target)).toEqual(['dmg']);
    expect(config.mac.hardenedRuntime).toBe(true);
    expect(names(config.linux.target).sort()).toEqual(['AppImage', 'deb']);
  });

  it('names only files that exist', () => {
    const referenced = [config.win.icon, config.mac.icon, config.mac.entitlements, config.mac.entitlementsInherit, config.linux.icon, config.directories.buildResources];
    for (const file of referenced) expect(existsSync(path.join(root, file)), file).toBe(true);
    for (const size of [16, 32, 48, 64, 128, 256, 512]) expect(existsSync(path.join(root, config.linux.icon, `${size}x${size}.png`))).toBe(true);
    expect(readFileSync(path.join(root, config.mac.entitlements), 'utf8')).toContain('com.apple.security.cs.allow-jit');
  });

  it('packs the built main process, preload and window, and the tray icons main.ts loads', () => {
    const patterns: string[] = config.files;
    const included = (file: string) => {
      let inside = false;
      for (const p of patterns) {
        if (p.startsWith('!')) {
          if (path.matchesGlob(file, p.slice(1))) inside = false;
        } else if (path.matchesGlob(file, p)) inside = true;
      }
      return inside;
    };
    const preloadOut = path.posix.join(preloadBuild.build!.outDir!, 'preload.cjs');
    const rendererOut = path.posix.join('dist/renderer', 'index.html');
    expect(path.posix.normalize(path.posix.join('src-renderer', rendererBuild.build!.outDir!))).toBe('dist/renderer');
    for (const file of [pkg.main, config.extraMetadata.main, preloadOut, rendererOut, 'dist/renderer/assets/index-abc.js', 'assets/icons/tray/tray-errorTemplate@2x.png', 'assets/icons/app/256x256.png', 'package.json']) {
      expect(included(file), file).toBe(true);
    }
    expect(included('dist/main/src-main/electron/main.js.map')).toBe(false);
    // The app does not offer the demo: no CLI, no simulators, no benchmarks.
    for (const file of ['dist/main/src-main/cli.js', 'dist/main/src-main/cli/demo-environment.js', 'dist/main/test/peers/ews/ews-simulator.js', 'dist/main/test/peers/severa/severa-simulator.js', 'dist/main/bench/run-benchmarks.js']) {
      expect(included(file), file).toBe(false);
    }
    expect(included('src-main/electron/main.ts')).toBe(false);
    const main = readFileSync(path.join(root, 'src-main/electron/main.ts'), 'utf8');
    expect(main).toContain("path.join(appRoot, 'dist', 'preload', 'preload.cjs')");
    expect(main).toContain("path.join(appRoot, 'dist', 'renderer')");
    for (const state of ['idle', 'syncing', 'error', 'paused']) {
      for (const variant of ['', '@2x', 'Template', 'Template@2x']) expect(existsSync(path.join(root, `assets/icons/tray/tray-${state}${variant}.png`))).toBe(true);
    }
  });

  it('main entry and scripts agree; keytar is rebuilt for Electron and kept outside the asar', () => {
    expect(pkg.main).toBe(config.extraMetadata.main);
    expect(pkg.main).toBe('dist/main/src-main/electron/main.js');
    expect(pkg.scripts.start).toMatch(/build:app && electron \.$/);
    expect(pkg.scripts.dist).toMatch(/electron-builder --config electron-builder\.yml/);
    expect(pkg.scripts['build:app']).toContain('tsconfig.electron.json');
    // A production dependency (packaged into the app), optional so that `npm ci` works where libsecret's headers are missing.
    expect(pkg.optionalDependencies.keytar).toBeTruthy();
    expect(pkg.devDependencies.keytar).toBeUndefined();
    expect(config.npmRebuild).toBe(true);
    expect(config.asarUnpack).toContain('**/*.node');
    expect(config.deb.depends).toContain('libsecret-1-0');
  });
});
