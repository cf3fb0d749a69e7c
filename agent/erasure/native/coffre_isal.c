/*
 * The native erasure kernel of Coffre: a thin N-API binding to Intel ISA-L's ec_init_tables and
 * ec_encode_data, which pick the widest SIMD the CPU has (SSE, AVX2, AVX-512, GFNI) at run time.
 *
 * It exports two functions (see agent/erasure/kernels/isa-l.ts):
 *   initTables(rows, cols, coefficients: Uint8Array) -> Uint8Array
 *     the expanded tables of a rows x cols row-major matrix of GF(2^8) constants;
 *   multiply(tables, rows, cols, inputs: Uint8Array[cols], outputs: Uint8Array[rows], length)
 *     outputs[r][i] = XOR over c of coefficient(r, c) * inputs[c][i], for i < length.
 * and, since ISA-L is here anyway, its CRC-32 (agent/digest/crc32.ts):
 *   crc32(bytes: Uint8Array, initial: uint32) -> uint32
 *     the zlib / gzip CRC-32 of bytes, continuing from initial (ISA-L's crc32_gzip_refl, which
 *     folds with carry-less multiplication, on 512-bit registers where the CPU has VPCLMULQDQ).
 *
 * The TypeScript side validates everything first, but a native function given a short buffer
 * would corrupt memory, so every argument is checked again here and refused with a JavaScript
 * exception rather than trusted. Built without node-gyp by scripts/build-native.ts: the napi_*
 * symbols stay undefined in the shared object and resolve against the node binary at load.
 */
#include <isa-l/crc.h>
#include <isa-l/erasure_code.h>
#include <limits.h>
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#define MAXIMUM_ROWS 8
#define MAXIMUM_COLS 16
#define TABLE_BYTES_PER_COEFFICIENT 32
/*
 * ec_encode_data takes an int length; longer shards are processed in slices of this size. A test
 * builds the addon with a tiny slice (-DSLICE_BYTES=4096) to check the slicing.
 */
#ifndef SLICE_BYTES
#define SLICE_BYTES (1 << 30)
#endif

#define CHECK_NAPI(env, call)                                                                      \
  do {                                                                                             \
    if ((call) != napi_ok) {                                                                       \
      napi_throw_error((env), "ERR_ERASURE_NATIVE", "N-API call failed: " #call);                  \
      return NULL;                                                                                 \
    }                                                                                              \
  } while (0)

#define REFUSE(env, message)                                                                       \
  do {                                                                                             \
    napi_throw_range_error((env), "ERR_ERASURE_NATIVE", (message));                                \
    return NULL;                                                                                   \
  } while (0)

/* The bytes of a Uint8Array argument, or NULL (with an exception pending) if it is not one. */
static int uint8_array(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  bool is_typed_array = false;
  napi_typedarray_type type;
  void *bytes = NULL;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array) return 0;
  if (napi_get_typedarray_info(env, value, &type, length, &bytes, NULL, NULL) != napi_ok) return 0;
  if (type != napi_uint8_array) return 0;
  /* A zero-length array may have no backing store; callers never dereference it then. */
  *data = (uint8_t *)bytes;
  return 1;
}

static int small_integer(napi_env env, napi_value value, int32_t minimum, int32_t maximum, int32_t *result) {
  if (napi_get_value_int32(env, value, result) != napi_ok) return 0;
  return *result >= minimum && *result <= maximum;
}

/* Fills pointers[0..count-1] from a JS array of Uint8Array, each at least `length` bytes. */
static int shard_pointers(napi_env env, napi_value array, uint32_t count, size_t length, uint8_t **pointers) {
  uint32_t actual = 0;
  bool is_array = false;
  if (napi_is_array(env, array, &is_array) != napi_ok || !is_array) return 0;
  if (napi_get_array_length(env, array, &actual) != napi_ok || actual != count) return 0;
  for (uint32_t index = 0; index < count; index++) {
    napi_value element;
    size_t element_length = 0;
    if (napi_get_element(env, array, index, &element) != napi_ok) return 0;
    if (!uint8_array(env, element, &pointers[index], &element_length)) return 0;
    if (element_length < length) return 0;
  }
  return 1;
}

static napi_value init_tables(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t rows = 0, cols = 0;
  uint8_t *coefficients = NULL, *tables = NULL;
  size_t coefficients_length = 0;
  napi_value result, buffer;
  CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 3) REFUSE(env, "initTables(rows, cols, coefficients)");
  if (!small_integer(env, argv[0], 1, MAXIMUM_ROWS, &rows)) REFUSE(env, "rows out of range");
  if (!small_integer(env, argv[1], 1, MAXIMUM_COLS, &cols)) REFUSE(env, "cols out of range");
  if (!uint8_array(env, argv[2], &coefficients, &coefficients_length) ||
      coefficients_length < (size_t)rows * (size_t)cols)
    REFUSE(env, "coefficients must be a Uint8Array of rows*cols bytes");
  size_t table_bytes = (size_t)TABLE_BYTES_PER_COEFFICIENT * (size_t)rows * (size_t)cols;
  CHECK_NAPI(env, napi_create_arraybuffer(env, table_bytes, (void **)&tables, &buffer));
  /* ISA-L's argument order is (k = cols, rows, matrix, tables). */
  ec_init_tables(cols, rows, coefficients, tables);
  CHECK_NAPI(env, napi_create_typedarray(env, napi_uint8_array, table_bytes, buffer, 0, &result));
  return result;
}

static napi_value multiply(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  int32_t rows = 0, cols = 0;
  int64_t length = 0;
  uint8_t *tables = NULL;
  size_t tables_length = 0;
  uint8_t *inputs[MAXIMUM_COLS], *outputs[MAXIMUM_ROWS];
  CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 6) REFUSE(env, "multiply(tables, rows, cols, inputs, outputs, length)");
  if (!small_integer(env, argv[1], 1, MAXIMUM_ROWS, &rows)) REFUSE(env, "rows out of range");
  if (!small_integer(env, argv[2], 1, MAXIMUM_COLS, &cols)) REFUSE(env, "cols out of range");
  if (!uint8_array(env, argv[0], &tables, &tables_length) ||
      tables_length < (size_t)TABLE_BYTES_PER_COEFFICIENT * (size_t)rows * (size_t)cols)
    REFUSE(env, "tables must come from initTables(rows, cols, ...)");
  if (napi_get_value_int64(env, argv[5], &length) != napi_ok || length < 0) REFUSE(env, "bad length");
  if (!shard_pointers(env, argv[3], (uint32_t)cols, (size_t)length, inputs))
    REFUSE(env, "inputs must be cols Uint8Arrays of at least length bytes");
  if (!shard_pointers(env, argv[4], (uint32_t)rows, (size_t)length, outputs))
    REFUSE(env, "outputs must be rows Uint8Arrays of at least length bytes");
  for (int64_t done = 0; done < length; done += SLICE_BYTES) {
    int slice = (int)(length - done < SLICE_BYTES ? length - done : SLICE_BYTES);
    uint8_t *slice_inputs[MAXIMUM_COLS], *slice_outputs[MAXIMUM_ROWS];
    for (int column = 0; column < cols; column++) slice_inputs[column] = inputs[column] + done;
    for (int row = 0; row < rows; row++) slice_outputs[row] = outputs[row] + done;
    ec_encode_data(slice, cols, rows, tables, slice_inputs, slice_outputs);
  }
  return NULL;
}

static napi_value crc32(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint8_t *bytes = NULL;
  size_t length = 0;
  uint32_t initial = 0;
  napi_valuetype type;
  CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 2) REFUSE(env, "crc32(bytes, initial)");
  if (!uint8_array(env, argv[0], &bytes, &length)) REFUSE(env, "bytes must be a Uint8Array");
  if (napi_typeof(env, argv[1], &type) != napi_ok || type != napi_number ||
      napi_get_value_uint32(env, argv[1], &initial) != napi_ok)
    REFUSE(env, "initial must be a number");
  napi_value result;
  CHECK_NAPI(env, napi_create_uint32(env, length == 0 ? initial : crc32_gzip_refl(initial, bytes, length), &result));
  return result;
}

NAPI_MODULE_INIT() {
  napi_value function;
  CHECK_NAPI(env, napi_create_function(env, "crc32", NAPI_AUTO_LENGTH, crc32, NULL, &function));
  CHECK_NAPI(env, napi_set_named_property(env, exports, "crc32", function));
  CHECK_NAPI(env, napi_create_function(env, "initTables", NAPI_AUTO_LENGTH, init_tables, NULL, &function));
  CHECK_NAPI(env, napi_set_named_property(env, exports, "initTables", function));
  CHECK_NAPI(env, napi_create_function(env, "multiply", NAPI_AUTO_LENGTH, multiply, NULL, &function));
  CHECK_NAPI(env, napi_set_named_property(env, exports, "multiply", function));
  return exports;
}
