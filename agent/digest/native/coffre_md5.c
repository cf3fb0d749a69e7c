// MD5 of many bodies at once, for agent/digest/native-md5.ts (the digest workers).
//
// MD5 cannot be split: each 64-byte block needs the state the block before left, so one stream
// hashes at one core's speed (~0.62 GB/s here, OpenSSL's assembly). But several streams can share
// one core: a vector register holds one 32-bit word of each stream's state, and every step of the
// compression function runs on all of them at once. Sixteen lanes with AVX-512 (~6-7 GB/s in all
// here), eight with AVX2 (~2.6 GB/s). When several PUT bodies are being hashed by one digest
// worker, their blocks go through a kernel together.
//
// Each stream's state is an OpenSSL MD5_CTX in memory the caller owns (a Uint8Array of
// `contextBytes`). A stream goes through OpenSSL's MD5_Update when it is alone, for its partial
// blocks, and on CPUs without AVX2; through a kernel for its full blocks; in any order: the kernels
// read and write A..D and add to the bit count exactly as MD5_Update would, and MD5_Final pads and
// ends as usual. The OpenSSL functions resolve against the running node binary, which exports the
// OpenSSL it links (the addon is built against that binary's own headers).
//
// Every argument is checked and a bad one throws: nothing is read or written out of bounds.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <node_api.h>
#include <openssl/md5.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "../../native/coffre_napi.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_LANES 1
#else
#define HAVE_LANES 0
#endif

#define LANES 16
#define BLOCK_BYTES 64

static napi_value fail(napi_env env, const char *message) {
  napi_throw_error(env, "ERR_COFFRE_MD5", message);
  return NULL;
}

// An MD5_CTX in a Uint8Array of exactly its size, aligned for its words.
static MD5_CTX *context_of(napi_env env, napi_value value) {
  uint8_t *data;
  size_t length;
  if (!uint8_array(env, value, &data, &length) || length != sizeof(MD5_CTX)) return NULL;
  if (((uintptr_t)data) % _Alignof(MD5_CTX) != 0) return NULL;
  return (MD5_CTX *)data;
}

// Adds `bytes` to the context's bit count, as MD5_Update does (Nl low 32 bits, Nh high).
static void count_bytes(MD5_CTX *ctx, size_t bytes) {
  uint32_t low = (uint32_t)(ctx->Nl + (((uint32_t)bytes) << 3));
  if (low < ctx->Nl) ctx->Nh += 1;
  ctx->Nh += (uint32_t)(((uint64_t)bytes) >> 29);
  ctx->Nl = low;
}

#if HAVE_LANES
static const uint32_t K[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};

// One step of RFC 1321 on sixteen lanes: a = b + ((a + f(b, c, d) + m + k) <<< s). The four round
// functions are one ternary-logic instruction each: F = b ? c : d (0xCA), G = d ? b : c (0xE4),
// H = b ^ c ^ d (0x96), I = c ^ (b | ~d) (0x39).
#define STEP(f, a, b, c, d, m, k, s)                                                                \
  do {                                                                                            \
    __m512i fn = _mm512_ternarylogic_epi32(b, c, d, f);                                           \
    a = _mm512_add_epi32(a, _mm512_add_epi32(fn, _mm512_add_epi32(m, _mm512_set1_epi32(k))));    \
    a = _mm512_add_epi32(b, _mm512_rol_epi32(a, s));                                              \
  } while (0)
#define ROUND(f, i, g0, g1, g2, g3, s0, s1, s2, s3)  \
  STEP(f, a, b, c, d, m[g0], K[i], s0);              \
  STEP(f, d, a, b, c, m[g1], K[i + 1], s1);          \
  STEP(f, c, d, a, b, m[g2], K[i + 2], s2);          \
  STEP(f, b, c, d, a, m[g3], K[i + 3], s3);

// RFC 1321's 64 steps, four at a time: the round function (one of F, G, H, I as the kernel writes
// them), the first constant's index, the message words and the rotations. Both kernels expand it.
#define MD5_SCHEDULE(R, F, G, H, I)           \
  R(F, 0, 0, 1, 2, 3, 7, 12, 17, 22)          \
  R(F, 4, 4, 5, 6, 7, 7, 12, 17, 22)          \
  R(F, 8, 8, 9, 10, 11, 7, 12, 17, 22)        \
  R(F, 12, 12, 13, 14, 15, 7, 12, 17, 22)     \
  R(G, 16, 1, 6, 11, 0, 5, 9, 14, 20)         \
  R(G, 20, 5, 10, 15, 4, 5, 9, 14, 20)        \
  R(G, 24, 9, 14, 3, 8, 5, 9, 14, 20)         \
  R(G, 28, 13, 2, 7, 12, 5, 9, 14, 20)        \
  R(H, 32, 5, 8, 11, 14, 4, 11, 16, 23)       \
  R(H, 36, 1, 4, 7, 10, 4, 11, 16, 23)        \
  R(H, 40, 13, 0, 3, 6, 4, 11, 16, 23)        \
  R(H, 44, 9, 12, 15, 2, 4, 11, 16, 23)       \
  R(I, 48, 0, 7, 14, 5, 6, 10, 15, 21)        \
  R(I, 52, 12, 3, 10, 1, 6, 10, 15, 21)       \
  R(I, 56, 8, 15, 6, 13, 6, 10, 15, 21)       \
  R(I, 60, 4, 11, 2, 9, 6, 10, 15, 21)

// `blocks` blocks of every lane in `active`, from `data[lane]` on; state[w * 16 + lane] is word w
// (A, B, C, D) of each lane. Lanes outside `active` are neither read nor changed.
__attribute__((target("avx512f"))) static void md5_lanes_blocks(uint32_t *state, const uint8_t *const *data,
                                                                size_t blocks, __mmask16 active) {
  __m512i a = _mm512_loadu_si512(state), b = _mm512_loadu_si512(state + 16);
  __m512i c = _mm512_loadu_si512(state + 32), d = _mm512_loadu_si512(state + 48);
  // Lane pointers as 64-bit gather indices from address 0, eight lanes per register.
  __m512i low_lanes = _mm512_loadu_si512((const void *)data);
  __m512i high_lanes = _mm512_loadu_si512((const void *)(data + 8));
  const __mmask8 low_active = (__mmask8)(active & 0xff), high_active = (__mmask8)(active >> 8);
  const __m512i next_block = _mm512_set1_epi64(BLOCK_BYTES);
  for (size_t n = 0; n < blocks; n++) {
    __m512i m[16];
    for (int word = 0; word < 16; word++) {
      // Word `word` of each lane's block; a lane outside `active` is not loaded.
      __m256i low = _mm512_mask_i64gather_epi32(_mm256_setzero_si256(), low_active, low_lanes,
                                                (const void *)(uintptr_t)(4 * word), 1);
      __m256i high = _mm512_mask_i64gather_epi32(_mm256_setzero_si256(), high_active, high_lanes,
                                                 (const void *)(uintptr_t)(4 * word), 1);
      m[word] = _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1);
    }
    const __m512i a0 = a, b0 = b, c0 = c, d0 = d;
    MD5_SCHEDULE(ROUND, 0xCA, 0xE4, 0x96, 0x39)
    // Inactive lanes keep their state.
    a = _mm512_mask_add_epi32(a0, active, a, a0);
    b = _mm512_mask_add_epi32(b0, active, b, b0);
    c = _mm512_mask_add_epi32(c0, active, c, c0);
    d = _mm512_mask_add_epi32(d0, active, d, d0);
    low_lanes = _mm512_add_epi64(low_lanes, next_block);
    high_lanes = _mm512_add_epi64(high_lanes, next_block);
  }
  _mm512_storeu_si512(state, a);
  _mm512_storeu_si512(state + 16, b);
  _mm512_storeu_si512(state + 32, c);
  _mm512_storeu_si512(state + 48, d);
}

// The same on eight lanes with AVX2 (CPUs without AVX-512): each round function takes two or three
// instructions and each rotation three, so it gives about half the AVX-512 kernel's rate.
#define STEP8(fn, a, b, c, d, m, k, s)                                                          \
  do {                                                                                        \
    a = _mm256_add_epi32(a, _mm256_add_epi32(fn(b, c, d), _mm256_add_epi32(m, _mm256_set1_epi32(k)))); \
    a = _mm256_add_epi32(b, _mm256_or_si256(_mm256_slli_epi32(a, s), _mm256_srli_epi32(a, 32 - s)));   \
  } while (0)
#define F8(b, c, d) _mm256_xor_si256(d, _mm256_and_si256(b, _mm256_xor_si256(c, d)))
#define G8(b, c, d) _mm256_xor_si256(c, _mm256_and_si256(d, _mm256_xor_si256(b, c)))
#define H8(b, c, d) _mm256_xor_si256(b, _mm256_xor_si256(c, d))
#define I8(b, c, d) _mm256_xor_si256(c, _mm256_or_si256(b, _mm256_xor_si256(d, _mm256_set1_epi32(-1))))
#define ROUND8(fn, i, g0, g1, g2, g3, s0, s1, s2, s3) \
  STEP8(fn, a, b, c, d, m[g0], K[i], s0);              \
  STEP8(fn, d, a, b, c, m[g1], K[i + 1], s1);          \
  STEP8(fn, c, d, a, b, m[g2], K[i + 2], s2);          \
  STEP8(fn, b, c, d, a, m[g3], K[i + 3], s3);

// As md5_lanes_blocks, on lanes 0..7 of the same state layout (state[w * 16 + lane]).
__attribute__((target("avx2"))) static void md5_lanes8_blocks(uint32_t *state, const uint8_t *const *data,
                                                              size_t blocks, uint8_t active) {
  __m256i a = _mm256_loadu_si256((const __m256i *)state), b = _mm256_loadu_si256((const __m256i *)(state + 16));
  __m256i c = _mm256_loadu_si256((const __m256i *)(state + 32)), d = _mm256_loadu_si256((const __m256i *)(state + 48));
  __m256i low_lanes = _mm256_loadu_si256((const __m256i *)data);
  __m256i high_lanes = _mm256_loadu_si256((const __m256i *)(data + 4));
  int32_t mask_words[8];
  for (int lane = 0; lane < 8; lane++) mask_words[lane] = (active >> lane) & 1 ? -1 : 0;
  const __m256i lane_mask = _mm256_loadu_si256((const __m256i *)mask_words);
  const __m128i low_mask = _mm256_castsi256_si128(lane_mask), high_mask = _mm256_extracti128_si256(lane_mask, 1);
  const __m256i next_block = _mm256_set1_epi64x(BLOCK_BYTES);
  for (size_t n = 0; n < blocks; n++) {
    __m256i m[16];
    for (int word = 0; word < 16; word++) {
      // Word `word` of each lane's block; a lane outside `active` is not loaded.
      __m128i low = _mm256_mask_i64gather_epi32(_mm_setzero_si128(), (const int *)(uintptr_t)(4 * word), low_lanes,
                                                low_mask, 1);
      __m128i high = _mm256_mask_i64gather_epi32(_mm_setzero_si128(), (const int *)(uintptr_t)(4 * word),
                                                 high_lanes, high_mask, 1);
      m[word] = _mm256_set_m128i(high, low);
    }
    const __m256i a0 = a, b0 = b, c0 = c, d0 = d;
    MD5_SCHEDULE(ROUND8, F8, G8, H8, I8)
    // Inactive lanes keep their state.
    a = _mm256_blendv_epi8(a0, _mm256_add_epi32(a, a0), lane_mask);
    b = _mm256_blendv_epi8(b0, _mm256_add_epi32(b, b0), lane_mask);
    c = _mm256_blendv_epi8(c0, _mm256_add_epi32(c, c0), lane_mask);
    d = _mm256_blendv_epi8(d0, _mm256_add_epi32(d, d0), lane_mask);
    low_lanes = _mm256_add_epi64(low_lanes, next_block);
    high_lanes = _mm256_add_epi64(high_lanes, next_block);
  }
  _mm256_storeu_si256((__m256i *)state, a);
  _mm256_storeu_si256((__m256i *)(state + 16), b);
  _mm256_storeu_si256((__m256i *)(state + 32), c);
  _mm256_storeu_si256((__m256i *)(state + 48), d);
}
#endif

// The widest kernel this CPU runs: 16 (AVX-512), 8 (AVX2) or 1 (none: OpenSSL, one stream at a time).
static int widest_lanes(void) {
#if HAVE_LANES
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return 16;
  if (__builtin_cpu_supports("avx2")) return 8;
#endif
  return 1;
}

// Hashes data[i] into contexts[i] for `count` streams (at most `width`, the kernel's lanes: 16 or
// 8; 1 for none). With a kernel, each stream first completes its partial block through MD5_Update,
// then the full blocks of all streams go through the kernel together, for as long as two or more
// have some left (one alone is faster through OpenSSL), and what is left of each, its last full
// blocks and its tail, goes through MD5_Update.
static void update_group(MD5_CTX **contexts, const uint8_t **data, size_t *lengths, size_t count, int width) {
#if HAVE_LANES
  if (width > 1 && count >= 2) {
    size_t blocks[LANES];
    for (size_t i = 0; i < count; i++) {
      if (contexts[i]->num != 0 && lengths[i] > 0) {
        size_t fill = BLOCK_BYTES - contexts[i]->num;
        if (fill > lengths[i]) fill = lengths[i];
        MD5_Update(contexts[i], data[i], fill);
        data[i] += fill;
        lengths[i] -= fill;
      }
      // A context still holding a partial block takes no full blocks (its input ended).
      blocks[i] = contexts[i]->num == 0 ? lengths[i] / BLOCK_BYTES : 0;
    }
    uint32_t state[4 * LANES];
    const uint8_t *pointers[LANES];
    memset(state, 0, sizeof state);
    memset(pointers, 0, sizeof pointers);
    for (size_t i = 0; i < count; i++) {
      state[i] = contexts[i]->A;
      state[LANES + i] = contexts[i]->B;
      state[2 * LANES + i] = contexts[i]->C;
      state[3 * LANES + i] = contexts[i]->D;
      pointers[i] = data[i];
    }
    size_t done = 0;
    for (;;) {
      uint32_t active = 0;
      size_t least = SIZE_MAX;
      int streams = 0;
      for (size_t i = 0; i < count; i++) {
        if (blocks[i] > done) {
          active |= 1u << i;
          streams += 1;
          if (blocks[i] - done < least) least = blocks[i] - done;
        }
      }
      if (streams < 2) break;
      if (width == 16)
        md5_lanes_blocks(state, pointers, least, (__mmask16)active);
      else
        md5_lanes8_blocks(state, pointers, least, (uint8_t)active);
      for (size_t i = 0; i < count; i++)
        if (active & (1u << i)) pointers[i] += least * BLOCK_BYTES;
      done += least;
    }
#ifdef COFFRE_MD5_FAULTY_LANES
    // Test builds only (test/digest/native-md5.test.ts): a wrong kernel, which the self-check refuses.
    if (done > 0) state[0] ^= 1;
#endif
    for (size_t i = 0; i < count; i++) {
      size_t hashed = (blocks[i] < done ? blocks[i] : done) * BLOCK_BYTES;
      contexts[i]->A = state[i];
      contexts[i]->B = state[LANES + i];
      contexts[i]->C = state[2 * LANES + i];
      contexts[i]->D = state[3 * LANES + i];
      count_bytes(contexts[i], hashed);
      data[i] += hashed;
      lengths[i] -= hashed;
    }
  }
#else
  (void)width;
#endif
  for (size_t i = 0; i < count; i++)
    if (lengths[i] > 0) MD5_Update(contexts[i], data[i], lengths[i]);
}

// Up to LANES streams, in groups as wide as the kernel.
static void update_streams(MD5_CTX **contexts, const uint8_t **data, size_t *lengths, size_t count, int width) {
  size_t group = width > 1 ? (size_t)width : LANES;
  for (size_t start = 0; start < count; start += group) {
    size_t size = count - start < group ? count - start : group;
    update_group(contexts + start, data + start, lengths + start, size, width);
  }
}

static int lanes_available = 1;

// init(context): a new MD5.
static napi_value init_context(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!arguments(env, info, 1, argv)) return fail(env, "init(context)");
  MD5_CTX *ctx = context_of(env, argv[0]);
  if (ctx == NULL) return fail(env, "init: the context is not a Uint8Array of contextBytes");
  MD5_Init(ctx);
  return NULL;
}

// digest(context, output): the 16-byte MD5 into output; the context is spent.
static napi_value final_context(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!arguments(env, info, 2, argv)) return fail(env, "digest(context, output)");
  MD5_CTX *ctx = context_of(env, argv[0]);
  uint8_t *output;
  size_t length;
  if (ctx == NULL) return fail(env, "digest: the context is not a Uint8Array of contextBytes");
  if (!uint8_array(env, argv[1], &output, &length) || length != MD5_DIGEST_LENGTH)
    return fail(env, "digest: the output is not a Uint8Array of 16 bytes");
  MD5_Final(output, ctx);
  return NULL;
}

// update(contexts, pieces, lanes): pieces[i] into contexts[i], for up to 16 streams at once, through
// the kernel of `lanes` (16 or 8; at most the widest this CPU runs) or one at a time (1).
static napi_value update_many(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!arguments(env, info, 3, argv)) return fail(env, "update(contexts, pieces, lanes)");
  uint32_t count, pieces_count;
  bool is_array;
  if (napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[0], &count) != napi_ok)
    return fail(env, "update: contexts is not an array");
  if (napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[1], &pieces_count) != napi_ok || pieces_count != count)
    return fail(env, "update: pieces is not an array as long as contexts");
  if (count > LANES) return fail(env, "update: more than 16 streams");
  uint32_t width;
  if (napi_get_value_uint32(env, argv[2], &width) != napi_ok || (width != 1 && width != 8 && width != 16))
    return fail(env, "update: lanes is not 1, 8 or 16");
  if ((int)width > lanes_available) return fail(env, "update: this CPU has no kernel that wide");
  MD5_CTX *contexts[LANES];
  const uint8_t *data[LANES];
  size_t lengths[LANES];
  for (uint32_t i = 0; i < count; i++) {
    napi_value context, piece;
    uint8_t *bytes;
    if (napi_get_element(env, argv[0], i, &context) != napi_ok || napi_get_element(env, argv[1], i, &piece) != napi_ok)
      return fail(env, "update: unreadable element");
    contexts[i] = context_of(env, context);
    if (contexts[i] == NULL) return fail(env, "update: a context is not a Uint8Array of contextBytes");
    for (uint32_t j = 0; j < i; j++)
      if (contexts[j] == contexts[i]) return fail(env, "update: one context given twice");
    if (!uint8_array(env, piece, &bytes, &lengths[i])) return fail(env, "update: a piece is not a Uint8Array");
    data[i] = bytes;
  }
  update_streams(contexts, data, lengths, count, (int)width);
  return NULL;
}

NAPI_MODULE_INIT() {
  lanes_available = widest_lanes();
  napi_property_descriptor properties[] = {
      {"init", NULL, init_context, NULL, NULL, NULL, napi_enumerable, NULL},
      {"update", NULL, update_many, NULL, NULL, NULL, napi_enumerable, NULL},
      {"digest", NULL, final_context, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok) return NULL;
  napi_value context_bytes, lanes;
  if (napi_create_uint32(env, (uint32_t)sizeof(MD5_CTX), &context_bytes) != napi_ok ||
      napi_set_named_property(env, exports, "contextBytes", context_bytes) != napi_ok)
    return NULL;
  if (napi_create_uint32(env, (uint32_t)lanes_available, &lanes) != napi_ok ||
      napi_set_named_property(env, exports, "lanes", lanes) != napi_ok)
    return NULL;
  return exports;
}
