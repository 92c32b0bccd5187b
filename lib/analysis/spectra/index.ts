export * from './layer-esd';
export * from './metrics';
export * from './farms';
export * from './wpca';
export * from './analyze-layer';
