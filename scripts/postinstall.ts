// Runs after `npm install`, under the project's own Node.js (node_modules/.bin/node comes first
// on the PATH of npm scripts). It builds the optional native addons (erasure kernel, AES-GCM,
// multi-stream MD5, aligned memory for direct I/O); a machine without a compiler or their headers
// keeps the portable code, so installing never fails.
import { buildNativeAddons } from './build-native.ts';

await buildNativeAddons({ quiet: false });
