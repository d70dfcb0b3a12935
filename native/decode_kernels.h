// The decoding kernels' interface (native/decode_kernels.cc, built once per instruction set).
#pragma once
#include <stddef.h>
#include <stdint.h>

// Matrices are packed once at load into panels of PANEL output features, the feature index fastest: one
// vector load gives one input column of a panel, so each batch row needs a broadcast of its input value and
// no horizontal sums (one load feeds one multiply-add per row). bfloat16 panels keep input pairs in one
// 32-bit word: word [panel][k / 2][lane] = W[panel * PANEL + lane][k] | W[..][k + 1] << 16, so one mask and
// one shift give the two float32 columns. float32 panels: [panel][k][lane]. Features past the matrix's rows
// and the column past an odd column count are zero.
constexpr int PANEL = 16;

// Elements (uint16 for bfloat16, float for float32) of a packed [rows, cols] matrix.
static inline size_t packedElements(int rows, int cols, bool bf16) {
  const size_t panels = (size_t)(rows + PANEL - 1) / PANEL;
  return panels * PANEL * (bf16 ? (size_t)(cols + 1) / 2 * 2 : (size_t)cols);
}

// Where W[row, col] lies in the packed matrix, in elements.
static inline size_t packedIndex(int row, int col, int cols, bool bf16) {
  const size_t panel = row / PANEL, lane = row % PANEL;
  if (!bf16) return (panel * cols + col) * PANEL + lane;
  const size_t pairs = (cols + 1) / 2;
  return ((panel * pairs + col / 2) * PANEL + lane) * 2 + (col & 1);
}

// y[r, o] (+)= x[r, :] . W[o, :] + bias[o] for rows [0, rows) and features [o0, o1), o0 a multiple of PANEL;
// W is the whole [*, k] matrix, packed as above.
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

// Scores for the greedy argmax's first pass: y[r, o] = sum_k W[o, k] * xb[r, k] for rows [0, rows) and features
// [o0, o1) (o0 a multiple of PANEL), xb the rows rounded to bfloat16 and packed as W's words are (column pairs,
// the even column low); W a packed bfloat16 matrix. Products of two bfloat16 are exact and the sums float32,
// so the error against the float32 product is bounded by the rounding of x (decode.cc's argmaxHead).
struct ScoreTask {
  const uint32_t* xb;
  int ldxb;  // words between rows of xb
  int rows;
  int k;
  const uint32_t* w;
  float* y;
  int ldy;
  int o0, o1;
};

UNITRACE_KERNELS(generic)
#if defined(__x86_64__)
UNITRACE_KERNELS(avx2)
UNITRACE_KERNELS(avx512)
void unitrace_score_avx512bf16(const ScoreTask& t);  // needs avx512_bf16 (vdpbf16ps)
#endif
