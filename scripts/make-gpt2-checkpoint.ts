/**
 * Writes a GPT-2-small-shaped float32 .safetensors checkpoint (~500 MB) for `npm run bench`:
 *   npx tsx scripts/make-gpt2-checkpoint.ts .bench/gpt2-small.safetensors [--seed 1]
 * The same tensor names and shapes as Hugging Face's `gpt2` (Conv1D weights stored [in, out]);
 * only the weight matrices, which are what the spectra cost depends on. Values are seeded and
 * heavy-tailed (0.02 × a symmetric Lomax variable, tail index 3), so the ESDs have power-law tails
 * like trained weights rather than a pure Marchenko–Pastur bulk. The file is streamed to disk a
 * chunk at a time, so writing it needs a few MB of memory, not 500.
 */
import { closeSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../lib/base/rng';

export const GPT2_BLOCKS = 12;
const D_MODEL = 768;
const D_FF = 3072;
const N_CTX = 1024;
const VOCAB = 50257;
const SCALE = 0.02; // GPT-2's initializer_range
const TAIL_INDEX = 3;
const CHUNK_VALUES = 1 << 20;

export function gpt2Tensors(): [string, [number, number]][] {
  const t: [string, [number, number]][] = [
    ['wte.weight', [VOCAB, D_MODEL]],
    ['wpe.weight', [N_CTX, D_MODEL]],
  ];
  for (let b = 0; b < GPT2_BLOCKS; b++) {
    t.push(
      [`h.${b}.attn.c_attn.weight`, [D_MODEL, 3 * D_MODEL]],
      [`h.${b}.attn.c_proj.weight`, [D_MODEL, D_MODEL]],
      [`h.${b}.mlp.c_fc.weight`, [D_MODEL, D_FF]],
      [`h.${b}.mlp.c_proj.weight`, [D_FF, D_MODEL]],
    );
  }
  return t;
}

/** Writes the checkpoint to `out` (via a temporary file, so an interrupted run leaves nothing half-written). */
export function makeGpt2Checkpoint(out: string, seed = 1): { bytes: number; tensors: number } {
  const tensors = gpt2Tensors();
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', note: `GPT-2-small-shaped bench checkpoint, seed ${seed}` } };
  let offset = 0;
  for (const [name, shape] of tensors) {
    const bytes = shape[0] * shape[1] * 4;
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = Buffer.alloc(8 + json.length);
  head.writeBigUInt64LE(BigInt(json.length), 0);
  head.write(json, 8, 'utf8');

  mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, head);
    const rng = new Rng(seed);
    const buf = new Float32Array(CHUNK_VALUES);
    const bytes = new Uint8Array(buf.buffer);
    for (const [, shape] of tensors) {
      let left = shape[0] * shape[1];
      while (left > 0) {
        const n = Math.min(left, CHUNK_VALUES);
        for (let i = 0; i < n; i++) {
          const r = rng.nextU32();
          // Low bit: sign; the other 31 bits: u in [0, 1) for the inverse Lomax CDF.
          const u = (r >>> 1) / 2147483648;
          const v = SCALE * (Math.pow(1 - u, -1 / TAIL_INDEX) - 1);
          buf[i] = r & 1 ? -v : v;
        }
        writeSync(fd, bytes, 0, n * 4);
        left -= n;
      }
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, out);
  return { bytes: head.length + offset, tensors: tensors.length };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const out = args.find((a) => !a.startsWith('--'));
  const seedAt = args.indexOf('--seed');
  const seed = seedAt >= 0 ? Number(args[seedAt + 1]) : 1;
  if (!out || !Number.isInteger(seed)) {
    process.stderr.write('usage: tsx scripts/make-gpt2-checkpoint.ts <out.safetensors> [--seed N]\n');
    process.exit(2);
  }
  const t0 = performance.now();
  const r = makeGpt2Checkpoint(out, seed);
  process.stdout.write(`${out}: ${r.tensors} tensors, ${(r.bytes / 1e6).toFixed(0)} MB, seed ${seed} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
}
