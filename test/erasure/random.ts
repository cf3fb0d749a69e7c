// A small seeded generator (xorshift32) so that every random test replays from the seed printed
// in its title.

export interface Random {
  /** An integer in [0, bound). */
  below(bound: number): number;
  bytes(lengthBytes: number): Uint8Array;
  /** `count` distinct integers of [0, bound), in random order. */
  distinct(count: number, bound: number): number[];
}

export function seededRandom(seed: number): Random {
  let state = seed >>> 0 || 0x9e3779b9;
  const next = (): number => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  const below = (bound: number): number => next() % bound;
  return {
    below,
    bytes(lengthBytes) {
      const result = new Uint8Array(lengthBytes);
      for (let index = 0; index < lengthBytes; index++) result[index] = next() & 0xff;
      return result;
    },
    distinct(count, bound) {
      const pool = Array.from({ length: bound }, (_, index) => index);
      for (let index = 0; index < count; index++) {
        const pick = index + below(bound - index);
        [pool[index], pool[pick]] = [pool[pick], pool[index]];
      }
      return pool.slice(0, count);
    },
  };
}
