// AES-256-GCM into reused memory (sealing on PUT, opening in the decryption workers), through the N-API addon of native/coffre_gcm.c, built by
// scripts/build-native.ts into build/coffre_gcm.node against the running Node's OpenSSL headers.
//
// Node's cipher.update() allocates a fresh buffer per call; on a large PUT that allocation cost
// about twice the AES itself (`npm run bench crypto`, BENCHMARKS.md). The addon calls the same
// OpenSSL, but writes where it is told. Without the addon (no C compiler, a Node without its
// headers) or if its answer differs from Node's on a known input, chunked-aead.ts uses Node's
// cipher API: the ciphertext is the same byte for byte either way.
import { createCipheriv } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { requireAddon } from '../native/addon.ts';

/** A cipher context holding one data key: chunks are begun, sealed in pieces and ended with a tag. */
export interface NativeSealer {
  /** Starts a chunk: its 12-byte nonce and its additional authenticated data. */
  begin(nonce: Uint8Array, aad: Uint8Array): void;
  /** Encrypts `plaintext` into `output` (at least as long; it may be `plaintext` itself). */
  sealInto(plaintext: Uint8Array, output: Uint8Array): void;
  /** Ends the chunk and writes its 16-byte tag into `tag`. */
  end(tag: Uint8Array): void;
  /** Frees the context now, rather than at a later garbage collection. */
  release(): void;
}

/** What opening one chunk takes: its nonce, additional data, ciphertext, tag, and where to write. */
type OpenArguments = [
  nonce: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
  output: Uint8Array,
];

/** A cipher context holding one data key, opening whole chunks. */
export interface NativeOpener {
  /**
   * Decrypts `ciphertext` into `output` (at least as long; it may be `ciphertext` itself) and
   * checks `tag`. False when the tag does not match: `output` is then zeroed.
   */
  openInto(...args: OpenArguments): boolean;
  release(): void;
}

export interface NativeGcm {
  readonly path: string;
  createSealer(key: Uint8Array): NativeSealer;
  createOpener(key: Uint8Array): NativeOpener;
}

/** The addon's own exports; it re-checks every argument and throws rather than trust them. */
interface GcmAddon {
  createSealer(key: Uint8Array): object;
  beginChunk(sealer: object, nonce: Uint8Array, aad: Uint8Array): void;
  sealInto(sealer: object, plaintext: Uint8Array, output: Uint8Array): void;
  endChunk(sealer: object, tag: Uint8Array): void;
  releaseSealer(sealer: object): void;
  createOpener(key: Uint8Array): object;
  openInto(opener: object, ...args: OpenArguments): boolean;
}

export const nativeCipherPath = fileURLToPath(new URL('../../build/coffre_gcm.node', import.meta.url));

/** The addon at `addonPath`, or undefined when it is not built, does not load, or seals wrongly. */
export function loadNativeGcm(addonPath: string = nativeCipherPath): NativeGcm | undefined {
  const addon = requireAddon<GcmAddon>(addonPath, [
    'createSealer',
    'beginChunk',
    'sealInto',
    'endChunk',
    'releaseSealer',
    'createOpener',
    'openInto',
  ]);
  if (addon === undefined) return undefined;
  const gcm: NativeGcm = {
    path: addonPath,
    createSealer(key) {
      const handle = addon.createSealer(key);
      return {
        begin: (nonce, aad) => addon.beginChunk(handle, nonce, aad),
        sealInto: (plaintext, output) => addon.sealInto(handle, plaintext, output),
        end: (tag) => addon.endChunk(handle, tag),
        release: () => addon.releaseSealer(handle),
      };
    },
    createOpener(key) {
      const handle = addon.createOpener(key);
      return {
        openInto: (...args) => addon.openInto(handle, ...args),
        release: () => addon.releaseSealer(handle),
      };
    },
  };
  try {
    return sealsLikeNode(gcm) ? gcm : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Two chunks under one key, one sealed over itself and one into another buffer in uneven pieces,
 * compared with Node's cipher, then opened, and refused under a wrong tag: an addon built against
 * other headers than the running OpenSSL's must not write or read a single stored byte.
 */
function sealsLikeNode(gcm: NativeGcm): boolean {
  const key = Buffer.alloc(32, 0x5a);
  const sealer = gcm.createSealer(key);
  const opener = gcm.createOpener(key);
  try {
    for (const [index, length] of [
      [0, 1000],
      [1, 37],
    ]) {
      const nonce = Buffer.alloc(12, index + 1);
      const aad = Buffer.from(`coffre self-test ${index}`);
      const plaintext = Buffer.alloc(length);
      for (let byte = 0; byte < length; byte += 1) plaintext[byte] = (byte * 31 + index) & 0xff;
      const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
      cipher.setAAD(aad);
      const expected = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const expectedTag = cipher.getAuthTag();
      sealer.begin(nonce, aad);
      const output = index === 0 ? plaintext : Buffer.alloc(length);
      sealer.sealInto(plaintext.subarray(0, 17), output.subarray(0, 17));
      sealer.sealInto(plaintext.subarray(17), output.subarray(17));
      const tag = Buffer.alloc(16);
      sealer.end(tag);
      if (!output.equals(expected) || !tag.equals(expectedTag)) return false;
      // Opened over itself it gives the plaintext back; under a wrong tag, false and zeroes.
      const sealed = Buffer.from(expected);
      if (!opener.openInto(nonce, aad, sealed, tag, sealed)) return false;
      for (let byte = 0; byte < length; byte += 1)
        if (sealed[byte] !== ((byte * 31 + index) & 0xff)) return false;
      tag[0] ^= 1;
      const forged = Buffer.from(expected);
      if (opener.openInto(nonce, aad, forged, tag, forged) || forged.some((byte) => byte !== 0)) return false;
    }
    return true;
  } finally {
    sealer.release();
    opener.release();
  }
}

let loaded: NativeGcm | null | undefined;

/** The addon, loaded and checked once per process; null without it. */
export function nativeGcm(): NativeGcm | null {
  if (loaded === undefined) loaded = loadNativeGcm() ?? null;
  return loaded;
}
