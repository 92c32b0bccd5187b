import { describe, expect, it } from 'vitest';
import { blockIndex } from '../../../lib/model/block-index';

describe('blockIndex', () => {
  const cases: [string, number | null, string | null][] = [
    ['model.layers.10.self_attn.q_proj.weight', 10, 'model.layers.10'],
    ['layers.12.attention.wq.weight', 12, 'layers.12'],
    ['h.3.mlp.c_fc.weight', 3, 'h.3'],
    ['transformer.h.4.attn.c_attn.weight', 4, 'transformer.h.4'],
    ['blocks.7.attn.qkv.weight', 7, 'blocks.7'],
    ['bert.encoder.layer.5.attention.self.query.weight', 5, 'bert.encoder.layer.5'],
    ['encoder.block.2.layer.0.SelfAttention.q.weight', 2, 'encoder.block.2'],
    ['decoder.layers.3.fc1.weight', 3, 'decoder.layers.3'],
    ['stages.1.blocks.2.conv_dw.weight', 1, 'stages.1'],
    ['blk.31.ffn_down.weight', 31, 'blk.31'],
    ['vision_model.encoder.layers.0.mlp.fc1.weight', 0, 'vision_model.encoder.layers.0'],
    ['transformer.resblocks.11.attn.in_proj_weight', 11, 'transformer.resblocks.11'],
    ['layer4.1.conv2.weight', 4, 'layer4'],
    ['/model/layers.0/self_attn/q_proj/MatMul', 0, '/model/layers.0'],
    ['bert/encoder/layer_3/attention/self/query/kernel:0', 3, 'bert/encoder/layer_3'],
    ['model/h_2/attn/c_attn/w', 2, 'model/h_2'],
    ['conv2d_107.w_0', null, null],
    ['linear_85.w_0', null, null],
    ['wte.weight', null, null],
    ['h3.weight', null, null],
    ['layers.norm.weight', null, null],
    ['model.layers.x.weight', null, null],
  ];
  it.each(cases)('%s -> %s', (name, block, path) => {
    expect(blockIndex(name)).toEqual({ block, blockPath: path });
  });
});
