/**
 * Layer boundaries from ../shared/DESIGN.md, checked in `npm test` (`npm run check:layers`).
 * A layer may import the layers listed below it, never those above. Exceptions are listed here
 * so everyone sees them.
 */
const LAYERS = [
  'app',
  'components',
  'lib/state',
  'lib/jobs',
  'lib/charts',
  'lib/analysis',
  'lib/gpu',
  'lib/inference',
  'lib/math',
  'lib/model',
  'lib/formats',
  'lib/io',
  'lib/base',
  'lib/platform',
];

const layerRules = LAYERS.map((layer, i) => ({
  name: `layer-order:${layer}`,
  comment: `${layer} may only import layers below it in DESIGN.md's list`,
  severity: 'error',
  from: { path: `^${layer}/` },
  to: { path: `^(${LAYERS.slice(0, i).join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...layerRules.filter((r) => r.to.path !== '^()/'),
    {
      name: 'lib-no-ui',
      comment: 'Nothing under lib/ imports React, Next, components/, app/, workers/ or cli/',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '(^node_modules/(react|react-dom|next)/)|(^(components|app|workers|cli)/)' },
    },
    {
      name: 'ui-no-math-no-parsing',
      comment: 'app/ and components/ draw and dispatch; numeric kernels, decoding and bytes stay in workers',
      severity: 'error',
      from: { path: '^(app|components)/' },
      to: { path: '^lib/(math|gpu|io|analysis|inference|formats/(?!types\\.ts$))' },
    },
    {
      name: 'only-inference-imports-ort',
      comment: 'lib/inference is the only importer of onnxruntime-web',
      severity: 'error',
      from: { pathNot: '^(lib/inference/|tests/|scripts/)' },
      to: { path: '^node_modules/onnxruntime-web/' },
    },
    {
      name: 'node-io-only-in-node',
      comment: 'lib/io/node (Node file handles) is for the CLI, scripts and tests only',
      severity: 'error',
      from: { pathNot: '^(cli|scripts|tests|lib/io/node)/' },
      to: { path: '^lib/io/node/' },
    },
    {
      name: 'lib-no-node-builtins',
      comment: 'lib/ runs in browsers and workers: no node: modules outside lib/io/node',
      severity: 'error',
      from: { path: '^lib/', pathNot: '^lib/io/node/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'workers-thin',
      comment: 'worker entries are shells over lib/: nothing imports them but lib/jobs (by URL)',
      severity: 'error',
      from: { pathNot: '^(lib/jobs|tests)/' },
      to: { path: '^workers/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '(^|/)(\\.next|node_modules|public)/' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'] },
  },
};
