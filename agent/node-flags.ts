// The V8 flags the agent is started with: `node <agentNodeFlags> agent/main.ts`. Every launcher
// passes them (npm start, the systemd unit and the service script of the rollout, the bench and
// the tests' agent processes): V8 sizes its heap when the process starts, so they cannot be set
// from inside (agent/main.ts sets the one heuristic that can be).
//
// Full collections the heap does not need. A large PUT allocates its body in fresh buffers outside
// V8's heap (the HTTP parser's pieces: 64 MiB per 64 MiB object; twice that with Node's cipher,
// when the native sealer of agent/crypto is not built), each dead as soon as the next piece arrives. The agent counts such memory in V8's global
// limit (agent/main.ts), which starts from a small old generation (~15 MiB live here), so V8 ran a
// mark-compact of the whole heap every ~100 ms of a PUT stream, for nothing: each found the same
// ~15 MiB alive.
// - `--initial-old-space-size=256` starts that limit at 256 MiB: no mark-compact at all during
//   a stream of 64 MiB PUTs (`npm run bench put-gc`: 0 in 14 runs of 16 PUTs), against 29-34 per
//   16 PUTs with V8's defaults (64 MiB was not enough: 10-37 in 3 runs; 128: none in 3).
// - `--max-semi-space-size=64 --min-semi-space-size=16`, a larger young generation: the wrappers
//   of those buffers and the pipeline's promises die in scavenges instead of being promoted
//   (alone, it avoided the mark-compacts in 10 runs of 18).
// Measured on the reference machine (BENCHMARKS.md, run 11): one 64 MiB PUT stream 265-298 MB/s
// with V8's defaults, 325-392 with both; in the load generator's 8 s cells, both against the young
// generation alone, PUT 64 MiB c1 338-375 against 315-344 MB/s, c16 352-360 against 246-352; the
// 5 GiB upload 363 MB/s (268-324 before). The collector threads' CPU per 64 MiB PUT 53 -> 14 ms.
// Peak RSS at c16 +100 MiB. With the native sealer (run 12) the defaults still ran 20-21
// mark-compacts per 16 PUTs (298-320 MB/s), these flags none (320-334 MB/s).
export const agentNodeFlags: readonly string[] = [
  '--max-semi-space-size=64',
  '--min-semi-space-size=16',
  '--initial-old-space-size=256',
];
