// Worker entry when the CLI runs from its TypeScript sources (WEIGHTLENS_NO_BUNDLE=1 or no
// writable bundle): worker threads do not inherit the main thread's tsx loader, so register it
// here before loading the worker module. The bundled CLI loads its own bundle instead.
import { register } from 'tsx/esm/api';

register();
await import('./pool-worker.ts');
