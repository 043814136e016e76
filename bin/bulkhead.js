#!/usr/bin/env node
// The `bulkhead` command: runs the compiled CLI (npm install builds it; `npm run build` refreshes it).
import '../dist/src-main/cli/bin.js';
