// Native Qwen2 decoding (src/engine/decoder.ts): the weights live here, outside the wasm heap, packed once
// at load in the layout the products read (panels of 16 output features, native/decode_kernels.h; q/k/v and
// gate/up fused), as bfloat16 when the values allow it. One forward takes any mix of prompt chunks and single
// decode tokens for several sequences, each with its own KV cache slot (continuous batching), and ends in the
// lm_head: logits, or greedy ids with the argmax fused into the product so no [rows, vocab] buffer is written.
// Products and attention run on a small thread pool (one thread per core, the caller included).
#include <node_api.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "decode_kernels.h"

namespace {

// ---- kernels for this CPU -------------------------------------------------------------------------
struct Kernels {
  void (*matmul)(const MatTask&);
  void (*attend)(const AttendTask&);
  uint64_t (*read)(const uint8_t*, size_t);
  const char* name;
  void (*score)(const ScoreTask&) = nullptr;  // bfloat16 first pass of the greedy argmax, where the CPU has it
};

Kernels pickKernels() {
  const char* forced = std::getenv("UNITRACE_DECODE_ISA");
  const std::string want = forced ? forced : "";
#if defined(__x86_64__)
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  // UNITRACE_ARGMAX_PASSES=1: the greedy argmax from the float32 product alone (tests compare the two).
  const char* passes = std::getenv("UNITRACE_ARGMAX_PASSES");
  const bool bf16 = __builtin_cpu_supports("avx512bf16") && !(passes && std::string(passes) == "1");
  if (avx512 && (want.empty() || want == "avx512"))
    return {unitrace_matmul_avx512, unitrace_attend_avx512, unitrace_read_avx512, "avx512", bf16 ? unitrace_score_avx512bf16 : nullptr};
  if (avx2 && (want.empty() || want == "avx512" || want == "avx2"))
    return {unitrace_matmul_avx2, unitrace_attend_avx2, unitrace_read_avx2, "avx2-fma"};
#endif
  return {unitrace_matmul_generic, unitrace_attend_generic, unitrace_read_generic, "generic"};
}

const Kernels& kernels() {
  static const Kernels k = pickKernels();
  return k;
}

// ---- thread pool ------------------------------------------------------------------------------------
// run(fn) calls fn(t) on the caller (t = 0) and on each worker that wakes while the job is open; it returns
// once the caller's call and every started worker call are done. A worker the scheduler has not run yet
// (a loaded machine) is not waited for: the job closes when the caller finishes, so fn must share its
// work dynamically (parallelFor), never assume every thread takes part.
class Pool {
 public:
  explicit Pool(int n) : size(n) {
    for (int t = 1; t < n; t++) workers_.emplace_back([this, t] { loop(t); });
  }
  const int size;

  void run(const std::function<void(int)>& fn) {
    std::lock_guard<std::mutex> callers(runMutex_);  // one job at a time (several JS threads may decode)
    {
      std::lock_guard<std::mutex> lock(m_);
      job_ = &fn;
      open_ = true;
      generation_++;
    }
    cv_.notify_all();
    fn(0);
    std::unique_lock<std::mutex> lock(m_);
    open_ = false;
    done_.wait(lock, [this] { return running_ == 0; });
  }

  // Calls body(thread, begin, end) over [0, count) in chunks taken dynamically.
  void parallelFor(int count, int chunk, const std::function<void(int, int, int)>& body) {
    if (count <= 0) return;
    std::atomic<int> next{0};
    run([&](int t) {
      for (;;) {
        const int b = next.fetch_add(chunk);
        if (b >= count) return;
        body(t, b, b + chunk < count ? b + chunk : count);
      }
    });
  }

 private:
  void loop(int t) {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(int)>* job;
      {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (!open_) continue;  // woke after the job closed: nothing left to do
        job = job_;
        running_++;
      }
      (*job)(t);
      std::lock_guard<std::mutex> lock(m_);
      if (--running_ == 0) done_.notify_one();
    }
  }
  std::vector<std::thread> workers_;
  std::mutex runMutex_, m_;
  std::condition_variable cv_, done_;
  const std::function<void(int)>* job_ = nullptr;
  uint64_t generation_ = 0;
  bool open_ = false;
  int running_ = 0;
};

int threadCount() {
  const char* env = std::getenv("UNITRACE_THREADS");
  const int n = env ? std::atoi(env) : (int)std::thread::hardware_concurrency();
  return n > 0 ? (n < 64 ? n : 64) : 1;
}

Pool& pool() {
  static Pool* p = new Pool(threadCount());  // never destroyed: its threads end with the process
  return *p;
}

// ---- model ------------------------------------------------------------------------------------------
// A [rows, cols] matrix packed in panels (native/decode_kernels.h); bytes() counts its values, not the padding.
struct Matrix {
  void* data = nullptr;
  int rows = 0, cols = 0;
  bool bf16 = false;
  std::vector<float> rowNorm;  // the lm_head's: an upper bound of each row's Euclidean norm (argmaxHead)
  size_t bytes() const { return (size_t)rows * cols * (bf16 ? 2 : 4); }
  ~Matrix() { std::free(data); }
};

inline float bf16Value(uint16_t b) {
  const uint32_t u = (uint32_t)b << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Packs a row-major [rows, cols] matrix of T (uint16 bf16 bits or float) into m's panels, padding with zeros.
template <typename T>
void pack(Matrix& m, const T* src) {
  const size_t n = packedElements(m.rows, m.cols, m.bf16), bytes = n * sizeof(T);
  std::free(m.data);
  m.data = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  T* dst = static_cast<T*>(m.data);
  std::memset(dst, 0, bytes);
  for (int o = 0; o < m.rows; o++) {
    const T* row = src + (size_t)o * m.cols;
    const size_t first = packedIndex(o, 0, m.cols, m.bf16);
    // Consecutive columns of a row: bf16 two apart within a word pair, then PANEL words on; float32 PANEL apart.
    if (m.bf16)
      for (int k = 0; k < m.cols; k++) dst[first + (size_t)(k / 2) * PANEL * 2 + (k & 1)] = row[k];
    else
      for (int k = 0; k < m.cols; k++) dst[first + (size_t)k * PANEL] = row[k];
  }
}

struct Layer {
  std::vector<float> inputNorm, postNorm, qkvBias;
  Matrix qkv, o, gateUp, down;
};

struct Dims {
  int hidden, inter, layers, heads, kvHeads, headDim, vocab;
  bool tied;
  float eps, theta;
  int qDim() const { return heads * headDim; }
  int kvDim() const { return kvHeads * headDim; }
  int qkvDim() const { return qDim() + 2 * kvDim(); }
};

struct Decoder {
  Dims d;
  Matrix embed, lmHead;
  std::vector<float> finalNorm, invFreq;
  std::vector<Layer> layers;
  const Matrix& head() const { return d.tied ? embed : lmHead; }
};

struct Slot {
  std::vector<std::vector<float>> keys, values;  // per layer [length, kvDim]
  int length = 0;
};

struct Cache {
  int layers, kvDim;
  std::vector<Slot> slots;
};

void freeMatrix(Matrix& m) {
  std::free(m.data);
  m.data = nullptr;
}

// ---- forward pieces ---------------------------------------------------------------------------------
// y[rows, m.rows] (+)= x[rows, m.cols] @ m^T + bias (x rows ldx floats apart), output features split over the pool.
void product(const float* x, int ldx, int rows, const Matrix& m, const float* bias, float* y, int ldy, bool accumulate) {
  Pool& p = pool();
  int chunk = m.rows / (p.size * 8);
  chunk = chunk < 16 ? 16 : (chunk + 15) / 16 * 16;
  const Kernels& k = kernels();
  p.parallelFor(m.rows, chunk, [&](int, int o0, int o1) {
    k.matmul(MatTask{x, ldx, rows, m.cols, m.data, m.bf16, bias, y, ldy, o0, o1, accumulate});
  });
}

// Rows split over the pool; out may be x.
void rmsNorm(const float* x, int rows, int H, const float* w, float eps, float* out) {
  pool().parallelFor(rows, 1, [&](int, int r, int) {
    const float* xr = x + (size_t)r * H;
    double ss = 0;
    for (int i = 0; i < H; i++) ss += (double)xr[i] * xr[i];
    const float inv = 1.f / std::sqrt((float)(ss / H) + eps);
    for (int i = 0; i < H; i++) out[(size_t)r * H + i] = xr[i] * inv * w[i];
  });
}

// cos and sin of the rotary angles at a position (float32 pos * invFreq, evaluated in double), once per
// forward for all layers: [cos of the D/2 frequencies, sin of them].
std::vector<float> ropeTable(int pos, int D, const float* invFreq) {
  const int half = D / 2;
  std::vector<float> t(D);
  for (int i = 0; i < half; i++) {
    const float angle = (float)pos * invFreq[i];
    t[i] = (float)std::cos((double)angle);
    t[half + i] = (float)std::sin((double)angle);
  }
  return t;
}

// Rotate-half rotary embedding of `heads` heads at x (in place) with a ropeTable.
void rope(float* x, int heads, int D, const float* table) {
  const int half = D / 2;
  for (int h = 0; h < heads; h++) {
    float* v = x + h * D;
    for (int i = 0; i < half; i++) {
      const float c = table[i], s = table[half + i], a = v[i], b = v[i + half];
      v[i] = a * c - b * s;
      v[i + half] = b * c + a * s;
    }
  }
}

// One row of a packed matrix as float32 (an embedding lookup).
void widenRow(const Matrix& m, int row, float* out) {
  for (int i = 0; i < m.cols; i++) {
    const size_t at = packedIndex(row, i, m.cols, m.bf16);
    if (m.bf16) {
      const uint32_t u = (uint32_t)static_cast<const uint16_t*>(m.data)[at] << 16;
      std::memcpy(out + i, &u, 4);
    } else {
      out[i] = static_cast<const float*>(m.data)[at];
    }
  }
}

struct Batch {
  std::vector<int> slot, pos;  // per token: cache slot, position
};

void attention(const Decoder& dec, Cache& cache, int layer, const Batch& b, const float* qkv, float* out) {
  const Dims& d = dec.d;
  const int N = (int)b.slot.size(), G = d.heads / d.kvHeads, D = d.headDim;
  const float scale = 1.f / std::sqrt((float)D);
  Pool& p = pool();
  int longest = 0;
  for (int n = 0; n < N; n++) longest = b.pos[n] + 1 > longest ? b.pos[n] + 1 : longest;
  std::vector<std::vector<float>> scratch(p.size, std::vector<float>(longest));
  const Kernels& k = kernels();
  p.parallelFor(N * d.heads, 1, [&](int t, int begin, int end) {
    for (int task = begin; task < end; task++) {
      const int n = task / d.heads, h = task % d.heads, kvh = h / G;
      const Slot& s = cache.slots[b.slot[n]];
      k.attend(AttendTask{qkv + (size_t)n * d.qkvDim() + h * D, s.keys[layer].data() + kvh * D, s.values[layer].data() + kvh * D,
                          d.kvDim(), b.pos[n] + 1, D, scale, scratch[t].data(), out + (size_t)n * d.qDim() + h * D});
    }
  });
}

void appendKv(const Dims& d, Cache& cache, int layer, const Batch& b, const float* qkv) {
  const int N = (int)b.slot.size(), kv = d.kvDim();
  for (int n = 0; n < N; n++) {
    Slot& s = cache.slots[b.slot[n]];
    const size_t need = (size_t)(b.pos[n] + 1) * kv;
    if (s.keys[layer].size() < need) {
      s.keys[layer].resize(need);
      s.values[layer].resize(need);
    }
    const float* row = qkv + (size_t)n * d.qkvDim();
    std::memcpy(s.keys[layer].data() + (size_t)b.pos[n] * kv, row + d.qDim(), kv * sizeof(float));
    std::memcpy(s.values[layer].data() + (size_t)b.pos[n] * kv, row + d.qDim() + kv, kv * sizeof(float));
  }
}

// The hidden state after the decoder layers for every token of the batch: x [N, H].
void layers(const Decoder& dec, Cache& cache, const Batch& b, const int32_t* tokens, std::vector<float>& x) {
  const Dims& d = dec.d;
  const int N = (int)b.slot.size(), H = d.hidden, I = d.inter;
  x.assign((size_t)N * H, 0.f);
  for (int n = 0; n < N; n++) widenRow(dec.embed, tokens[n], x.data() + (size_t)n * H);
  std::vector<float> hn((size_t)N * H), qkv((size_t)N * d.qkvDim()), att((size_t)N * d.qDim()), gu((size_t)N * 2 * I);
  std::vector<std::vector<float>> angles(N);
  for (int n = 0; n < N; n++) angles[n] = ropeTable(b.pos[n], d.headDim, dec.invFreq.data());
  Pool& p = pool();
  constexpr int SWIGLU_CHUNK = 1024;  // elements of one row per task
  const int swigluPieces = (I + SWIGLU_CHUNK - 1) / SWIGLU_CHUNK;
  for (int l = 0; l < d.layers; l++) {
    const Layer& L = dec.layers[l];
    rmsNorm(x.data(), N, H, L.inputNorm.data(), d.eps, hn.data());
    product(hn.data(), H, N, L.qkv, L.qkvBias.data(), qkv.data(), d.qkvDim(), false);
    for (int n = 0; n < N; n++) {
      float* row = qkv.data() + (size_t)n * d.qkvDim();
      rope(row, d.heads, d.headDim, angles[n].data());
      rope(row + d.qDim(), d.kvHeads, d.headDim, angles[n].data());
    }
    appendKv(d, cache, l, b, qkv.data());
    attention(dec, cache, l, b, qkv.data(), att.data());
    product(att.data(), d.qDim(), N, L.o, nullptr, x.data(), H, true);
    rmsNorm(x.data(), N, H, L.postNorm.data(), d.eps, hn.data());
    product(hn.data(), H, N, L.gateUp, nullptr, gu.data(), 2 * I, false);
    p.parallelFor(N * swigluPieces, 1, [&](int, int task, int) {  // SwiGLU in place over the gate half: silu(gate) * up
      float* g = gu.data() + (size_t)(task / swigluPieces) * 2 * I;
      const int i0 = task % swigluPieces * SWIGLU_CHUNK, i1 = i0 + SWIGLU_CHUNK < I ? i0 + SWIGLU_CHUNK : I;
      for (int i = i0; i < i1; i++) g[i] = g[i] / (1.f + std::exp(-g[i])) * g[I + i];
    });
    product(gu.data(), 2 * I, N, L.down, nullptr, x.data(), H, true);
  }
}

bool argmaxTwoPass(const Matrix& head, const float* h, int M, int32_t* ids);

// Greedy ids for each row of h [M, H]: the lm_head in vocabulary chunks, each reduced to its best id at once.
void argmaxHead(const Matrix& head, const float* h, int M, int32_t* ids) {
  if (argmaxTwoPass(head, h, M, ids)) return;
  constexpr int CHUNK = 256;
  Pool& p = pool();
  std::vector<std::vector<float>> buf(p.size, std::vector<float>((size_t)M * CHUNK));
  std::vector<std::vector<float>> bestV(p.size, std::vector<float>(M, -INFINITY));
  std::vector<std::vector<int>> bestI(p.size, std::vector<int>(M, -1));
  const Kernels& k = kernels();
  p.parallelFor(head.rows, CHUNK, [&](int t, int o0, int o1) {
    float* y = buf[t].data() - o0;  // y[r * CHUNK + o] for o in [o0, o1)
    k.matmul(MatTask{h, head.cols, M, head.cols, head.data, head.bf16, nullptr, y, CHUNK, o0, o1, false});
    for (int r = 0; r < M; r++) {
      const float* row = y + (size_t)r * CHUNK;
      float& bv = bestV[t][r];
      int& bi = bestI[t][r];
      for (int o = o0; o < o1; o++)  // ties: the lowest id, as tf.argMax
        if (row[o] > bv || (row[o] == bv && o < bi) || bi < 0) bv = row[o], bi = o;
    }
  });
  for (int r = 0; r < M; r++) {
    float bv = -INFINITY;
    int bi = -1;
    for (int t = 0; t < p.size; t++) {
      const int i = bestI[t][r];
      if (i < 0) continue;
      const float v = bestV[t][r];
      if (bi < 0 || v > bv || (v == bv && i < bi)) bv = v, bi = i;
    }
    ids[r] = bi;
  }
}

// The same ids in two passes where the CPU has vdpbf16ps (twice the multiply-adds of float32 per instruction):
// scores S with h rounded to bfloat16, then the float32 logits E (the one-pass kernel's values) only for the
// ids that can still be the best. |S_o - E_o| <= B_o = |w_o| (|h - bf16(h)| + g (|h| + |bf16(h)|)) + tiny, with
// g = 2K u / (1 - 2K u) covering the float32 rounding of both sums and the flushing of subnormals: an id whose
// S_o + B_o is below the largest S - B cannot have the largest E, so the argmax (ties: lowest id) is exact.
// False where it does not apply or a bound is not finite (the one-pass product then writes every id).
bool argmaxTwoPass(const Matrix& head, const float* h, int M, int32_t* ids) {
  const Kernels& k = kernels();
  if (!k.score || !head.bf16 || (int)head.rowNorm.size() != head.rows) return false;
  const int K = head.cols, P = (K + 1) / 2;
  const double u = std::ldexp(1.0, -24), g = 2.0 * K * u / (1 - 2.0 * K * u), tiny = std::ldexp(1.0, -126);
  std::vector<uint32_t> xb((size_t)M * P, 0);
  std::vector<float> rel(M), abs(M);
  for (int r = 0; r < M; r++) {
    double nh = 0, nb = 0, nd = 0;
    for (int i = 0; i < K; i++) {
      const float x = h[(size_t)r * K + i];
      uint32_t bits;
      std::memcpy(&bits, &x, 4);
      uint16_t b = (uint16_t)((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);  // round to nearest even
      if (std::fabs(bf16Value(b)) < tiny) b = 0;  // vdpbf16ps reads subnormals as zero: so does the bound
      const double bx = bf16Value(b), d = (double)x - bx;
      nh += (double)x * x, nb += bx * bx, nd += d * d;
      xb[(size_t)r * P + i / 2] |= (uint32_t)b << (16 * (i & 1));
    }
    rel[r] = (float)((std::sqrt(nd) + g * (std::sqrt(nh) + std::sqrt(nb))) * (1 + 1e-5));
    abs[r] = (float)(tiny * (2.0 * K + std::sqrt((double)K) * (1 + std::sqrt(nb))) * 2);  // flushed products and sums
    if (!std::isfinite(rel[r]) || !std::isfinite(nh)) return false;
  }
  constexpr int CHUNK = 256;
  struct Candidate {
    int row, id;
    float high;
  };
  Pool& p = pool();
  std::vector<std::vector<float>> buf(p.size, std::vector<float>((size_t)M * CHUNK));
  std::vector<std::vector<float>> bestLow(p.size, std::vector<float>(M, -INFINITY));
  std::vector<std::vector<Candidate>> candidates(p.size);
  p.parallelFor(head.rows, CHUNK, [&](int t, int o0, int o1) {
    float* y = buf[t].data() - o0;  // y[r * CHUNK + o] for o in [o0, o1)
    k.score(ScoreTask{xb.data(), P, M, K, static_cast<const uint32_t*>(head.data), y, CHUNK, o0, o1});
    for (int r = 0; r < M; r++) {
      const float* row = y + (size_t)r * CHUNK;
      float& low = bestLow[t][r];
      for (int o = o0; o < o1; o++) {
        const float b = head.rowNorm[o] * rel[r] + abs[r];
        low = std::max(low, row[o] - b);
        if (row[o] + b >= low) candidates[t].push_back({r, o, row[o] + b});
      }
    }
  });
  std::vector<float> low(M, -INFINITY);
  for (int t = 0; t < p.size; t++)
    for (int r = 0; r < M; r++) low[r] = std::max(low[r], bestLow[t][r]);
  // Second pass: the float32 logits of the candidates' panels (kernel values, whatever the tile), one row at a time.
  std::vector<std::vector<int>> keep(M);
  for (const auto& list : candidates)
    for (const Candidate& c : list)
      if (c.high >= low[c.row]) keep[c.row].push_back(c.id);
  float e[PANEL];
  for (int r = 0; r < M; r++) {
    std::sort(keep[r].begin(), keep[r].end());
    float bv = -INFINITY;
    int bi = -1, panel = -1;
    for (int id : keep[r]) {
      if (id / PANEL != panel) {
        panel = id / PANEL;
        const int o0 = panel * PANEL, o1 = std::min(o0 + PANEL, head.rows);
        k.matmul(MatTask{h + (size_t)r * K, K, 1, K, head.data, true, nullptr, e - o0, PANEL, o0, o1, false});
      }
      const float v = e[id % PANEL];
      if (bi < 0 || v > bv) bv = v, bi = id;  // ids ascending: ties keep the lowest, as tf.argMax
    }
    if (bi < 0) return false;
    ids[r] = bi;
  }
  return true;
}

// ---- Node-API glue ----------------------------------------------------------------------------------
napi_value fail(napi_env env, const std::string& msg) {
  napi_throw_error(env, nullptr, ("unitrace_native decoder: " + msg).c_str());
  return nullptr;
}

template <typename T>
T* unwrap(napi_env env, napi_value v) {
  void* p = nullptr;
  if (napi_get_value_external(env, v, &p) != napi_ok) return nullptr;
  return static_cast<T*>(p);
}

// The handle of a one-argument call (decoderInfo(dec), cacheDispose(cache), ...), or nullptr.
template <typename T>
T* onlyArg(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  return argc == 1 ? unwrap<T>(env, argv[0]) : nullptr;
}

template <typename T>
napi_value wrap(napi_env env, T* obj) {
  napi_value out;
  napi_create_external(env, obj, [](napi_env, void* data, void*) { delete static_cast<T*>(data); }, nullptr, &out);
  return out;
}

struct Typed {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
};

bool typed(napi_env env, napi_value v, Typed* out) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is) return false;
  napi_get_typedarray_info(env, v, &out->type, &out->length, &out->data, nullptr, nullptr);
  return true;
}

std::string stringArg(napi_env env, napi_value v) {
  char buf[32] = {0};
  size_t len = 0;
  napi_get_value_string_utf8(env, v, buf, sizeof buf, &len);
  return std::string(buf, len);
}

double numberArg(napi_env env, napi_value v) {
  double x = 0;
  napi_get_value_double(env, v, &x);
  return x;
}

// decoderCreate(dims: Int32Array [hidden, inter, layers, heads, kvHeads, headDim, vocab, tied], eps, theta)
napi_value Create(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Typed dims;
  if (argc < 3 || !typed(env, argv[0], &dims) || dims.type != napi_int32_array || dims.length != 8)
    return fail(env, "decoderCreate(dims: Int32Array(8), eps, theta)");
  const int32_t* v = static_cast<const int32_t*>(dims.data);
  for (int i = 0; i < 7; i++)
    if (v[i] <= 0) return fail(env, "dims must be positive");
  auto* dec = new Decoder();
  dec->d = Dims{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7] != 0, (float)numberArg(env, argv[1]), (float)numberArg(env, argv[2])};
  if (dec->d.heads % dec->d.kvHeads != 0 || dec->d.headDim % 2 != 0) {
    delete dec;
    return fail(env, "heads must be a multiple of kv heads and headDim even");
  }
  dec->layers.resize(dec->d.layers);
  for (int i = 0; i < dec->d.headDim / 2; i++)
    dec->invFreq.push_back((float)(1.0 / std::pow((double)dec->d.theta, 2.0 * i / dec->d.headDim)));
  return wrap(env, dec);
}

// decoderSet(dec, part, layer, data): a matrix as Uint16Array (bfloat16 bits) or Float32Array; a vector as Float32Array.
napi_value Set(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Decoder* dec = argc == 4 ? unwrap<Decoder>(env, argv[0]) : nullptr;
  Typed t;
  if (!dec || !typed(env, argv[3], &t)) return fail(env, "decoderSet(dec, part, layer, data: TypedArray)");
  const std::string part = stringArg(env, argv[1]);
  const int layer = (int)numberArg(env, argv[2]);
  const Dims& d = dec->d;
  const bool perLayer = part != "embed" && part != "lmHead" && part != "norm";
  if (perLayer && (layer < 0 || layer >= d.layers)) return fail(env, part + ": layer " + std::to_string(layer) + " out of range");
  Layer* L = perLayer ? &dec->layers[layer] : nullptr;
  std::vector<float>* vec = part == "norm" ? &dec->finalNorm : !L ? nullptr : part == "inputNorm" ? &L->inputNorm : part == "postNorm" ? &L->postNorm : part == "qkvBias" ? &L->qkvBias : nullptr;
  const int vecLen = part == "qkvBias" ? d.qkvDim() : d.hidden;
  if (vec) {
    if (t.type != napi_float32_array || (int)t.length != vecLen)
      return fail(env, part + " needs a Float32Array of " + std::to_string(vecLen) + ", got " + std::to_string(t.length));
    const float* f = static_cast<const float*>(t.data);
    vec->assign(f, f + vecLen);
    return nullptr;
  }
  Matrix* m = nullptr;
  int rows = 0, cols = 0;
  if (part == "embed") m = &dec->embed, rows = d.vocab, cols = d.hidden;
  else if (part == "lmHead") m = &dec->lmHead, rows = d.vocab, cols = d.hidden;
  else if (part == "qkv") m = &L->qkv, rows = d.qkvDim(), cols = d.hidden;
  else if (part == "o") m = &L->o, rows = d.hidden, cols = d.qDim();
  else if (part == "gateUp") m = &L->gateUp, rows = 2 * d.inter, cols = d.hidden;
  else if (part == "down") m = &L->down, rows = d.hidden, cols = d.inter;
  else return fail(env, "unknown part '" + part + "'");
  if (t.type != napi_uint16_array && t.type != napi_float32_array) return fail(env, part + ": a Uint16Array (bf16) or Float32Array");
  if (t.length != (size_t)rows * cols)
    return fail(env, part + " needs " + std::to_string((size_t)rows * cols) + " values, got " + std::to_string(t.length));
  m->bf16 = t.type == napi_uint16_array;
  m->rows = rows;
  m->cols = cols;
  if (m->bf16)
    pack(*m, static_cast<const uint16_t*>(t.data));
  else
    pack(*m, static_cast<const float*>(t.data));
  m->rowNorm.clear();
  if (m->bf16 && (part == "embed" || part == "lmHead")) {
    const uint16_t* w = static_cast<const uint16_t*>(t.data);
    m->rowNorm.resize(rows);
    for (int o = 0; o < rows; o++) {
      double ss = 0;
      for (int k = 0; k < cols; k++) {
        const double v = bf16Value(w[(size_t)o * cols + k]);
        ss += v * v;
      }
      m->rowNorm[o] = (float)(std::sqrt(ss) * (1 + 1e-6));
    }
  }
  return nullptr;
}

std::string missingPart(const Decoder& dec) {
  if (!dec.embed.data) return "embed";
  if (!dec.d.tied && !dec.lmHead.data) return "lmHead";
  if (dec.finalNorm.empty()) return "norm";
  for (size_t l = 0; l < dec.layers.size(); l++) {
    const Layer& L = dec.layers[l];
    const std::string at = " of layer " + std::to_string(l);
    if (L.inputNorm.empty()) return "inputNorm" + at;
    if (L.postNorm.empty()) return "postNorm" + at;
    if (L.qkvBias.empty()) return "qkvBias" + at;
    if (!L.qkv.data) return "qkv" + at;
    if (!L.o.data) return "o" + at;
    if (!L.gateUp.data) return "gateUp" + at;
    if (!L.down.data) return "down" + at;
  }
  return "";
}

// Bytes one decode step reads: every matrix of the layers and the lm_head, plus norms and biases.
size_t stepBytes(const Decoder& dec) {
  size_t n = dec.head().bytes() + dec.finalNorm.size() * 4;
  for (const Layer& L : dec.layers)
    n += L.qkv.bytes() + L.o.bytes() + L.gateUp.bytes() + L.down.bytes() + (L.inputNorm.size() + L.postNorm.size() + L.qkvBias.size()) * 4;
  return n;
}

napi_value setNumber(napi_env env, napi_value obj, const char* key, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, obj, key, n);
  return obj;
}

// decoderInfo(dec): { weightBytes, bf16Bytes, missing, kernel, threads }
napi_value InfoOf(napi_env env, napi_callback_info info) {
  Decoder* dec = onlyArg<Decoder>(env, info);
  if (!dec) return fail(env, "decoderInfo(dec)");
  napi_value obj, s;
  napi_create_object(env, &obj);
  setNumber(env, obj, "weightBytes", (double)stepBytes(*dec));
  size_t bf16 = dec->head().bf16 ? dec->head().bytes() : 0;
  for (const Layer& L : dec->layers)
    for (const Matrix* m : {&L.qkv, &L.o, &L.gateUp, &L.down}) bf16 += m->bf16 ? m->bytes() : 0;
  setNumber(env, obj, "bf16Bytes", (double)bf16);
  setNumber(env, obj, "threads", pool().size);
  const std::string missing = missingPart(*dec);
  napi_create_string_utf8(env, missing.c_str(), missing.size(), &s);
  napi_set_named_property(env, obj, "missing", s);
  napi_create_string_utf8(env, kernels().name, NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, obj, "kernel", s);
  return obj;
}

// decoderDispose(dec) / cacheDispose(cache): frees the memory now rather than when the handle is collected.
napi_value Dispose(napi_env env, napi_callback_info info) {
  if (Decoder* dec = onlyArg<Decoder>(env, info)) {
    freeMatrix(dec->embed), freeMatrix(dec->lmHead);
    for (Layer& L : dec->layers) freeMatrix(L.qkv), freeMatrix(L.o), freeMatrix(L.gateUp), freeMatrix(L.down);
  }
  return nullptr;
}

napi_value CacheDispose(napi_env env, napi_callback_info info) {
  if (Cache* c = onlyArg<Cache>(env, info)) {
    for (Slot& s : c->slots) s = Slot{std::vector<std::vector<float>>(c->layers), std::vector<std::vector<float>>(c->layers), 0};
  }
  return nullptr;
}

// cacheCreate(dec, slots)
napi_value CacheCreate(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Decoder* dec = argc == 2 ? unwrap<Decoder>(env, argv[0]) : nullptr;
  const int slots = argc == 2 ? (int)numberArg(env, argv[1]) : 0;
  if (!dec || slots <= 0) return fail(env, "cacheCreate(dec, slots > 0)");
  auto* c = new Cache{dec->d.layers, dec->d.kvDim(), std::vector<Slot>(slots)};
  for (Slot& s : c->slots) s.keys.resize(c->layers), s.values.resize(c->layers);
  return wrap(env, c);
}

// cacheReset(cache, slot): forgets a sequence (its memory is kept for the next one).
napi_value CacheReset(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Cache* c = argc == 2 ? unwrap<Cache>(env, argv[0]) : nullptr;
  const int slot = argc == 2 ? (int)numberArg(env, argv[1]) : -1;
  if (!c || slot < 0 || slot >= (int)c->slots.size()) return fail(env, "cacheReset(cache, slot in range)");
  c->slots[slot].length = 0;
  return nullptr;
}

// decoderForward(dec, cache, slots: Int32Array [B], counts: Int32Array [B], tokens: Int32Array [sum counts],
//   mode: 'argmax' (out Int32Array [B]) | 'last' (out Float32Array [B, V]) | 'all' (out Float32Array [N, V]))
// Each row's tokens continue its slot's sequence; the slot's cache grows by its count.
napi_value Forward(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 7) return fail(env, "decoderForward(dec, cache, slots, counts, tokens, mode, out)");
  Decoder* dec = unwrap<Decoder>(env, argv[0]);
  Cache* cache = unwrap<Cache>(env, argv[1]);
  Typed slots, counts, tokens, out;
  if (!dec || !cache) return fail(env, "dec and cache must come from decoderCreate / cacheCreate");
  if (!typed(env, argv[2], &slots) || !typed(env, argv[3], &counts) || !typed(env, argv[4], &tokens) || slots.type != napi_int32_array ||
      counts.type != napi_int32_array || tokens.type != napi_int32_array || counts.length != slots.length)
    return fail(env, "slots, counts and tokens must be Int32Arrays, counts as long as slots");
  const std::string missing = missingPart(*dec);
  if (!missing.empty()) return fail(env, "weight " + missing + " was never set");
  const Dims& d = dec->d;
  if (cache->layers != d.layers || cache->kvDim != d.kvDim()) return fail(env, "the cache was made for another model");
  const int B = (int)slots.length;
  const int32_t* sl = static_cast<const int32_t*>(slots.data);
  const int32_t* cn = static_cast<const int32_t*>(counts.data);
  const int32_t* tk = static_cast<const int32_t*>(tokens.data);
  Batch batch;
  std::vector<bool> used(cache->slots.size(), false);
  for (int r = 0; r < B; r++) {
    if (sl[r] < 0 || sl[r] >= (int)cache->slots.size() || used[sl[r]]) return fail(env, "row " + std::to_string(r) + ": slot out of range or repeated");
    if (cn[r] <= 0) return fail(env, "row " + std::to_string(r) + ": count must be positive");
    used[sl[r]] = true;
    for (int i = 0; i < cn[r]; i++) batch.slot.push_back(sl[r]), batch.pos.push_back(cache->slots[sl[r]].length + i);
  }
  const int N = (int)batch.slot.size();
  if ((int)tokens.length != N) return fail(env, "tokens has " + std::to_string(tokens.length) + " ids, counts sum to " + std::to_string(N));
  for (int n = 0; n < N; n++)
    if (tk[n] < 0 || tk[n] >= d.vocab) return fail(env, "token id " + std::to_string(tk[n]) + " outside the vocabulary of " + std::to_string(d.vocab));
  const std::string mode = stringArg(env, argv[5]);
  const int M = mode == "all" ? N : B;
  if (!typed(env, argv[6], &out)) return fail(env, "out must be a typed array");
  if (mode == "argmax" ? out.type != napi_int32_array || (int)out.length != B
                       : (mode != "last" && mode != "all") || out.type != napi_float32_array || out.length != (size_t)M * d.vocab)
    return fail(env, "mode '" + mode + "' needs out = " + (mode == "argmax" ? "Int32Array(rows)" : "Float32Array(rows * vocab)"));

  std::vector<float> x;
  layers(*dec, *cache, batch, tk, x);
  for (int r = 0; r < B; r++) cache->slots[sl[r]].length += cn[r];
  // Only the rows whose logits are wanted go through the final norm and the lm_head.
  std::vector<float> h((size_t)M * d.hidden);
  for (int r = 0, n = 0; r < B; r++) {
    n += cn[r];
    if (mode != "all") std::memcpy(h.data() + (size_t)r * d.hidden, x.data() + (size_t)(n - 1) * d.hidden, d.hidden * sizeof(float));
  }
  if (mode == "all") h = x;
  rmsNorm(h.data(), M, d.hidden, dec->finalNorm.data(), d.eps, h.data());
  if (mode == "argmax")
    argmaxHead(dec->head(), h.data(), M, static_cast<int32_t*>(out.data));
  else
    product(h.data(), d.hidden, M, dec->head(), nullptr, static_cast<float*>(out.data), d.vocab, false);
  return nullptr;
}

// decoderReadSeconds(dec): seconds to read the bytes of one decode step once with the pool (best of 3),
// the memory-bandwidth bound measured beside the decoding figures.
napi_value ReadSeconds(napi_env env, napi_callback_info info) {
  Decoder* dec = onlyArg<Decoder>(env, info);
  if (!dec) return fail(env, "decoderReadSeconds(dec)");
  struct Span {
    const uint8_t* p;
    size_t n;
  };
  std::vector<Span> spans;
  constexpr size_t PIECE = 1 << 20;  // split matrices into 1 MiB pieces so both threads share each one
  auto add = [&](const Matrix& m) {
    for (size_t off = 0; off < m.bytes(); off += PIECE)
      spans.push_back({static_cast<const uint8_t*>(m.data) + off, m.bytes() - off < PIECE ? m.bytes() - off : PIECE});
  };
  add(dec->head());
  for (const Layer& L : dec->layers) add(L.qkv), add(L.o), add(L.gateUp), add(L.down);
  double best = 1e30;
  std::atomic<uint64_t> sink{0};
  for (int rep = 0; rep < 3; rep++) {
    const auto t0 = std::chrono::steady_clock::now();
    pool().parallelFor((int)spans.size(), 4, [&](int, int b, int e) {
      uint64_t s = 0;
      for (int i = b; i < e; i++) s += kernels().read(spans[i].p, spans[i].n);
      sink += s;
    });
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  napi_value v;
  napi_create_double(env, sink.load() == 42 ? best * (1 + 1e-12) : best, &v);  // keeps the reads from being elided
  return v;
}

}  // namespace

void registerDecoder(napi_env env, napi_value exports) {
  const struct {
    const char* name;
    napi_callback fn;
  } fns[] = {{"decoderCreate", Create}, {"decoderSet", Set}, {"decoderInfo", InfoOf}, {"decoderForward", Forward},
             {"decoderReadSeconds", ReadSeconds}, {"cacheCreate", CacheCreate}, {"cacheReset", CacheReset},
             {"decoderDispose", Dispose}, {"cacheDispose", CacheDispose}};
  for (const auto& f : fns) {
    napi_value v;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &v);
    napi_set_named_property(env, exports, f.name, v);
  }
}
