// Decoding kernels, compiled once per instruction set (scripts/build-native.mjs): -DUNITRACE_ISA=avx512,
// avx2 (with FMA) or generic. The source is written with GCC vector extensions, so one text gives 16-, 8-
// and 4-lane code. No std templates and nothing with external linkage but the three entry points: inline
// functions instantiated here with wider instructions must not leak into code that runs on other CPUs.
#include <stdint.h>
#include <string.h>

#include "decode_kernels.h"

#if defined(UNITRACE_ISA_AVX512) || defined(UNITRACE_ISA_AVX2)
#include <immintrin.h>
#endif

#if defined(UNITRACE_ISA_AVX512)
#define VW 16
#define TILE_ROWS 6  // 32 vector registers: 4 features x 6 rows of accumulators, 4 weights, 1 input
#define ISA(name) name##_avx512
#elif defined(UNITRACE_ISA_AVX2)
#define VW 8
#define TILE_ROWS 2  // 16 registers: 4 x 2 accumulators + 4 weights + 1 input
#define ISA(name) name##_avx2
#else
#define VW 4
#define TILE_ROWS 2
#define ISA(name) name##_generic
#endif

namespace {

constexpr int TILE_FEATURES = 4;
constexpr int ROW_CHUNK = 64;  // rows of x kept hot (L2) while a weight block is swept

typedef float vf __attribute__((vector_size(VW * 4)));
typedef uint16_t vh __attribute__((vector_size(VW * 2)));
typedef uint32_t vu __attribute__((vector_size(VW * 4)));

inline vf loadF(const float* p) {
  vf v;
  memcpy(&v, p, sizeof v);
  return v;
}

// bf16 is the top half of a float32: widen each lane to 32 bits and shift it up.
inline vf loadW(const uint16_t* p) {
#if defined(UNITRACE_ISA_AVX512)
  // One full-width zero-extension (the generic form below compiles to two half-width ones plus a blend).
  return (vf)_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i*)p)), 16);
#else
  vh h;
  memcpy(&h, p, sizeof h);
  const vu u = __builtin_convertvector(h, vu) << 16;
  vf f;
  memcpy(&f, &u, sizeof f);
  return f;
#endif
}
inline vf loadW(const float* p) { return loadF(p); }

inline float scalarW(const uint16_t* p) {
  const uint32_t u = (uint32_t)*p << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}
inline float scalarW(const float* p) { return *p; }

// Sum of the lanes as a tree (a lane-by-lane chain is a long dependency run after every tile).
inline float hsum(vf v) {
#if defined(UNITRACE_ISA_AVX512)
  return _mm512_reduce_add_ps((__m512)v);
#elif defined(UNITRACE_ISA_AVX2)
  const __m128 lo = _mm_add_ps(_mm256_castps256_ps128((__m256)v), _mm256_extractf128_ps((__m256)v, 1));
  const __m128 pair = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  return _mm_cvtss_f32(_mm_add_ss(pair, _mm_shuffle_ps(pair, pair, 1)));
#else
  return (v[0] + v[2]) + (v[1] + v[3]);
#endif
}

// y[r, o] (+)= dot(W[o, :], x[r, :]) + bias[o] for FO features from o and R rows from r.
template <typename W, int FO, int R>
inline void tile(const MatTask& t, const W* w, int o, int r) {
  const int K = t.k;
  vf acc[FO][R];
  for (int f = 0; f < FO; f++)
    for (int i = 0; i < R; i++) acc[f][i] = vf{};
  const W* wr[FO];
  for (int f = 0; f < FO; f++) wr[f] = w + (size_t)(o + f) * K;
  const float* xr[R];
  for (int i = 0; i < R; i++) xr[i] = t.x + (size_t)(r + i) * t.ldx;
  int p = 0;
  for (; p + VW <= K; p += VW) {
    vf wv[FO];
    for (int f = 0; f < FO; f++) wv[f] = loadW(wr[f] + p);
    for (int i = 0; i < R; i++) {
      const vf xv = loadF(xr[i] + p);
      for (int f = 0; f < FO; f++) acc[f][i] += wv[f] * xv;
    }
  }
  for (int f = 0; f < FO; f++)
    for (int i = 0; i < R; i++) {
      float s = hsum(acc[f][i]);
      for (int q = p; q < K; q++) s += scalarW(wr[f] + q) * xr[i][q];
      if (t.bias) s += t.bias[o + f];
      float* y = t.y + (size_t)(r + i) * t.ldy + o + f;
      *y = t.accumulate ? *y + s : s;
    }
}

// The last `left` (< R) rows of a block in one tile of that height, so weights are widened once more, not per row.
template <typename W, int FO, int R>
inline void lastRows(const MatTask& t, const W* w, int o, int r, int left) {
  if constexpr (R > 1) {
    if (left == R) return tile<W, FO, R>(t, w, o, r);
    return lastRows<W, FO, R - 1>(t, w, o, r, left);
  } else {
    tile<W, FO, 1>(t, w, o, r);
  }
}

template <typename W, int FO>
inline void rowsOf(const MatTask& t, const W* w, int o, int r0, int r1) {
  int r = r0;
  for (; r + TILE_ROWS <= r1; r += TILE_ROWS) tile<W, FO, TILE_ROWS>(t, w, o, r);
  if (r < r1) lastRows<W, FO, TILE_ROWS - 1>(t, w, o, r, r1 - r);
}

template <typename W>
void matmul(const MatTask& t, const W* w) {
  for (int r0 = 0; r0 < t.rows; r0 += ROW_CHUNK) {
    const int r1 = r0 + ROW_CHUNK < t.rows ? r0 + ROW_CHUNK : t.rows;
    int o = t.o0;
    for (; o + TILE_FEATURES <= t.o1; o += TILE_FEATURES) rowsOf<W, TILE_FEATURES>(t, w, o, r0, r1);
    for (; o < t.o1; o++) rowsOf<W, 1>(t, w, o, r0, r1);
  }
}

inline float dot(const float* a, const float* b, int n) {
  vf acc = vf{};
  int i = 0;
  for (; i + VW <= n; i += VW) acc += loadF(a + i) * loadF(b + i);
  float s = hsum(acc);
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

}  // namespace

void ISA(unitrace_matmul)(const MatTask& t) {
  if (t.bf16)
    matmul(t, static_cast<const uint16_t*>(t.w));
  else
    matmul(t, static_cast<const float*>(t.w));
}

// One query head over `length` cached positions: scores, softmax, weighted sum of values (scratch: length floats).
void ISA(unitrace_attend)(const AttendTask& t) {
  const int D = t.headDim;
  float max = -3.4e38f;
  for (int s = 0; s < t.length; s++) {
    const float v = dot(t.q, t.keys + (size_t)s * t.stride, D) * t.scale;
    t.scratch[s] = v;
    if (v > max) max = v;
  }
  float sum = 0.f;
  for (int s = 0; s < t.length; s++) sum += t.scratch[s] = __builtin_expf(t.scratch[s] - max);
  const float inv = 1.f / sum;
  int d = 0;
  for (; d + VW <= D; d += VW) {
    vf acc = vf{};
    for (int s = 0; s < t.length; s++) acc += loadF(t.values + (size_t)s * t.stride + d) * (t.scratch[s] * inv);
    memcpy(t.out + d, &acc, sizeof acc);
  }
  for (; d < D; d++) {
    float acc = 0.f;
    for (int s = 0; s < t.length; s++) acc += t.values[(size_t)s * t.stride + d] * (t.scratch[s] * inv);
    t.out[d] = acc;
  }
}

// Reads n bytes (a multiple of 64 not required) and returns a value that depends on all of them.
uint64_t ISA(unitrace_read)(const uint8_t* p, size_t n) {
  vu acc = vu{};
  size_t i = 0;
  for (; i + sizeof(vu) <= n; i += sizeof(vu)) {
    vu v;
    memcpy(&v, p + i, sizeof v);
    acc ^= v;
  }
  uint64_t s = 0;
  for (int l = 0; l < VW; l++) s += acc[l];
  for (; i < n; i++) s += p[i];
  return s;
}
