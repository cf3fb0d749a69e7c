// MD5 of many bodies at once, through the N-API addon of native/coffre_md5.c (built by
// scripts/build-native.ts into build/coffre_md5.node against the running Node's OpenSSL headers).
//
// One MD5 stream runs at one core's speed whatever is done (each block needs the state the block
// before left). A digest worker hashing several PUT bodies at once gives the addon up to sixteen
// of them per call: their full blocks go through one AVX-512 kernel together, sixteen states side
// by side, about ten times OpenSSL's one-stream rate in all on this machine (`npm run bench
// checksums`); CPUs with AVX2 but not AVX-512 get an eight-lane kernel. One stream alone, partial
// blocks and CPUs without AVX2 go through OpenSSL's MD5_Update. Without the addon (no C compiler,
// a Node without its headers) or if it hashes wrongly on a known input, the digest workers use
// Node's hash API, one body at a time.
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { requireAddon } from '../native/addon.ts';

/** One body's MD5 in progress: an OpenSSL MD5_CTX in memory of ours. */
export interface Md5Context {
  readonly state: Uint8Array;
}

export interface NativeMd5 {
  readonly path: string;
  /** The widest kernel here: 16 (AVX-512), 8 (AVX2), or 1 (none: each body on its own). */
  readonly lanes: number;
  create(): Md5Context;
  /**
   * Feeds pieces[i] to contexts[i], any number of bodies, through the kernel of `lanes` bodies
   * (default the widest; 8 or 1, each body on its own, for comparisons and tests).
   */
  update(contexts: Md5Context[], pieces: Uint8Array[], lanes?: number): void;
  /** The 16-byte digest; the context is spent. */
  digest(context: Md5Context): Uint8Array;
}

interface Md5Addon {
  contextBytes: number;
  lanes: number;
  init(state: Uint8Array): void;
  update(states: Uint8Array[], pieces: Uint8Array[], lanes: number): void;
  digest(state: Uint8Array, output: Uint8Array): void;
}

/** The most bodies one call of the addon takes (its kernel's width). */
const maximumLanes = 16;

export const nativeMd5Path = fileURLToPath(new URL('../../build/coffre_md5.node', import.meta.url));

/** The addon at `addonPath`, or undefined when it is not built, does not load, or hashes wrongly. */
export function loadNativeMd5(addonPath: string = nativeMd5Path): NativeMd5 | undefined {
  const addon = requireAddon<Md5Addon>(addonPath, ['init', 'update', 'digest']);
  if (addon === undefined || !Number.isInteger(addon.contextBytes) || !Number.isInteger(addon.lanes))
    return undefined;
  const md5: NativeMd5 = {
    path: addonPath,
    lanes: addon.lanes,
    create() {
      // A fresh ArrayBuffer of its own: aligned for the context's words.
      const state = new Uint8Array(addon.contextBytes);
      addon.init(state);
      return { state };
    },
    update(contexts, pieces, lanes = addon.lanes) {
      for (let start = 0; start < contexts.length; start += maximumLanes) {
        addon.update(
          contexts.slice(start, start + maximumLanes).map((context) => context.state),
          pieces.slice(start, start + maximumLanes),
          lanes,
        );
      }
    },
    digest(context) {
      const output = new Uint8Array(16);
      addon.digest(context.state, output);
      return output;
    },
  };
  try {
    return hashesLikeNode(md5) ? md5 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Seventeen bodies of uneven lengths (empty, under a block, across blocks, several KiB), fed in
 * uneven pieces through every kernel this CPU runs and one at a time, against Node's MD5: an
 * addon built against other headers than the running OpenSSL's must not give a single ETag.
 */
function hashesLikeNode(md5: NativeMd5): boolean {
  const lengths = Array.from({ length: 17 }, (_, index) => (index * 977) % 9001);
  const bodies = lengths.map((length, index) => {
    const body = new Uint8Array(length);
    for (let byte = 0; byte < length; byte += 1) body[byte] = (byte * 31 + index * 7 + (byte >> 9)) & 0xff;
    return body;
  });
  for (const lanes of [16, 8, 1].filter((width) => width <= md5.lanes)) {
    const contexts = bodies.map(() => md5.create());
    const cuts = [0, 13, 64, 1000, 4096, Number.POSITIVE_INFINITY];
    for (let index = 0; index + 1 < cuts.length; index += 1) {
      md5.update(
        contexts,
        bodies.map((body) =>
          body.subarray(Math.min(cuts[index], body.length), Math.min(cuts[index + 1], body.length)),
        ),
        lanes,
      );
    }
    for (const [index, body] of bodies.entries()) {
      const expected = createHash('md5').update(body).digest();
      if (!expected.equals(md5.digest(contexts[index]))) return false;
    }
  }
  return true;
}

let loaded: NativeMd5 | null | undefined;

/** The addon, loaded and checked once per thread; null without it. */
export function nativeMd5(): NativeMd5 | null {
  if (loaded === undefined) loaded = loadNativeMd5() ?? null;
  return loaded;
}
