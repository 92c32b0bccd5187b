// WGSL sources are imported as text (next.config.js: turbopack rule `*.wgsl` -> type 'text').
declare module '*.wgsl' {
  const source: string;
  export default source;
}
