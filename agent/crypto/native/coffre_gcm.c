// AES-256-GCM into memory the caller provides, for agent/crypto/native-gcm.ts: sealing (PUT) and
// opening (GET, in the decryption workers).
//
// Node's cipher.update() returns a freshly allocated buffer for every call: on a 64 MiB PUT, cut
// into ~64 KiB socket pieces, that allocation (new memory, touched once) costs about twice the AES
// itself. This addon calls the same OpenSSL that Node links (its EVP functions resolve against the
// running node binary, built against that binary's own headers) but writes the ciphertext where it
// is told: into a buffer the caller reuses, or over the plaintext itself.
//
// One sealer holds one EVP_CIPHER_CTX with the object's data key expanded once; each chunk starts
// with its nonce and additional data, takes any number of updates and ends with its tag. An opener
// likewise holds a key, and opens one whole chunk per call, its tag checked before it answers.
// Every argument is checked, and every OpenSSL failure throws: nothing is read or written out of
// bounds.
#include <limits.h>
#include <stdlib.h>
#include <node_api.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "../../native/coffre_napi.h"

#define KEY_BYTES 32
#define NONCE_BYTES 12
#define TAG_BYTES 16

// One AES-256-GCM context under one key: a sealer (encrypt 1) or an opener (encrypt 0). Each call
// takes only the kind it is for, so a sealer can never decrypt nor an opener encrypt.
typedef struct {
  EVP_CIPHER_CTX *ctx;
  int encrypt;
  int in_chunk;
} sealer;

static napi_value fail(napi_env env, const char *message) {
  napi_throw_error(env, "ERR_COFFRE_GCM", message);
  return NULL;
}

static void finalize_sealer(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  sealer *s = (sealer *)data;
  if (s->ctx != NULL) EVP_CIPHER_CTX_free(s->ctx);
  free(s);
}


// The live context behind `value`: of the kind `encrypt` asks (1 sealer, 0 opener, -1 either).
static sealer *sealer_of(napi_env env, napi_value value, int encrypt) {
  napi_valuetype type;
  void *data = NULL;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external) return NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok) return NULL;
  sealer *s = (sealer *)data;
  if (s == NULL || s->ctx == NULL) return NULL;
  return encrypt < 0 || s->encrypt == encrypt ? s : NULL;
}

// A context for AES-256-GCM under `key` (argument 0): encrypt 1 for a sealer, 0 for an opener.
static napi_value create_context(napi_env env, napi_callback_info info, int encrypt) {
  const char *name = encrypt ? "createSealer" : "createOpener";
  char message[96];
  napi_value argv[1];
  uint8_t *key;
  size_t key_length;
  if (!arguments(env, info, 1, argv) || !uint8_array(env, argv[0], &key, &key_length) || key_length != KEY_BYTES) {
    snprintf(message, sizeof message, "%s(key): key must be a Uint8Array of 32 bytes", name);
    return fail(env, message);
  }
  sealer *s = (sealer *)calloc(1, sizeof(sealer));
  if (s == NULL) return fail(env, "out of memory for a cipher context");
  s->encrypt = encrypt;
  s->ctx = EVP_CIPHER_CTX_new();
  if (s->ctx == NULL || EVP_CipherInit_ex(s->ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, encrypt) != 1 ||
      EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) != 1 ||
      EVP_CipherInit_ex(s->ctx, NULL, NULL, key, NULL, encrypt) != 1) {
    finalize_sealer(env, s, NULL);
    snprintf(message, sizeof message, "%s: OpenSSL could not set up AES-256-GCM", name);
    return fail(env, message);
  }
  napi_value external;
  if (napi_create_external(env, s, finalize_sealer, NULL, &external) != napi_ok) {
    finalize_sealer(env, s, NULL);
    snprintf(message, sizeof message, "%s: could not wrap the cipher context", name);
    return fail(env, message);
  }
  return external;
}

// createSealer(key: Uint8Array(32)): external
static napi_value create_sealer(napi_env env, napi_callback_info info) {
  return create_context(env, info, 1);
}

// beginChunk(sealer, nonce: Uint8Array(12), aad: Uint8Array): undefined
static napi_value begin_chunk(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  uint8_t *nonce, *aad;
  size_t nonce_length, aad_length;
  if (!arguments(env, info, 3, argv)) return fail(env, "beginChunk(sealer, nonce, aad): three arguments");
  sealer *s = sealer_of(env, argv[0], 1);
  if (s == NULL) return fail(env, "beginChunk: not a live sealer");
  if (!uint8_array(env, argv[1], &nonce, &nonce_length) || nonce_length != NONCE_BYTES)
    return fail(env, "beginChunk: nonce must be a Uint8Array of 12 bytes");
  if (!uint8_array(env, argv[2], &aad, &aad_length) || aad_length > INT_MAX)
    return fail(env, "beginChunk: aad must be a Uint8Array");
  int written = 0;
  if (EVP_EncryptInit_ex(s->ctx, NULL, NULL, NULL, nonce) != 1 ||
      (aad_length > 0 && EVP_EncryptUpdate(s->ctx, NULL, &written, aad, (int)aad_length) != 1))
    return fail(env, "beginChunk: OpenSSL refused the nonce or the additional data");
  s->in_chunk = 1;
  return NULL;
}

// sealInto(sealer, plaintext: Uint8Array, output: Uint8Array): undefined
// output is at least as long as plaintext; it may be the plaintext itself (the same bytes), never
// a partly overlapping range.
static napi_value seal_into(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  uint8_t *input, *output;
  size_t input_length, output_length;
  if (!arguments(env, info, 3, argv)) return fail(env, "sealInto(sealer, plaintext, output): three arguments");
  sealer *s = sealer_of(env, argv[0], 1);
  if (s == NULL || !s->in_chunk) return fail(env, "sealInto: not a live sealer inside a chunk");
  if (!uint8_array(env, argv[1], &input, &input_length) || !uint8_array(env, argv[2], &output, &output_length))
    return fail(env, "sealInto: plaintext and output must be Uint8Arrays");
  if (output_length < input_length) return fail(env, "sealInto: output shorter than the plaintext");
  if (input_length == 0) return NULL;
  if (input != output && input < output + input_length && output < input + input_length)
    return fail(env, "sealInto: plaintext and output overlap without being the same bytes");
  size_t done = 0;
  while (done < input_length) {
    // EVP lengths are ints: slices stay under 1 GiB.
    size_t slice = input_length - done;
    if (slice > (size_t)1 << 30) slice = (size_t)1 << 30;
    int written = 0;
    if (EVP_EncryptUpdate(s->ctx, output + done, &written, input + done, (int)slice) != 1 || (size_t)written != slice)
      return fail(env, "sealInto: OpenSSL failed to encrypt");
    done += slice;
  }
  return NULL;
}

// endChunk(sealer, tag: Uint8Array(16)): undefined
static napi_value end_chunk(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  uint8_t *tag;
  size_t tag_length;
  if (!arguments(env, info, 2, argv)) return fail(env, "endChunk(sealer, tag): two arguments");
  sealer *s = sealer_of(env, argv[0], 1);
  if (s == NULL || !s->in_chunk) return fail(env, "endChunk: not a live sealer inside a chunk");
  if (!uint8_array(env, argv[1], &tag, &tag_length) || tag_length != TAG_BYTES)
    return fail(env, "endChunk: tag must be a Uint8Array of 16 bytes");
  uint8_t rest[16];
  int written = 0;
  // GCM is a stream mode: the final call writes nothing.
  if (EVP_EncryptFinal_ex(s->ctx, rest, &written) != 1 || written != 0 ||
      EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, tag) != 1)
    return fail(env, "endChunk: OpenSSL failed to finish the chunk");
  s->in_chunk = 0;
  return NULL;
}

// releaseSealer(sealer or opener): undefined. Frees the context now (the key schedule with it)
// rather than at the next garbage collection; the external stays, dead.
static napi_value release_sealer(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!arguments(env, info, 1, argv)) return fail(env, "releaseSealer(sealer): one argument");
  sealer *s = sealer_of(env, argv[0], -1);
  if (s == NULL) return NULL;
  EVP_CIPHER_CTX_free(s->ctx);
  s->ctx = NULL;
  s->in_chunk = 0;
  return NULL;
}

// createOpener(key: Uint8Array(32)): external. An opener decrypts whole chunks.
static napi_value create_opener(napi_env env, napi_callback_info info) {
  return create_context(env, info, 0);
}

// openInto(opener, nonce(12), aad, ciphertext, tag(16), output): boolean
// Decrypts one whole chunk into output (at least as long; it may be the ciphertext itself) and
// checks its tag. On a tag that does not match, output is zeroed before returning false: no byte
// of a tampered chunk is left where a caller could read it.
static napi_value open_into(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  uint8_t *nonce, *aad, *input, *tag, *output;
  size_t nonce_length, aad_length, input_length, tag_length, output_length;
  if (!arguments(env, info, 6, argv))
    return fail(env, "openInto(opener, nonce, aad, ciphertext, tag, output): six arguments");
  sealer *s = sealer_of(env, argv[0], 0);
  if (s == NULL) return fail(env, "openInto: not a live opener");
  if (!uint8_array(env, argv[1], &nonce, &nonce_length) || nonce_length != NONCE_BYTES)
    return fail(env, "openInto: nonce must be a Uint8Array of 12 bytes");
  if (!uint8_array(env, argv[2], &aad, &aad_length) || aad_length > INT_MAX)
    return fail(env, "openInto: aad must be a Uint8Array");
  if (!uint8_array(env, argv[3], &input, &input_length) || input_length > INT_MAX)
    return fail(env, "openInto: ciphertext must be a Uint8Array under 2 GiB");
  if (!uint8_array(env, argv[4], &tag, &tag_length) || tag_length != TAG_BYTES)
    return fail(env, "openInto: tag must be a Uint8Array of 16 bytes");
  if (!uint8_array(env, argv[5], &output, &output_length) || output_length < input_length)
    return fail(env, "openInto: output must be a Uint8Array at least as long as the ciphertext");
  if (input_length > 0 && input != output && input < output + input_length && output < input + input_length)
    return fail(env, "openInto: ciphertext and output overlap without being the same bytes");
  // The tag is copied first: it may sit right after the ciphertext, inside what output overwrites.
  uint8_t expected[TAG_BYTES];
  memcpy(expected, tag, TAG_BYTES);
  int written = 0;
  if (EVP_DecryptInit_ex(s->ctx, NULL, NULL, NULL, nonce) != 1 ||
      (aad_length > 0 && EVP_DecryptUpdate(s->ctx, NULL, &written, aad, (int)aad_length) != 1) ||
      (input_length > 0 && (EVP_DecryptUpdate(s->ctx, output, &written, input, (int)input_length) != 1 ||
                            (size_t)written != input_length)) ||
      EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, expected) != 1) {
    if (input_length > 0) memset(output, 0, input_length);
    return fail(env, "openInto: OpenSSL failed to decrypt");
  }
  uint8_t rest[16];
  int authentic = EVP_DecryptFinal_ex(s->ctx, rest, &written) == 1;
  if (!authentic && input_length > 0) memset(output, 0, input_length);
  napi_value result;
  napi_get_boolean(env, authentic, &result);
  return result;
}

static int export_function(napi_env env, napi_value exports, const char *name, napi_callback callback) {
  napi_value function;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, NULL, &function) == napi_ok &&
         napi_set_named_property(env, exports, name, function) == napi_ok;
}

NAPI_MODULE_INIT() {
  if (!export_function(env, exports, "createSealer", create_sealer) ||
      !export_function(env, exports, "beginChunk", begin_chunk) ||
      !export_function(env, exports, "sealInto", seal_into) ||
      !export_function(env, exports, "endChunk", end_chunk) ||
      !export_function(env, exports, "releaseSealer", release_sealer) ||
      !export_function(env, exports, "createOpener", create_opener) ||
      !export_function(env, exports, "openInto", open_into))
    return NULL;
  return exports;
}
