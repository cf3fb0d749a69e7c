// The agent's entry point (`npm start`). Every drive's fsync holds one libuv pool thread until the
// disk answers: with Node's default of 4 threads, six drives' fsyncs queue behind each other. More
// threads than the drives need cost too: each hand-off to an idle thread is a wake-up the event loop
// pays for. 8 (six drives and two to spare) gave 15-20 % more 1 MiB PUTs and 64 MiB GETs than 32 on
// the reference machine (BENCHMARKS.md, run 8); a host with more drives sets UV_THREADPOOL_SIZE to
// about drives + 2. The pool is sized on its first use, so this must happen before the agent's
// modules load: they are imported only afterwards.
process.env.UV_THREADPOOL_SIZE ??= '8';
await import('./run.ts');
