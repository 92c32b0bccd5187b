/**
 * GGML tensor types as stored in GGUF tensor infos: id -> name, elements per block and bytes per
 * block. Every type WeightLens may meet is listed, decodable or not, so that the tensor table can
 * size each tensor and check offsets and overlaps even for quants we do not dequantize.
 * Sizes follow the block structs of ggml-common.h (e.g. Q4_K: 2+2+12+128 = 144 bytes per 256).
 */

export interface GgmlType {
  id: number;
  name: string;
  /** Elements per block; 1 for the scalar types. */
  blockSize: number;
  /** Bytes per block. */
  typeSize: number;
}

const QK_K = 256;

// [id, name, blockSize, typeSize]. Ids 4 and 5 (Q4_2, Q4_3) were removed before GGUF existed.
const TABLE: readonly (readonly [number, string, number, number])[] = [
  [0, 'F32', 1, 4],
  [1, 'F16', 1, 2],
  [2, 'Q4_0', 32, 18],
  [3, 'Q4_1', 32, 20],
  [6, 'Q5_0', 32, 22],
  [7, 'Q5_1', 32, 24],
  [8, 'Q8_0', 32, 34],
  [9, 'Q8_1', 32, 36],
  [10, 'Q2_K', QK_K, 84],
  [11, 'Q3_K', QK_K, 110],
  [12, 'Q4_K', QK_K, 144],
  [13, 'Q5_K', QK_K, 176],
  [14, 'Q6_K', QK_K, 210],
  [15, 'Q8_K', QK_K, 292],
  [16, 'IQ2_XXS', QK_K, 66],
  [17, 'IQ2_XS', QK_K, 74],
  [18, 'IQ3_XXS', QK_K, 98],
  [19, 'IQ1_S', QK_K, 50],
  [20, 'IQ4_NL', 32, 18],
  [21, 'IQ3_S', QK_K, 110],
  [22, 'IQ2_S', QK_K, 82],
  [23, 'IQ4_XS', QK_K, 136],
  [24, 'I8', 1, 1],
  [25, 'I16', 1, 2],
  [26, 'I32', 1, 4],
  [27, 'I64', 1, 8],
  [28, 'F64', 1, 8],
  [29, 'IQ1_M', QK_K, 56],
  [30, 'BF16', 1, 2],
  // 31-33 and 36-38: interleaved Q4_0 / IQ4_NL repacks, dropped from ggml but present in older files.
  [31, 'Q4_0_4_4', 32, 18],
  [32, 'Q4_0_4_8', 32, 18],
  [33, 'Q4_0_8_8', 32, 18],
  [34, 'TQ1_0', QK_K, 54],
  [35, 'TQ2_0', QK_K, 66],
  [36, 'IQ4_NL_4_4', 32, 18],
  [37, 'IQ4_NL_4_8', 32, 18],
  [38, 'IQ4_NL_8_8', 32, 18],
  [39, 'MXFP4', 32, 17],
  [40, 'NVFP4', 64, 36],
  [41, 'Q1_0', 128, 18],
  [42, 'Q2_0', 64, 18],
];

const BY_ID: ReadonlyMap<number, GgmlType> = new Map(
  TABLE.map(([id, name, blockSize, typeSize]) => [id, { id, name, blockSize, typeSize }]),
);

/** The type for a GGUF type id, or undefined for ids this table does not know. */
export function ggmlType(id: number): GgmlType | undefined {
  return BY_ID.get(id);
}
