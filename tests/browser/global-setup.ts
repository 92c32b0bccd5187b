import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Serves the built app for the browser tests: `next start -p 3100` on the existing .next build
 * (building it first when .next is missing), with the demo models prepared. Stops it afterwards.
 */

/** WEIGHTLENS_TEST_PORT lets two checkouts run their browser tests side by side. */
export const PORT = Number(process.env.WEIGHTLENS_TEST_PORT ?? 3100);
const root = path.resolve(import.meta.dirname, '..', '..');
const nextBin = path.join(root, 'node_modules', 'next', 'dist', 'bin', 'next');

async function waitForServer(url: string, proc: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`next start exited with code ${proc.exitCode}`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`next start did not answer on ${url} within ${timeoutMs / 1000}s`);
}

export default async function setup(): Promise<() => Promise<void>> {
  spawnSync(process.execPath, [path.join(root, 'scripts', 'prepare-demo.mjs')], { cwd: root, stdio: 'inherit' });
  if (!existsSync(path.join(root, '.next', 'BUILD_ID'))) {
    const b = spawnSync(process.execPath, [nextBin, 'build'], { cwd: root, stdio: 'inherit' });
    if (b.status !== 0) throw new Error('next build failed');
  }
  const proc = spawn(process.execPath, [nextBin, 'start', '-p', String(PORT)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  try {
    await waitForServer(`http://127.0.0.1:${PORT}/`, proc, 60_000);
  } catch (e) {
    proc.kill('SIGTERM');
    throw new Error(`${(e as Error).message}\n${log}`, { cause: e });
  }
  return async () => {
    proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    if (proc.exitCode === null) proc.kill('SIGKILL');
  };
}
