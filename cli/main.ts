import { basename } from 'node:path';
import { parseArgs, USAGE, UsageError } from './args';
import { analyze } from './commands/analyze';
import { esd } from './commands/esd';
import { info } from './commands/info';
import { interpolate } from './commands/interpolate';
import { match } from './commands/match';
import { merge } from './commands/merge';
import { prune } from './commands/prune';
import { quantize } from './commands/quantize';
import { defaultThreads } from './node-pool/run-pool';

import pkg from '../package.json';

function version(): string {
  return pkg.version;
}

/** `weightlens: <file>: <problem>`, without repeating a file name the message already starts with. */
export function errorLine(target: string | undefined, e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (!target) return `weightlens: ${msg}`;
  const names = [target, basename(target)];
  if (names.some((n) => n && msg.startsWith(`${n}:`))) return `weightlens: ${msg}`;
  return `weightlens: ${target}: ${msg}`;
}

/** Runs one command; returns the exit code (0 ok, 1 failure, 2 usage). */
export async function main(argv: readonly string[]): Promise<number> {
  let cmd;
  try {
    cmd = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`weightlens: ${e.message}\n\n${USAGE}\n`);
    return 2;
  }
  switch (cmd.command) {
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case 'version':
      process.stdout.write(`weightlens ${version()}\n`);
      return 0;
    case 'info':
      return runCommand(cmd.target, () => info(cmd.target, { json: cmd.json, noLimits: cmd.noLimits }));
    case 'analyze':
      return runCommand(cmd.target, () =>
        analyze(cmd.target, {
          format: cmd.format,
          fit: cmd.fit,
          mpFit: cmd.mpFit,
          farms: cmd.farms,
          farmsOnly: cmd.farmsOnly,
          farmsOptions: cmd.farmsOptions,
          layers: cmd.layers,
          noLimits: cmd.noLimits,
          kernel: cmd.kernel,
          threads: cmd.threads ?? defaultThreads(),
          progress: process.stderr.isTTY === true,
        }),
      );
    case 'esd':
      return runCommand(cmd.target, () =>
        esd(cmd.target, { layer: cmd.layer, json: cmd.json, fit: cmd.fit, farms: cmd.farms, farmsOptions: cmd.farmsOptions, kernel: cmd.kernel }),
      );
    case 'quantize':
      return runCommand(cmd.target, () =>
        quantize(cmd.target, {
          quant: cmd.quant,
          json: cmd.json,
          progress: process.stderr.isTTY === true,
          ...(cmd.layers !== undefined ? { layers: cmd.layers } : {}),
          ...(cmd.out !== undefined ? { out: cmd.out } : {}),
          ...(cmd.dequantized !== undefined ? { dequantized: cmd.dequantized } : {}),
        }),
      );
    case 'prune':
      return runCommand(cmd.target, () =>
        prune(cmd.target, {
          prune: cmd.prune,
          json: cmd.json,
          packedMasks: cmd.packedMasks,
          progress: process.stderr.isTTY === true,
          ...(cmd.layers !== undefined ? { layers: cmd.layers } : {}),
          ...(cmd.out !== undefined ? { out: cmd.out } : {}),
          ...(cmd.masks !== undefined ? { masks: cmd.masks } : {}),
        }),
      );
    // Several files each: the commands name the file in every error themselves.
    case 'merge':
      return runCommand('', () => merge(cmd));
    case 'match':
      return runCommand('', () => match(cmd));
    case 'interpolate':
      return runCommand('', () => interpolate(cmd));
  }
}

/** Writes a command's output to stdout (exit 0), or its error to stderr (exit 1). */
async function runCommand(target: string, produce: () => Promise<string>): Promise<number> {
  try {
    const text = await produce();
    await new Promise<void>((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
    return 0;
  } catch (e) {
    process.stderr.write(`${errorLine(target, e)}\n`);
    if (process.env.WEIGHTLENS_DEBUG === '1' && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}
