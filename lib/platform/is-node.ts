/** True under Node (CLI, vitest): used to pick the Node file source and skip browser-only paths. */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}
