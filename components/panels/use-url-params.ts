'use client';
import { useCallback, useEffect, useState } from 'react';
import { installTestHooks } from '../test-hooks';

/**
 * A view's settings kept in its URL, so the view is a permalink: parsed once on the client (null
 * until then), written back with replaceState on every change (settings changes are not history
 * entries; other parameters such as cpu and testhooks are kept). `update` merges a partial change.
 */
export function useUrlParams<P>(parse: (q: URLSearchParams) => P, write: (q: URLSearchParams, p: P) => URLSearchParams): [P | null, (p: Partial<P>) => void] {
  const [params, setParams] = useState<P | null>(null);
  useEffect(() => {
    installTestHooks();
    setParams(parse(new URLSearchParams(window.location.search)));
    // parse is a module-level function: read the URL once, on mount.
  }, []);
  useEffect(() => {
    if (!params) return;
    const url = new URL(window.location.href);
    write(url.searchParams, params);
    if (url.href !== window.location.href) window.history.replaceState(window.history.state, '', url);
  }, [params, write]);
  const update = useCallback((p: Partial<P>) => setParams((old) => (old ? { ...old, ...p } : old)), []);
  return [params, update];
}
