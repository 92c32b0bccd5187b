#!/usr/bin/env node
// The `weightlens` bin: the CLI is TypeScript sharing lib/ with the app, so register tsx's ESM
// loader (compiled files are cached, so later runs start fast) and hand over to main.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
