#!/usr/bin/env node
// The `weightlens` bin. The CLI is TypeScript sharing lib/ with the app. For a fast start we run
// a single-file bundle made by esbuild (a dependency of tsx), rebuilt whenever a source under
// cli/ or lib/ is newer than it; where it cannot be written (a read-only install) we fall back to
// tsx's on-the-fly loader.
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const bundle = path.join(root, 'node_modules', '.cache', 'weightlens', 'cli.mjs');

function newestSource(dir) {
  let newest = 0;
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (/\.(ts|mjs|wgsl)$/.test(d.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

async function loadMain() {
  if (process.env.WEIGHTLENS_NO_BUNDLE !== '1') {
    try {
      const fresh = existsSync(bundle) && statSync(bundle).mtimeMs >= Math.max(newestSource(here), newestSource(path.join(root, 'lib')));
      if (!fresh) {
        const { build } = await import('esbuild');
        mkdirSync(path.dirname(bundle), { recursive: true });
        const out = await build({
          entryPoints: [path.join(here, 'main.ts')],
          bundle: true,
          platform: 'node',
          format: 'esm',
          target: 'node20',
          outfile: bundle,
          write: false,
          packages: 'external',
          loader: { '.wgsl': 'text' },
          logLevel: 'silent',
        });
        // Write then rename, so CLI processes started together never import a half-written file.
        const tmp = `${bundle}.${process.pid}.tmp`;
        writeFileSync(tmp, out.outputFiles[0].contents);
        renameSync(tmp, bundle);
      }
      return await import(pathToFileURL(bundle).href);
    } catch {
      // fall through to tsx
    }
  }
  const { register } = await import('tsx/esm/api');
  register();
  return import('./main.ts');
}

// `weightlens analyze ... | head` closes the pipe early: stop quietly, as Unix tools do.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const { main } = await loadMain();
process.exitCode = await main(process.argv.slice(2));
