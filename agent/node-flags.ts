// The V8 flags the agent is started with: `node <agentNodeFlags> agent/main.ts`. Every launcher
// passes them (npm start, the systemd unit and the service script of the rollout, the bench and
// the tests' agent processes): V8 sizes its young generation when the process starts, so they
// cannot be set from inside (agent/main.ts sets the one heuristic that can be).
//
// A larger young generation. A large PUT makes short-lived wrappers at a high rate (a Buffer for
// every piece the HTTP parser hands over, one for every cipher output, promises of the pipeline):
// with V8's default (semi-spaces that start at 1 MiB and stay small while the rate is bursty), many
// of them live through two scavenges, are promoted, and feed full mark-compacts of the whole heap.
// With semi-spaces of at least 16 MiB they die young. Measured on the reference machine
// (`npm run bench object-cpu -- --mode=put --count=16`, alternated, BENCHMARKS.md run 11): per
// 64 MiB PUT, collector threads 53 -> 14 ms, event loop 130 -> 115-120 ms, one stream 312-322 ->
// 355-381 MB/s; peak RSS +20 MiB.
export const agentNodeFlags: readonly string[] = ['--max-semi-space-size=64', '--min-semi-space-size=16'];
