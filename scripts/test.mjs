#!/usr/bin/env node
// `npm test`: installs what is missing, then lint, typecheck, the layer-boundary check,
// unit tests and browser tests. Prints "N passed, N failed" at the end.
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { ROOT, run, ensureDependencies, ensureChromium, ensureBuild } from './lib/ensure.mjs';

const started = Date.now();
ensureDependencies();
ensureChromium();

const steps = [];
const step = (name, fn) => {
  const t0 = Date.now();
  const code = fn();
  steps.push({ name, code, s: ((Date.now() - t0) / 1000).toFixed(0) });
  return code;
};

const reports = path.join(ROOT, 'test-results');
mkdirSync(reports, { recursive: true });
const vitest = (config, out) => [
  'vitest', 'run', ...(config ? ['-c', config] : []),
  '--reporter=default', '--reporter=json', `--outputFile.json=${out}`,
];

step('lint', () => run('npx', ['eslint', '.']));
step('typecheck', () => run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']));
step('layer boundaries', () => run('npm', ['run', '--silent', 'check:layers']));
step('unit tests', () => run('npx', vitest(null, path.join(reports, 'unit.json'))));
step('build', () => {
  ensureBuild();
  return 0;
});
step('browser tests', () => run('npx', vitest('vitest.browser.config.ts', path.join(reports, 'browser.json'))));

let passed = 0;
let failed = 0;
let skipped = 0;
for (const f of ['unit.json', 'browser.json']) {
  const p = path.join(reports, f);
  if (!existsSync(p)) continue;
  try {
    const j = JSON.parse(readFileSync(p, 'utf8'));
    passed += j.numPassedTests ?? 0;
    failed += j.numFailedTests ?? 0;
    skipped += (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  } catch {
    failed += 1;
  }
}
console.log('\nSummary');
for (const s of steps) console.log(`  ${s.code === 0 ? 'ok  ' : 'FAIL'} ${s.name} (${s.s} s)`);
console.log(`  total ${((Date.now() - started) / 1000).toFixed(0)} s`);
const stepFailures = steps.filter((s) => s.code !== 0 && !s.name.endsWith('tests')).length;
failed += stepFailures;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(steps.some((s) => s.code !== 0) ? 1 : 0);
