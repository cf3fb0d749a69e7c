// Argument helpers shared by the agent's N-API addons (agent/crypto/native/coffre_gcm.c,
// agent/digest/native/coffre_md5.c, agent/disk/native/coffre_aligned.c): each reads its arguments
// through these and throws on anything else, so no addon touches memory it was not given.
#ifndef COFFRE_NAPI_H
#define COFFRE_NAPI_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

// The bytes of a Uint8Array argument; 0 if it is not one. A zero-length view may have no backing
// memory: its pointer is NULL, so that it is never handed to OpenSSL.
static inline int uint8_array(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, (void **)data, &buffer, &offset) != napi_ok) return 0;
  if (type != napi_uint8_array) return 0;
  if (*length == 0) *data = NULL;
  return 1;
}

// Exactly `expected` arguments into argv; 0 for any other count.
static inline int arguments(napi_env env, napi_callback_info info, size_t expected, napi_value *argv) {
  size_t argc = expected;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  return argc == expected;
}

#endif
