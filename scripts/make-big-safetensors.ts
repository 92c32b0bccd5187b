/**
 * Writes a ~2 GB Llama-shaped .safetensors file for measuring `weightlens info` on big inputs:
 *   npx tsx scripts/make-big-safetensors.ts /tmp/big.safetensors
 * Only the header is written; the data section is made by ftruncate, so the file is sparse
 * (reads of the data give zeros) and takes seconds and almost no disk space.
 */
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: tsx scripts/make-big-safetensors.ts <out.safetensors>\n');
  process.exit(2);
}

const HIDDEN = 2048;
const FFN = 5632;
const LAYERS = 18;
const VOCAB = 32000;
const F16_BYTES = 2;

const tensors: [string, number[]][] = [['model.embed_tokens.weight', [VOCAB, HIDDEN]]];
for (let l = 0; l < LAYERS; l++) {
  const p = `model.layers.${l}`;
  tensors.push(
    [`${p}.input_layernorm.weight`, [HIDDEN]],
    [`${p}.self_attn.q_proj.weight`, [HIDDEN, HIDDEN]],
    [`${p}.self_attn.k_proj.weight`, [HIDDEN, HIDDEN]],
    [`${p}.self_attn.v_proj.weight`, [HIDDEN, HIDDEN]],
    [`${p}.self_attn.o_proj.weight`, [HIDDEN, HIDDEN]],
    [`${p}.post_attention_layernorm.weight`, [HIDDEN]],
    [`${p}.mlp.gate_proj.weight`, [FFN, HIDDEN]],
    [`${p}.mlp.up_proj.weight`, [FFN, HIDDEN]],
    [`${p}.mlp.down_proj.weight`, [HIDDEN, FFN]],
  );
}
tensors.push(['model.norm.weight', [HIDDEN]], ['lm_head.weight', [VOCAB, HIDDEN]]);

const header: Record<string, unknown> = { __metadata__: { format: 'pt', note: 'sparse test file from make-big-safetensors.ts' } };
let offset = 0;
for (const [name, shape] of tensors) {
  const bytes = shape.reduce((a, b) => a * b, 1) * F16_BYTES;
  header[name] = { dtype: 'F16', shape, data_offsets: [offset, offset + bytes] };
  offset += bytes;
}
let json = JSON.stringify(header);
json += ' '.repeat((8 - (json.length % 8)) % 8); // keep the data 8-byte aligned, as the reference writer does
const head = Buffer.alloc(8 + json.length);
head.writeBigUInt64LE(BigInt(json.length), 0);
head.write(json, 8, 'utf8');

const fd = openSync(out, 'w');
writeSync(fd, head, 0, head.length, 0);
ftruncateSync(fd, head.length + offset);
closeSync(fd);
process.stdout.write(`${out}: ${tensors.length} tensors, ${(offset / 1e9).toFixed(2)} GB of F16 data (sparse)\n`);
