export * from './layer';
export * from './block-index';
export * from './weight-layout';
export * from './build-layers';
export * from './layer-matrices';
export * from './module-tree';
export * from './model-summary';
