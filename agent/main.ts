// The agent's entry point (`npm start`). Every drive's fsync holds one libuv pool thread until the
// disk answers; with Node's default of 4 threads, six drives queue behind each other and durable
// small writes crawl. The pool is sized on its first use, so this must happen before the agent's
// modules load: they are imported only afterwards.
//
// Large bodies allocate their buffers outside V8's heap (socket reads, cipher output, shard reads):
// ~128 MiB per 64 MiB PUT or GET. By default V8 starts a full collection every ~64 MiB of such
// memory, whatever the heap's own size (13 MB here): 2-3 per object, ~110 ms of the collector's
// threads per 64 MiB PUT. Counting it against the heap's global limit instead cut that to ~60 ms
// and the major collections by 60 % in a PUT profile (BENCHMARKS.md, S3 load run 4); memory stays
// bounded by the same limits (the 5 GiB upload's RSS growth is measured there).
import v8 from 'node:v8';

process.env.UV_THREADPOOL_SIZE ??= '32';
v8.setFlagsFromString('--external-memory-accounted-in-global-limit');
await import('./run.ts');
