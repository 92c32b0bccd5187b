/**
 * Transformer block / CNN stage number from a tensor name, so per-block views (α by depth,
 * AlphaPruning ratios) can group layers. Names are split on '.' and '/' (ONNX exports use both);
 * the first (outermost) container segment followed by an integer wins, so
 * `layers.1.blocks.2.attn` is block 1 and `encoder.block.2.layer.0.SelfAttention` is block 2.
 */

/** Container names that hold numbered repeated blocks in common checkpoints. */
const CONTAINERS = new Set([
  'layers', 'layer', // model.layers.N (Llama), encoder.layer.N (BERT), decoder.layers.N
  'h', // transformer.h.N (GPT-2)
  'blocks', 'block', // blocks.N (ViT, timm), block.N (T5)
  'stages', 'stage', // stages.N (ConvNeXt, timm)
  'blk', // blk.N (GGUF)
  'resblocks', // transformer.resblocks.N (CLIP)
  'res_blocks', 'transformer_blocks', 'down_blocks', 'up_blocks', // diffusers
]);

export interface BlockRef {
  block: number | null;
  blockPath: string | null;
}

const NONE: BlockRef = { block: null, blockPath: null };

function parseIndex(s: string | undefined): number | null {
  if (s === undefined || !/^\d{1,9}$/.test(s)) return null;
  return Number(s);
}

export function blockIndex(name: string): BlockRef {
  // Keep separators so blockPath reproduces the original spelling of the prefix.
  const parts = name.split(/([./])/);
  for (let i = 0; i < parts.length; i += 2) {
    const seg = parts[i]!;
    // `layers.3` form: a container segment followed by a numeric segment.
    if (CONTAINERS.has(seg.toLowerCase())) {
      const n = parseIndex(parts[i + 2]);
      if (n !== null) return { block: n, blockPath: parts.slice(0, i + 3).join('') };
    }
    // `layer_3` / `h_3` glued form used by TF/Keras and some ONNX exports;
    // `layer1` (torchvision ResNet stages) glued without a separator.
    const m = /^([A-Za-z_]+?)(_?)(\d{1,9})$/.exec(seg);
    // `h3` alone is too ambiguous to call a block; `h_3` is not.
    if (m && CONTAINERS.has(m[1]!.toLowerCase()) && (m[2] === '_' || m[1]!.length > 1)) {
      return { block: Number(m[3]), blockPath: parts.slice(0, i + 1).join('') };
    }
  }
  return NONE;
}
