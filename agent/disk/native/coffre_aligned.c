// Memory aligned for O_DIRECT, for agent/disk/aligned-memory.ts (the shard store's direct writes).
//
// A write on a file opened with O_DIRECT skips the page cache, and Linux then wants the buffer's
// address, its length and the file offset to be multiples of the device's logical block size
// (open(2), "O_DIRECT"); 4096 covers every drive we run on. Node's Buffer and ArrayBuffer memory
// comes from malloc, aligned to 16 bytes at best, so a direct write from it fails with EINVAL.
// This addon hands out ArrayBuffers over posix_memalign memory instead.
//
// The memory is NOT zeroed: buffers are meant to be allocated once and reused for write after
// write, so zeroing them here would not keep an earlier write's bytes out of a later one anyway.
// Whoever fills a buffer writes every byte it hands to the disk, block padding included.
//
// V8 counts an external ArrayBuffer's length in the external memory that drives its garbage
// collector (measured on Node 24: 100 external buffers of 1 MiB raise the counter that
// napi_adjust_external_memory moves by 100 MiB), so this addon does not report the memory again
// with napi_adjust_external_memory: that would count every buffer twice.
//
// Only N-API and libc: no library, so it builds wherever a C compiler is. Every argument is
// checked and a bad one throws.
#define _POSIX_C_SOURCE 200112L
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../native/coffre_napi.h"

#define ERROR_CODE "ERR_COFFRE_ALIGNED"
// posix_memalign needs a power of two that is a multiple of sizeof(void *).
#define SMALLEST_ALIGNMENT_BYTES 8
// No device asks for more than its page or block size; a larger request is a caller's mistake.
#define LARGEST_ALIGNMENT_BYTES (1024 * 1024)
// Beyond 2^53 - 1 (Number.MAX_SAFE_INTEGER) a JavaScript number no longer holds every integer.
#define TWO_TO_THE_53 9007199254740992.0

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, ERROR_CODE, message);
  return NULL;
}

static napi_value throw_range(napi_env env, const char *message) {
  napi_throw_range_error(env, ERROR_CODE, message);
  return NULL;
}

// A number argument that is an integer, as Number.isInteger has it; 0 after throwing a TypeError.
// Every double of 2^53 or more in magnitude is an integer, and only below it is the cast defined.
static int whole_number(napi_env env, napi_value value, const char *message, double *number) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number ||
      napi_get_value_double(env, value, number) != napi_ok) {
    throw_type(env, message);
    return 0;
  }
  double x = *number;
  // x - x is 0 for any finite x, NaN for an infinity or NaN.
  int integer = x > -TWO_TO_THE_53 && x < TWO_TO_THE_53 ? (double)(int64_t)x == x : x - x == 0;
  if (!integer) throw_type(env, message);
  return integer;
}

// The alignment argument: a power of two in [8, 1 MiB]; 0 after throwing.
static size_t alignment_of(napi_env env, napi_value value) {
  double alignment;
  if (!whole_number(env, value, "alignment is not an integer", &alignment)) return 0;
  if (alignment < SMALLEST_ALIGNMENT_BYTES || alignment > LARGEST_ALIGNMENT_BYTES) {
    throw_range(env, "alignment is not between 8 and 1048576 bytes");
    return 0;
  }
  size_t bytes = (size_t)alignment;
  if ((bytes & (bytes - 1)) != 0) {
    throw_range(env, "alignment is not a power of two");
    return 0;
  }
  return bytes;
}

// Runs on the JavaScript thread once the ArrayBuffer has been collected.
static void release(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

// allocate(bytes, alignment): an ArrayBuffer of `bytes` bytes, not zeroed, whose first byte's
// address is a multiple of `alignment`; freed when the ArrayBuffer is collected.
static napi_value allocate(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!arguments(env, info, 2, argv)) return throw_type(env, "allocate(bytes, alignment)");
  double requested;
  if (!whole_number(env, argv[0], "allocate: bytes is not an integer", &requested)) return NULL;
  if (requested < 1 || requested >= TWO_TO_THE_53 || requested > (double)SIZE_MAX)
    return throw_range(env, "allocate: bytes is not between 1 and 2^53 - 1");
  size_t alignment = alignment_of(env, argv[1]);
  if (alignment == 0) return NULL;
  size_t bytes = (size_t)requested;
  void *memory = NULL;
  int failure = posix_memalign(&memory, alignment, bytes);
  if (failure != 0) {
    char message[128];
    snprintf(message, sizeof message, "allocate: posix_memalign of %zu bytes failed: %s", bytes, strerror(failure));
    napi_throw_error(env, ERROR_CODE, message);
    return NULL;
  }
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, memory, bytes, release, NULL, &buffer) != napi_ok) {
    free(memory);
    // N-API may have thrown already (out of memory in V8); a second throw would be refused.
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_error(env, ERROR_CODE, "allocate: napi_create_external_arraybuffer failed");
    return NULL;
  }
  return buffer;
}

// misalignment(view, alignment): the address of a Uint8Array's first byte modulo `alignment`.
static napi_value misalignment(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!arguments(env, info, 2, argv)) return throw_type(env, "misalignment(view, alignment)");
  napi_typedarray_type type;
  size_t length;
  void *data;
  // Not uint8_array() of coffre_napi.h: it hides the address of an empty view, which is asked for too.
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array)
    return throw_type(env, "misalignment: view is not a Uint8Array");
  size_t alignment = alignment_of(env, argv[1]);
  if (alignment == 0) return NULL;
  napi_value result;
  if (napi_create_uint32(env, (uint32_t)((uintptr_t)data & (alignment - 1)), &result) != napi_ok) return NULL;
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
      {"allocate", NULL, allocate, NULL, NULL, NULL, napi_enumerable, NULL},
      {"misalignment", NULL, misalignment, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok) return NULL;
  return exports;
}
