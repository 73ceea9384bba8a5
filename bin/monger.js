#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader: no build step between editing and running
import { register } from 'tsx/esm/api';

register();
await import('../runner/cli/main.ts');
