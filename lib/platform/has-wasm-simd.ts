/**
 * Whether this JS realm runs WebAssembly with the fixed-width SIMD proposal (Chrome 91, Firefox 89,
 * Safari 16.4, Node 16.4). Validates a 1-function module, `() -> v128 { i8x16.splat(i32.const 0) }`,
 * without compiling anything; the answer cannot change, so it is computed once.
 */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: one type, () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x0b, // code: no locals; i32.const 0; i8x16.splat; end
]);

let cached: boolean | undefined;

export function hasWasmSimd(): boolean {
  if (cached === undefined) {
    try {
      cached = typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
    } catch {
      cached = false;
    }
  }
  return cached;
}
