// Runs after `npm install`, under the project's own Node.js (node_modules/.bin/node comes first
// on the PATH of npm scripts). It builds the optional native erasure kernel; a machine without a
// compiler or ISA-L keeps the portable kernel, so installing never fails because of it.
import { buildNativeKernel } from './build-native.ts';

await buildNativeKernel({ quiet: false });
