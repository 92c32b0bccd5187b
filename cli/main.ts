import { basename } from 'node:path';
import { parseArgs, USAGE, UsageError } from './args';
import { info } from './commands/info';

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
      try {
        const text = await info(cmd.target, { json: cmd.json, noLimits: cmd.noLimits });
        await new Promise<void>((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
        return 0;
      } catch (e) {
        process.stderr.write(`${errorLine(cmd.target, e)}\n`);
        if (process.env.WEIGHTLENS_DEBUG === '1' && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
        return 1;
      }
  }
}
