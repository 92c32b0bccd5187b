import { defineConfig } from 'vitest/config';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

// WebGPU kernels are unit-tested in Node through Dawn (the `webgpu` package) on SwiftShader, the
// CPU Vulkan driver that Debian's chromium ships. Dawn loads libvulkan by name at start-up, so the
// test processes (forked after this file runs) must inherit these variables.
const CHROMIUM_LIB = '/usr/lib/chromium';
if (existsSync(path.join(CHROMIUM_LIB, 'vk_swiftshader_icd.json'))) {
  process.env.LD_LIBRARY_PATH = [CHROMIUM_LIB, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  process.env.VK_ICD_FILENAMES ??= path.join(CHROMIUM_LIB, 'vk_swiftshader_icd.json');
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
}

export default defineConfig({
  resolve: { alias: { '@': path.resolve(import.meta.dirname) } },
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    // Set-up hooks load real models and run onnxruntime over the evaluation set; on a loaded 2-core
    // machine that can take far longer than vitest's 10 s default. Not a speed target (see bench).
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
