// The agent's entry point (`npm start`), started with the V8 flags of node-flags.ts (the young
// generation's size, which only the command line can set). Two process-wide settings are made
// here, before the agent's modules load (they are imported only afterwards):
//
// - The libuv pool. Every drive's fsync holds one pool thread until the disk answers: with Node's
//   default of 4 threads, six drives' fsyncs queue behind each other. More threads than the drives
//   need cost too: each hand-off to an idle thread is a wake-up the event loop pays for. 8 (six
//   drives and two to spare) gave 15-20 % more 1 MiB PUTs and 64 MiB GETs than 32 on the reference
//   machine (BENCHMARKS.md, run 8); a host with more drives sets UV_THREADPOOL_SIZE to about
//   drives + 2. The pool is sized on its first use.
// - V8's external-memory heuristic. A PUT passes its body twice through fresh buffers outside V8's
//   heap on the event loop (the HTTP parser's pieces, the cipher's output): 128 MiB for a 64 MiB
//   object. By default V8 starts a full mark-compact of the whole heap every few dozen MiB of such
//   buffers; counted in the global heap limit instead, they are collected as the heap grows (the
//   limit's start is set by --initial-old-space-size, node-flags.ts).
//   Measured (BENCHMARKS.md, run 9): the collector threads' CPU per 64 MiB PUT fell from 91 to
//   46-51 ms; PUT 64 MiB c1/c16/c64 161/217/156 -> 187/271/282 MB/s, PUT 4 KiB c64 995 -> 1,152
//   per second; the peak RSS under load is higher by about half (PUT 1 MiB c64: 631 -> 948 MiB, PUT
//   64 MiB c64: 1,358 -> 1,844 MiB). (Reads no longer depend on it: they decrypt in a worker thread
//   and reuse their buffers.) `node --no-external-memory-accounted-in-global-limit
//   agent/main.ts` keeps V8's default (V8 flags are refused in NODE_OPTIONS).
process.env.UV_THREADPOOL_SIZE ??= '8';
const externalMemoryFlag = 'external-memory-accounted-in-global-limit';
if (!process.execArgv.some((argument) => argument.includes(externalMemoryFlag))) {
  const { setFlagsFromString } = await import('node:v8');
  setFlagsFromString(`--${externalMemoryFlag}`);
}
await import('./run.ts');
