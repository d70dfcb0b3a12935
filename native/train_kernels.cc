// The training step's elementwise kernels (src/engine/fast.ts, attention.ts, dropout.ts) in C++, exported as
// the addon's `train` object. Each one repeats its TypeScript twin operation for operation in float64, rounding
// to float32 exactly where the TypeScript stores into a Float32Array, so the results are bit-identical (tested
// in test/engine/native-kernels.test.ts): -ffp-contract=off keeps the compiler from fusing multiply-adds and
// there is no reassociation, so only the loops without a running sum vectorise (-fno-trapping-math lets the
// selects in them vectorise; it changes no value). What it saves is V8's
// per-element cost: bench/NOTES.md, "Native training kernels".
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__)
#define UNITRACE_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define UNITRACE_CLONES
#endif

namespace {

// fexp of src/engine/fast.ts: 2^k * (degree-6 Taylor polynomial of e^f). k is read from the low bits of
// t + 1.5 * 2^52 and moved into a double's exponent, which equals the TypeScript's table entry Math.pow(2, k)
// for every k in [-250, 250] and, unlike a table or an int conversion, vectorises.
inline double fexp(double v) {
  double t = v * 1.4426950408889634;
  t = t < -250 ? -250 : t;  // two selects (x86 max/min keep a NaN as the TypeScript does) rather than a branch
  t = t > 250 ? 250 : t;
  const double round = 6755399441055744.0;
  const double shifted = t + round;
  const double k = shifted - round;
  const double f = (t - k) * 0.6931471805599453;
  const double p =
      1 + f * (1 + f * (0.5 + f * (0.16666666666666666 + f * (0.041666666666666664 + f * (0.008333333333333333 + f * 0.001388888888888889)))));
  uint64_t bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  bits = (bits + 1023) << 52;
  double scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

UNITRACE_CLONES void swiglu(const float* g, const float* u, float* o, float* sg, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const double x = g[i];
    const double s = 1 / (1 + fexp(-x));
    sg[i] = (float)s;
    o[i] = (float)(x * s * u[i]);
  }
}

UNITRACE_CLONES void swigluGrad(const float* g, const float* u, const float* sgs, const float* d, float* dg, float* du, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const double x = g[i];
    const double sg = sgs[i];
    dg[i] = (float)((double)d[i] * u[i] * sg * (1 + x * (1 - sg)));
    du[i] = (float)((double)d[i] * x * sg);
  }
}

UNITRACE_CLONES void rmsNorm(const float* x, const float* w, float* o, float* rinv, size_t n, size_t h, double eps) {
  for (size_t i = 0; i < n; i++) {
    const float* xr = x + i * h;
    double ss = 0;
    for (size_t j = 0; j < h; j++) ss += (double)xr[j] * xr[j];
    const double r = 1 / std::sqrt(ss / (double)h + eps);
    rinv[i] = (float)r;
    for (size_t j = 0; j < h; j++) o[i * h + j] = (float)((double)xr[j] * r * w[j]);
  }
}

UNITRACE_CLONES void rmsNormGrad(const float* x, const float* w, const float* rinv, const float* g, float* dx, float* dw, size_t n, size_t h) {
  std::memset(dw, 0, h * sizeof(float));
  for (size_t i = 0; i < n; i++) {
    const size_t row = i * h;
    const double r = rinv[i];
    double dot = 0;
    for (size_t j = 0; j < h; j++) {
      dot += (double)g[row + j] * w[j] * x[row + j];
      dw[j] = (float)((double)dw[j] + (double)g[row + j] * x[row + j] * r);
    }
    const double k = (r * r * r * dot) / (double)h;
    for (size_t j = 0; j < h; j++) dx[row + j] = (float)(r * g[row + j] * w[j] - (double)x[row + j] * k);
  }
}

UNITRACE_CLONES void rope(const float* x, const float* c, const float* sn, float* o, size_t bt, size_t width, size_t d, double sign) {
  const size_t half = d / 2;
  for (size_t p = 0; p < bt; p++) {
    const size_t cs = p * d;
    for (size_t h = 0; h < width; h += d) {
      const size_t base = p * width + h;
      for (size_t j = 0; j < half; j++) {
        const double x1 = x[base + j], x2 = x[base + j + half];
        const double s1 = sign * sn[cs + j], s2 = sign * sn[cs + j + half];
        o[base + j] = (float)(x1 * c[cs + j] - x2 * s1);
        o[base + j + half] = (float)(x2 * c[cs + j + half] + x1 * s2);
      }
    }
  }
}

// softmaxRow of src/engine/attention.ts: the first `visible` scores of a row, keys with mask 0 dropped.
void softmaxRow(const float* x, float* o, const float* mask, size_t visible, size_t s, double scale) {
  float m = -INFINITY;
  for (size_t j = 0; j < visible; j++)
    if (mask[j] != 0 && x[j] > m) m = x[j];
  if (m == -INFINITY) {
    std::memset(o, 0, s * sizeof(float));
    return;
  }
  // The exponentials in one loop that vectorises, their running sum (in the TypeScript's order) in another.
  thread_local std::vector<double> e;
  if (e.size() < visible) e.resize(visible);
  for (size_t j = 0; j < visible; j++) {
    e[j] = mask[j] != 0 ? fexp(((double)x[j] - m) * scale) : 0;
    o[j] = (float)e[j];
  }
  double sum = 0;
  for (size_t j = 0; j < visible; j++) sum += e[j];
  const double inv = 1 / sum;
  for (size_t j = 0; j < visible; j++) o[j] = (float)((double)o[j] * inv);
  std::memset(o + visible, 0, (s - visible) * sizeof(float));
}

UNITRACE_CLONES void maskedSoftmaxBatched(const float* x, const float* mask, float* o, size_t blocks, size_t rows, size_t s, size_t t,
                                          size_t past, double scale, size_t hkv) {
  for (size_t bl = 0; bl < blocks; bl++)
    for (size_t r = 0; r < rows; r++) {
      const size_t row = (bl * rows + r) * s;
      const size_t visible = std::min(s, past + r % t + 1);
      softmaxRow(x + row, o + row, mask + (bl / hkv) * s, visible, s, scale);
    }
}

UNITRACE_CLONES void softmaxGradBatched(const float* p, const float* ds, float* o, size_t blocks, size_t rows, size_t s, size_t t,
                                        size_t past, double scale) {
  for (size_t br = 0; br < blocks * rows; br++) {
    const size_t row = br * s;
    const size_t visible = std::min(s, past + (br % rows) % t + 1);
    double dot = 0;
    for (size_t j = row; j < row + visible; j++) dot += (double)p[j] * ds[j];
    for (size_t j = row; j < row + visible; j++) o[j] = (float)(scale * p[j] * ((double)ds[j] - dot));
    std::memset(o + row + visible, 0, (s - visible) * sizeof(float));
  }
}

UNITRACE_CLONES void logProbGrad(const float* p, const int32_t* labels, const float* dy, float* o, size_t n, size_t v) {
  for (size_t i = 0; i < n; i++) {
    const double g = dy[i];
    float* orow = o + i * v;
    if (g == 0) {
      std::memset(orow, 0, v * sizeof(float));
      continue;
    }
    const double ng = -g;
    const float* prow = p + i * v;
    for (size_t j = 0; j < v; j++) orow[j] = (float)(ng * prow[j]);
    orow[labels[i]] = (float)((double)orow[labels[i]] + g);
  }
}

// The dropout multiplier of tf.dropout(x, rate, undefined, seed): floor(u + keep) / keep in float32, with u
// the float32 rounding of seedrandom's alea stream started from state (c, s0, s1, s2). u + keep lies in
// [keep, 1 + keep], below 2, so the floor is a comparison with 1 (a call to floorf costs more than the draw).
UNITRACE_CLONES void dropoutMask(float* o, size_t n, double c, double s0, double s1, double s2, float keep) {
  const float kept = 1.0f / keep;
  for (size_t i = 0; i < n; i++) {
    const double t = 2091639 * s0 + c * 2.3283064365386963e-10;
    s0 = s1;
    s1 = s2;
    c = std::trunc(t);  // t | 0, as t is in [0, 2^21]; one roundsd, where an int round trip costs two conversions
    s2 = t - c;
    o[i] = (float)s2 + keep >= 1.0f ? kept : 0.0f;
  }
}

// ---- Node-API glue: positional arguments, checked ------------------------------------------------------
struct Args {
  napi_env env;
  napi_value argv[12];
  size_t argc = 12;
  std::string error;
  Args(napi_env e, napi_callback_info info) : env(e) { napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr); }

  template <typename T>
  T* array(size_t i, napi_typedarray_type want, size_t minLength) {
    bool is = false;
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    if (i < argc) napi_is_typedarray(env, argv[i], &is);
    if (is) napi_get_typedarray_info(env, argv[i], &type, &length, &data, nullptr, nullptr);
    if (!is || type != want) {
      fail("argument " + std::to_string(i) + (want == napi_int32_array ? " must be an Int32Array" : " must be a Float32Array"));
    } else if (length < minLength) {
      fail("argument " + std::to_string(i) + " has " + std::to_string(length) + " elements, needs " + std::to_string(minLength));
    }
    return static_cast<T*>(data);
  }
  float* f32(size_t i, size_t minLength) { return array<float>(i, napi_float32_array, minLength); }
  int32_t* i32(size_t i, size_t minLength) { return array<int32_t>(i, napi_int32_array, minLength); }
  size_t length(size_t i) {
    bool is = false;
    size_t length = 0;
    if (i < argc) napi_is_typedarray(env, argv[i], &is);
    if (is) napi_get_typedarray_info(env, argv[i], nullptr, &length, nullptr, nullptr, nullptr);
    return length;
  }
  double number(size_t i) {
    double x = 0;
    if (i >= argc || napi_get_value_double(env, argv[i], &x) != napi_ok) fail("argument " + std::to_string(i) + " must be a number");
    return x;
  }
  size_t count(size_t i) {
    const double x = number(i);
    if (!(x >= 0 && x == std::floor(x))) fail("argument " + std::to_string(i) + " must be a non-negative integer");
    return (size_t)x;
  }
  void fail(const std::string& msg) {
    if (error.empty()) error = msg;
  }
  // Throws the first problem; true when the call may go on.
  bool ok(const char* fn) {
    if (error.empty()) return true;
    napi_throw_error(env, nullptr, ("unitrace_native train." + std::string(fn) + ": " + error).c_str());
    return false;
  }
};

// swiglu(gate, up, out, sig)
napi_value Swiglu(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const size_t n = a.length(0);
  const float *g = a.f32(0, n), *u = a.f32(1, n);
  float *o = a.f32(2, n), *sg = a.f32(3, n);
  if (a.ok("swiglu")) swiglu(g, u, o, sg, n);
  return nullptr;
}

// swigluGrad(gate, up, sig, dy, dgate, dup)
napi_value SwigluGrad(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const size_t n = a.length(0);
  const float *g = a.f32(0, n), *u = a.f32(1, n), *sg = a.f32(2, n), *d = a.f32(3, n);
  float *dg = a.f32(4, n), *du = a.f32(5, n);
  if (a.ok("swigluGrad")) swigluGrad(g, u, sg, d, dg, du, n);
  return nullptr;
}

// rmsNorm(x [n*h], w [h], out [n*h], rinv [n], eps)
napi_value RmsNorm(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const size_t h = a.length(1), n = a.length(3);
  const float *x = a.f32(0, n * h), *w = a.f32(1, h);
  float *o = a.f32(2, n * h), *r = a.f32(3, n);
  const double eps = a.number(4);
  if (a.ok("rmsNorm")) rmsNorm(x, w, o, r, n, h, eps);
  return nullptr;
}

// rmsNormGrad(x [n*h], w [h], rinv [n], dy [n*h], dx [n*h], dw [h])
napi_value RmsNormGrad(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const size_t h = a.length(1), n = a.length(2);
  const float *x = a.f32(0, n * h), *w = a.f32(1, h), *r = a.f32(2, n), *g = a.f32(3, n * h);
  float *dx = a.f32(4, n * h), *dw = a.f32(5, h);
  if (a.ok("rmsNormGrad")) rmsNormGrad(x, w, r, g, dx, dw, n, h);
  return nullptr;
}

// rope(x [bt*width], cos [bt*d], sin [bt*d], out [bt*width], bt, width, headDim, sign)
napi_value Rope(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const size_t bt = a.count(4), width = a.count(5), d = a.count(6);
  const double sign = a.number(7);
  if (d == 0 || d % 2 != 0 || width % d != 0) a.fail("headDim must be even and divide the width");
  const float *x = a.f32(0, bt * width), *c = a.f32(1, bt * d), *s = a.f32(2, bt * d);
  float* o = a.f32(3, bt * width);
  if (a.ok("rope")) rope(x, c, s, o, bt, width, d, sign);
  return nullptr;
}

// maskedSoftmaxBatched(scores, keyMask, out, blocks, rows, s, t, pastLength, scale, numKvHeads)
napi_value MaskedSoftmaxBatched(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const size_t blocks = a.count(3), rows = a.count(4), s = a.count(5), t = a.count(6), past = a.count(7), hkv = a.count(9);
  const double scale = a.number(8);
  if (t == 0 || hkv == 0) a.fail("t and numKvHeads must be positive");
  const size_t n = blocks * rows * s;
  const float *x = a.f32(0, n), *mask = a.f32(1, hkv ? (blocks + hkv - 1) / hkv * s : 0);
  float* o = a.f32(2, n);
  if (a.ok("maskedSoftmaxBatched")) maskedSoftmaxBatched(x, mask, o, blocks, rows, s, t, past, scale, hkv);
  return nullptr;
}

// softmaxGradBatched(probs, dprobs, out, blocks, rows, s, t, pastLength, scale)
napi_value SoftmaxGradBatched(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const size_t blocks = a.count(3), rows = a.count(4), s = a.count(5), t = a.count(6), past = a.count(7);
  const double scale = a.number(8);
  if (t == 0) a.fail("t must be positive");
  const size_t n = blocks * rows * s;
  const float *p = a.f32(0, n), *d = a.f32(1, n);
  float* o = a.f32(2, n);
  if (a.ok("softmaxGradBatched")) softmaxGradBatched(p, d, o, blocks, rows, s, t, past, scale);
  return nullptr;
}

// logProbGrad(probs [n*v], labels [n], dy [n], out [n*v])
napi_value LogProbGrad(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const size_t n = a.length(1), v = n ? a.length(0) / n : 0;
  const float* p = a.f32(0, n * v);
  const int32_t* labels = a.i32(1, n);
  const float* dy = a.f32(2, n);
  float* o = a.f32(3, n * v);
  for (size_t i = 0; a.error.empty() && i < n; i++)
    if (labels[i] < 0 || (size_t)labels[i] >= v) a.fail("label " + std::to_string(labels[i]) + " at row " + std::to_string(i) + " is outside the vocabulary");
  if (a.ok("logProbGrad")) logProbGrad(p, labels, dy, o, n, v);
  return nullptr;
}

// dropoutMask(out, c, s0, s1, s2, keepProb)
napi_value DropoutMask(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const size_t n = a.length(0);
  float* o = a.f32(0, n);
  const double c = a.number(1), s0 = a.number(2), s1 = a.number(3), s2 = a.number(4);
  const float keep = (float)a.number(5);
  if (!(keep > 0 && keep <= 1)) a.fail("keepProb must be in (0, 1]");
  if (a.ok("dropoutMask")) dropoutMask(o, n, c, s0, s1, s2, keep);
  return nullptr;
}

}  // namespace

void registerTrainKernels(napi_env env, napi_value exports) {
  const struct {
    const char* name;
    napi_callback fn;
  } fns[] = {{"swiglu", Swiglu},
             {"swigluGrad", SwigluGrad},
             {"rmsNorm", RmsNorm},
             {"rmsNormGrad", RmsNormGrad},
             {"rope", Rope},
             {"maskedSoftmaxBatched", MaskedSoftmaxBatched},
             {"softmaxGradBatched", SoftmaxGradBatched},
             {"logProbGrad", LogProbGrad},
             {"dropoutMask", DropoutMask}};
  napi_value train;
  napi_create_object(env, &train);
  for (const auto& f : fns) {
    napi_value v;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &v);
    napi_set_named_property(env, train, f.name, v);
  }
  napi_set_named_property(env, exports, "train", train);
}
