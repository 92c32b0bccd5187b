/**
 * Command-line parsing. Small and strict: an unknown command or flag is a usage error (exit 2)
 * rather than something silently ignored, so scripts fail loudly when they misspell a flag.
 */

export const USAGE = `Usage: weightlens <command> [options]

Commands:
  info <file|folder|url>   list tensors, layers and a summary of a checkpoint
                           (safetensors, sharded safetensors, ONNX, GGUF, .npy/.npz, PyTorch zip)

Options for info:
  --json                   print one JSON object instead of tables
  --no-limits              analyse every matrix, ignoring WeightWatcher's min_evals/max_evals/max_N

General:
  -h, --help               show this help
  -V, --version            show the version

Set WEIGHTLENS_DEBUG=1 to print stack traces on errors.`;

export class UsageError extends Error {}

export type Command =
  | { command: 'help' }
  | { command: 'version' }
  | { command: 'info'; target: string; json: boolean; noLimits: boolean };

export function parseArgs(argv: readonly string[]): Command {
  if (argv.length === 0) throw new UsageError('missing command');
  if (argv.includes('-h') || argv.includes('--help')) return { command: 'help' };
  if (argv.includes('-V') || argv.includes('--version')) return { command: 'version' };
  const [cmd, ...rest] = argv;
  if (cmd === 'help') return { command: 'help' };
  if (cmd !== 'info') throw new UsageError(`unknown command "${cmd}"`);
  let json = false;
  let noLimits = false;
  const positional: string[] = [];
  let flagsDone = false;
  for (const a of rest) {
    if (!flagsDone && a === '--') flagsDone = true;
    else if (!flagsDone && a === '--json') json = true;
    else if (!flagsDone && a === '--no-limits') noLimits = true;
    else if (!flagsDone && a.startsWith('-') && a !== '-') throw new UsageError(`unknown option "${a}" for info`);
    else positional.push(a);
  }
  if (positional.length === 0) throw new UsageError('info needs a file, folder or URL');
  if (positional.length > 1) throw new UsageError(`info takes one file, got ${positional.length}: ${positional.join(' ')}`);
  return { command: 'info', target: positional[0]!, json, noLimits };
}
