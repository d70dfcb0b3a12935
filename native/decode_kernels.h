// The decoding kernels' interface (native/decode_kernels.cc, built once per instruction set).
#pragma once
#include <stddef.h>
#include <stdint.h>

// y[r, o] (+)= x[r, :] . W[o, :] + bias[o] for rows [0, rows) and features [o0, o1); W is [*, k] row major.
struct MatTask {
  const float* x;
  int ldx;
  int rows;
  int k;
  const void* w;
  bool bf16;  // W stored as bfloat16 (else float32)
  const float* bias;  // or null
  float* y;
  int ldy;
  int o0, o1;
  bool accumulate;  // add to y instead of overwriting it
};

// out[D] = softmax(q . keys[s] * scale over s < length) . values; keys/values rows `stride` floats apart.
struct AttendTask {
  const float* q;
  const float* keys;
  const float* values;
  int stride;
  int length;
  int headDim;
  float scale;
  float* scratch;  // length floats
  float* out;
};

#define UNITRACE_KERNELS(suffix)                                 \
  void unitrace_matmul_##suffix(const MatTask& t);               \
  void unitrace_attend_##suffix(const AttendTask& t);            \
  uint64_t unitrace_read_##suffix(const uint8_t* p, size_t n);

UNITRACE_KERNELS(generic)
#if defined(__x86_64__)
UNITRACE_KERNELS(avx2)
UNITRACE_KERNELS(avx512)
#endif
