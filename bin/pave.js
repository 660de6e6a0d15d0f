#!/usr/bin/env node
// The installed entry point: runs the compiled CLI (npm run build writes dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const main = path.join(root, 'dist', 'cli', 'main.js');
if (!existsSync(main)) {
  console.error('pave: dist/ is missing; run "npm run build" (npm ci does it for you)');
  process.exit(1);
}
await import(pathToFileURL(main).href);
