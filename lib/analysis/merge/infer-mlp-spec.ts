/**
 * Infers the permutation spec of a plain feed-forward chain from tensor names and shapes:
 * PyTorch nn.Linear ([out, in] weight + [out] bias) or nn.Conv2d (OIHW weight + [O] bias) layers
 * named `<prefix>.weight` / `<prefix>.bias`, in natural name order (fc1, fc2, …, fc10). Between
 * consecutive layers, the first one's outputs are the second one's inputs: one group per link;
 * the last layer's outputs (the logits) are not permuted.
 *
 * Anything else in the checkpoint (norms, embeddings, running statistics) would also need
 * permuting, and names alone cannot say how, so such models are refused with a pointer to the JSON
 * spec rather than given a spec that silently changes their function.
 */
import { UnsupportedError } from '../../base/errors';
import type { PermutationGroup, PermutationSpec } from './permutation-spec';

interface ChainLayer {
  prefix: string;
  weight: { name: string; shape: readonly number[] };
  bias?: { name: string; shape: readonly number[] };
}

const collator = new Intl.Collator('en', { numeric: true });

export function inferMlpSpec(tensors: readonly { name: string; shape: readonly number[] }[], label = 'model'): PermutationSpec {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const layers: ChainLayer[] = [];
  const used = new Set<string>();
  for (const t of tensors) {
    if (!t.name.endsWith('.weight') || (t.shape.length !== 2 && t.shape.length !== 4)) continue;
    const prefix = t.name.slice(0, -'.weight'.length);
    const bias = byName.get(`${prefix}.bias`);
    if (bias && (bias.shape.length !== 1 || bias.shape[0] !== t.shape[0])) {
      throw new UnsupportedError('spec-not-a-chain', `${label}: "${bias.name}" has shape [${bias.shape.join(', ')}], expected [${t.shape[0]}] for "${t.name}"`);
    }
    layers.push({ prefix, weight: t, bias });
    used.add(t.name);
    if (bias) used.add(bias.name);
  }
  const other = tensors.filter((t) => !used.has(t.name) && t.shape.length > 0);
  if (other.length > 0) {
    const list = other.slice(0, 3).map((t) => `"${t.name}" [${t.shape.join(', ')}]`).join(', ');
    throw new UnsupportedError('spec-not-a-chain', `${label}: ${list}${other.length > 3 ? ` and ${other.length - 3} more` : ''} are not Linear/Conv weights or biases; give the permutation spec as JSON`);
  }
  if (layers.length < 2) throw new UnsupportedError('spec-not-a-chain', `${label}: found ${layers.length} Linear/Conv layer(s); a chain needs at least two to have hidden units to permute`);
  layers.sort((a, b) => collator.compare(a.prefix, b.prefix));
  const groups: PermutationGroup[] = [];
  for (let k = 0; k + 1 < layers.length; k++) {
    const a = layers[k]!;
    const b = layers[k + 1]!;
    const out = a.weight.shape[0]!;
    const inNext = b.weight.shape[1]!;
    if (out !== inNext) {
      throw new UnsupportedError(
        'spec-not-a-chain',
        `${label}: "${a.weight.name}" has ${out} outputs but the next layer "${b.weight.name}" takes ${inNext} inputs (a flatten or reshape between them?); give the permutation spec as JSON`,
      );
    }
    const axes = [{ tensor: a.weight.name, axis: 0 }];
    if (a.bias) axes.push({ tensor: a.bias.name, axis: 0 });
    axes.push({ tensor: b.weight.name, axis: 1 });
    groups.push({ name: `${a.prefix}.out/${b.prefix}.in`, size: out, axes });
  }
  return { groups };
}
