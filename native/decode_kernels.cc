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

// A tile is C vectors of features (a multiple of one panel) by R batch rows: C x R accumulators and 2 x C
// widened weights in registers; inputs are broadcast from memory. TILE_ROWS is the tallest tile; fewer
// rows take wider tiles (wideVectors) so enough independent sums are in flight to hide the multiply-add latency.
#if defined(UNITRACE_ISA_AVX512)
#define VW 16
#define TILE_ROWS 8  // 2 panels x 8 rows: 16 accumulators + 4 weights; 8 row pointers (general registers are the limit)
#define ISA(name) name##_avx512
#elif defined(UNITRACE_ISA_AVX2)
#define VW 8
#define TILE_ROWS 4  // 16 registers: 2 x 4 accumulators + 4 weights + 2 inputs
#define ISA(name) name##_avx2
#else
#define VW 4
#define TILE_ROWS 2
#define ISA(name) name##_generic
#endif

namespace {

constexpr int PANEL_VECTORS = PANEL / VW;
constexpr int PREFETCH_PAIRS = 32;  // column pairs ahead (2 KiB of a bfloat16 panel)

// Feature vectors per tile for a tile of `rows` rows (a multiple of PANEL_VECTORS).
constexpr int wideVectors(int rows) {
  return VW == 16 ? (rows >= 3 ? 2 : 4) : VW == 8 ? (rows >= 2 ? 2 : 4) : PANEL_VECTORS;
}

typedef float vf __attribute__((vector_size(VW * 4)));
typedef uint32_t vu __attribute__((vector_size(VW * 4)));

inline vf loadF(const float* p) {
  vf v;
  memcpy(&v, p, sizeof v);
  return v;
}

// Two input columns of VW features at p: a bfloat16 panel holds them in one word per feature (the even
// column in the low half, the odd one in the high half), a float32 panel PANEL floats apart.
inline void loadPair(const uint32_t* p, vf& even, vf& odd) {
  vu u;
  memcpy(&u, p, sizeof u);
  const vu lo = u << 16, hi = u & 0xffff0000u;
  memcpy(&even, &lo, sizeof even);
  memcpy(&odd, &hi, sizeof odd);
}
inline void loadPair(const float* p, vf& even, vf& odd) {
  even = loadF(p);
  odd = loadF(p + PANEL);
}
inline vf loadEven(const uint32_t* p) {
  vu u;
  memcpy(&u, p, sizeof u);
  u <<= 16;
  vf f;
  memcpy(&f, &u, sizeof f);
  return f;
}
inline vf loadEven(const float* p) { return loadF(p); }

// Packed elements of W per panel, and from one column pair to the next.
inline size_t panelSize(const uint32_t*, int k) { return (size_t)(k + 1) / 2 * PANEL; }
inline size_t panelSize(const float*, int k) { return (size_t)k * PANEL; }
constexpr int pairStep(const uint32_t*) { return PANEL; }
constexpr int pairStep(const float*) { return 2 * PANEL; }

// Sum of the lanes as a tree (a lane-by-lane chain is a long dependency run).
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

// y[r + i, o + f] (+)= x[r + i, :] . W[o + f, :] + bias for i < R, f < C * VW; features at or past o1 are
// computed (zero padding or the next caller's) but not stored.
template <typename W, int C, int R>
inline void tile(const MatTask& t, const W* w, int o, int r) {
  const int K = t.k;
  const size_t stride = panelSize(w, K);
  constexpr int step = pairStep((const W*)nullptr);
  const W* wc[C];
  for (int c = 0; c < C; c++) {
    const int f = o + c * VW;
    wc[c] = w + (size_t)(f / PANEL) * stride + f % PANEL;
  }
  const float* xr[R];
  for (int i = 0; i < R; i++) xr[i] = t.x + (size_t)(r + i) * t.ldx;
  vf acc[C][R];
  for (int c = 0; c < C; c++)
    for (int i = 0; i < R; i++) acc[c][i] = vf{};
  const int pairs = K / 2;
  for (int q = 0; q < pairs; q++) {
    vf even[C], odd[C];
    // Tall tiles spend long enough per weight line that the hardware prefetcher falls behind (measured:
    // ~15% more multiply-adds per second at 16 rows with the weights streamed from memory); short ones
    // are memory-bound already and only lose by the extra instructions.
    if constexpr (R >= 4)
      for (int c = 0; c < C; c++) __builtin_prefetch(wc[c] + (size_t)(q + PREFETCH_PAIRS) * step);
    for (int c = 0; c < C; c++) loadPair(wc[c] + (size_t)q * step, even[c], odd[c]);
    for (int i = 0; i < R; i++) {
      const float xe = xr[i][2 * q], xo = xr[i][2 * q + 1];
      for (int c = 0; c < C; c++) acc[c][i] += even[c] * xe;
      for (int c = 0; c < C; c++) acc[c][i] += odd[c] * xo;
    }
  }
  if (K & 1) {
    for (int c = 0; c < C; c++) {
      const vf last = loadEven(wc[c] + (size_t)pairs * step);
      for (int i = 0; i < R; i++) acc[c][i] += last * xr[i][K - 1];
    }
  }
  for (int c = 0; c < C; c++) {
    const int f = o + c * VW, valid = t.o1 - f < VW ? t.o1 - f : VW;
    if (valid <= 0) break;
    for (int i = 0; i < R; i++) {
      float* y = t.y + (size_t)(r + i) * t.ldy + f;
      if (valid == VW) {
        vf v = acc[c][i];
        if (t.bias) v += loadF(t.bias + f);
        if (t.accumulate) v += loadF(y);
        memcpy(y, &v, sizeof v);
      } else {
        for (int l = 0; l < valid; l++) {
          const float s = acc[c][i][l] + (t.bias ? t.bias[f + l] : 0.f);
          y[l] = t.accumulate ? y[l] + s : s;
        }
      }
    }
  }
}

// Features [o, end) for R rows from r: tiles of wideVectors(R) vectors, then single panels.
template <typename W, int R>
inline void features(const MatTask& t, const W* w, int o, int end, int r) {
  constexpr int C = wideVectors(R);
  for (; o + C * VW <= end; o += C * VW) tile<W, C, R>(t, w, o, r);
  for (; o < end; o += PANEL) tile<W, PANEL_VECTORS, R>(t, w, o, r);
}

// Rows [r, r + rows) (rows <= R) in one tile height, so the weights are widened once per block.
template <typename W, int R>
inline void block(const MatTask& t, const W* w, int o, int end, int r, int rows) {
  if constexpr (R > 1) {
    if (rows < R) return block<W, R - 1>(t, w, o, end, r, rows);
  }
  features<W, R>(t, w, o, end, r);
}

// Feature groups as wide as the widest tile, each swept by every row block while its panels are in cache.
template <typename W>
void matmul(const MatTask& t, const W* w) {
  constexpr int GROUP = wideVectors(1) * VW;
  const int end = (t.o1 + PANEL - 1) / PANEL * PANEL;
  for (int o = t.o0; o < end; o += GROUP) {
    const int groupEnd = o + GROUP < end ? o + GROUP : end;
    for (int r = 0; r < t.rows; r += TILE_ROWS) block<W, TILE_ROWS>(t, w, o, groupEnd, r, t.rows - r < TILE_ROWS ? t.rows - r : TILE_ROWS);
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
    matmul(t, static_cast<const uint32_t*>(t.w));
  else
    matmul(t, static_cast<const float*>(t.w));
}

#if defined(UNITRACE_ISA_AVX512)
#define BF16_TARGET __attribute__((target("avx512bf16")))
constexpr int SCORE_PREFETCH_PAIRS = 64;  // twice the float32 tiles' distance: this loop eats the weights twice as fast
// y[r + i, o + 16c + lane] for C panels x R rows: one vdpbf16ps per column pair (two exact products, float32 sums).
template <int C, int R>
BF16_TARGET inline void scoreTile(const ScoreTask& t, int o, int r) {
  const int pairs = (t.k + 1) / 2;
  const uint32_t* wc[C];
  for (int c = 0; c < C; c++) wc[c] = t.w + (size_t)(o / PANEL + c) * pairs * PANEL;
  const uint32_t* xr[R];
  for (int i = 0; i < R; i++) xr[i] = t.xb + (size_t)(r + i) * t.ldxb;
  __m512 acc[C][R];
  for (int c = 0; c < C; c++)
    for (int i = 0; i < R; i++) acc[c][i] = _mm512_setzero_ps();
  for (int q = 0; q < pairs; q++) {
    __m512bh wv[C];
    for (int c = 0; c < C; c++) {
      __builtin_prefetch(wc[c] + (size_t)(q + SCORE_PREFETCH_PAIRS) * PANEL);
      wv[c] = (__m512bh)_mm512_loadu_si512(wc[c] + (size_t)q * PANEL);
    }
    for (int i = 0; i < R; i++) {
      const __m512bh xv = (__m512bh)_mm512_set1_epi32((int)xr[i][q]);
      for (int c = 0; c < C; c++) acc[c][i] = _mm512_dpbf16_ps(acc[c][i], wv[c], xv);
    }
  }
  for (int c = 0; c < C; c++) {
    const int f = o + c * PANEL, valid = t.o1 - f < PANEL ? t.o1 - f : PANEL;
    if (valid <= 0) break;
    for (int i = 0; i < R; i++) _mm512_mask_storeu_ps(t.y + (size_t)(r + i) * t.ldy + f, (__mmask16)((1u << valid) - 1), acc[c][i]);
  }
}

template <int R>
BF16_TARGET inline void scoreRows(const ScoreTask& t, int end, int r, int rows) {
  if constexpr (R > 1) {
    if (rows < R) return scoreRows<R - 1>(t, end, r, rows);
  }
  int o = t.o0;
  for (; o + 2 * PANEL <= end; o += 2 * PANEL) scoreTile<2, R>(t, o, r);
  for (; o < end; o += PANEL) scoreTile<1, R>(t, o, r);
}
#endif

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

#if defined(UNITRACE_ISA_AVX512)
BF16_TARGET void unitrace_score_avx512bf16(const ScoreTask& t) {
  const int end = (t.o1 + PANEL - 1) / PANEL * PANEL;
  for (int r = 0; r < t.rows; r += 8) scoreRows<8>(t, end, r, t.rows - r < 8 ? t.rows - r : 8);
}
#endif
