/**
 * Cross-origin isolation (COOP same-origin + COEP require-corp) on every route, so the app gets
 * SharedArrayBuffer and precise timers (onnxruntime-web threads need them). Everything the app
 * loads (workers, WGSL, demo models) is same-origin, so require-corp blocks nothing of ours.
 */
const isolation = [
  { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
  { key: 'Cross-Origin-Embedder-Policy', value: 'require-corp' },
];

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Types are checked once for the whole repo by `npm run typecheck` (tsc) in `npm test`; the
  // build does not repeat it, so a type error in CLI or test code does not block serving the app.
  typescript: { ignoreBuildErrors: true },
  async headers() {
    return [{ source: '/:path*', headers: isolation }];
  },
  turbopack: {
    // lib/gpu/*.wgsl are imported as strings (the kernels' source text).
    rules: { '*.wgsl': { type: 'text' } },
  },
  webpack(config) {
    // Same for `next build --webpack`.
    config.module.rules.push({ test: /\.wgsl$/, type: 'asset/source' });
    return config;
  },
};

export default nextConfig;
