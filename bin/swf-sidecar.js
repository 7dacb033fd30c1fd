#!/usr/bin/env node
// The published entry point runs the compiled code (npm run build) for a fast start.
import '../dist/cli/main.js';
