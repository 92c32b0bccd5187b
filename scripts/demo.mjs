#!/usr/bin/env node
// `npm run demo`: installs what is missing, builds the app (with the demo models copied from
// node_modules) and serves it on http://localhost:3000.
import { ROOT, mustRun, ensureDependencies, ensureBuild } from './lib/ensure.mjs';

ensureDependencies();
ensureBuild();
const port = process.env.PORT || '3000';
console.log(`\nWeightLens is at http://localhost:${port} (Ctrl+C to stop)\n`);
mustRun('npx', ['next', 'start', '-p', port], { cwd: ROOT });
