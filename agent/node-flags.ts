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
// (BENCHMARKS.md, run 11, alternated A/B): the collector threads' CPU per 64 MiB PUT is lower in
// every pair (14 against 53 ms in most, 38 against 59 in one); the throughput gain is not as
// steady: one 64 MiB PUT at a time 355-381 against 312-322 MB/s in one series, the same
// (334-344 MB/s) in the load generator's cells, PUT 64 MiB c16 264-336 against 250-275 MB/s,
// and the 5 GiB single upload 300-311 against 318-324 MB/s. Peak RSS +20-40 MiB.
export const agentNodeFlags: readonly string[] = ['--max-semi-space-size=64', '--min-semi-space-size=16'];
