// The agent's entry point (`npm start`). Every drive's fsync holds one libuv pool thread until the
// disk answers; with Node's default of 4 threads, six drives queue behind each other and durable
// small writes crawl. The pool is sized on its first use, so this must happen before the agent's
// modules load: they are imported only afterwards.
process.env.UV_THREADPOOL_SIZE ??= '32';
await import('./run.ts');
