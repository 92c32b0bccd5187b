export * from './errors';
export * from './limits';
export * from './rng';
export * from './assert';
