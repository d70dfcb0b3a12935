// Optional native float32 matrix product for the TensorFlow.js wasm backend (src/engine/native.ts).
// XNNPACK on wasm SIMD (4 lanes, no FMA) reaches ~30 GFLOP/s per core; this runs the same products with
// the host's vector units. Three implementations, best first, chosen once at load:
//   openblas  - cblas_sgemm from a system OpenBLAS found with dlopen (no link-time dependency),
//   avx2-fma  - a packed, blocked 6x16 register-tile kernel, used when the CPU has AVX2 and FMA,
//   generic   - a plain blocked loop the compiler vectorises for the baseline instruction set.
// Every entry point is synchronous and keeps no state between calls, so worker threads can share it.
#include <node_api.h>
#include <dlfcn.h>
#if defined(__x86_64__) || defined(__i386__)
#define UNITRACE_X86 1
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

namespace {

// ---- OpenBLAS through dlopen ----------------------------------------------------------------------
// CBLAS enum values (cblas.h): row major 101, no transpose 111, transpose 112.
typedef void (*CblasSgemm)(int order, int transA, int transB, int m, int n, int k, float alpha, const float* a,
                           int lda, const float* b, int ldb, float beta, float* c, int ldc);
typedef void (*SetThreads)(int);
typedef char* (*GetString)();

CblasSgemm blasSgemm = nullptr;
std::string blasLibrary;
std::string blasCore;

// OpenMP's per-thread thread count, from the libgomp the OpenMP build of OpenBLAS pulls in (else null).
SetThreads ompSetNumThreads = nullptr;

// Sets an environment variable for the duration of dlopen only (libgomp and OpenBLAS read it as they load),
// so processes that Node spawns later do not inherit it.
struct ScopedEnv {
  const char* name;
  bool set;
  ScopedEnv(const char* n, const char* value) : name(n), set(std::getenv(n) == nullptr) {
    if (set) setenv(name, value, 0);
  }
  ~ScopedEnv() {
    if (set) unsetenv(name);
  }
};

void loadBlas() {
  const char* disabled = std::getenv("UNITRACE_NATIVE_BLAS");
  if (disabled && std::strcmp(disabled, "0") == 0) return;
  // One worker thread per core already uses every core: OpenBLAS must not start threads of its own.
  ScopedEnv omp("OMP_NUM_THREADS", "1"), openblas("OPENBLAS_NUM_THREADS", "1");
  const char* names[] = {"libopenblas.so.0", "libopenblas.so", "libblas.so.3"};
  for (const char* name : names) {
    void* lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!lib) continue;
    void* sym = dlsym(lib, "cblas_sgemm");
    void* threads = dlsym(lib, "openblas_set_num_threads");
    if (!sym || !threads) {
      // Not OpenBLAS (libblas.so.3 may be the reference BLAS, ~6 GFLOP/s, slower than the kernels below).
      dlclose(lib);
      continue;
    }
    blasSgemm = reinterpret_cast<CblasSgemm>(sym);
    blasLibrary = name;
    reinterpret_cast<SetThreads>(threads)(1);
    if (void* st = dlsym(lib, "omp_set_num_threads")) ompSetNumThreads = reinterpret_cast<SetThreads>(st);
    if (void* core = dlsym(lib, "openblas_get_corename")) blasCore = reinterpret_cast<GetString>(core)();
    return;
  }
}

// OpenMP thread counts are per calling thread: each worker thread sets its own to 1 on its first product.
void singleThreadedBlas() {
  thread_local bool done = false;
  if (!done && ompSetNumThreads) ompSetNumThreads(1);
  done = true;
}

// ---- Operand access ---------------------------------------------------------------------------------
// op(A) is [m,k] and op(B) is [k,n]; the stored matrices are row major, transposed when the flag says so.
struct Operands {
  const float* a;
  const float* b;
  float* c;
  int m, n, k;
  bool transA, transB;
  float at(int i, int p) const { return transA ? a[(size_t)p * m + i] : a[(size_t)i * k + p]; }
  float bt(int p, int j) const { return transB ? b[(size_t)j * k + p] : b[(size_t)p * n + j]; }
};

// ---- AVX2 + FMA: packed GEMM with a 6x16 register tile ------------------------------------------------
#ifdef UNITRACE_X86
constexpr int MR = 6, NR = 16;         // register tile: 6 rows x 2 vectors of 8 = 12 accumulators
constexpr int KC = 256, MC = 120, NC = 3072;  // A block 120x256 (120 KiB, L2), B panel 256x3072 (3 MiB)

// Packs op(A)[i0:i0+mc, p0:p0+kc] into MR-row panels, k-major ([panel][p][MR]), zero-padding the last.
void packA(const Operands& o, int i0, int mc, int p0, int kc, float* dst) {
  for (int ir = 0; ir < mc; ir += MR) {
    const int mr = std::min(MR, mc - ir);
    for (int p = 0; p < kc; p++) {
      for (int r = 0; r < mr; r++) dst[r] = o.at(i0 + ir + r, p0 + p);
      for (int r = mr; r < MR; r++) dst[r] = 0.f;
      dst += MR;
    }
  }
}

// Packs op(B)[p0:p0+kc, j0:j0+nc] into NR-column panels, k-major ([panel][p][NR]), zero-padding the last.
void packB(const Operands& o, int p0, int kc, int j0, int nc, float* dst) {
  for (int jr = 0; jr < nc; jr += NR) {
    const int nr = std::min(NR, nc - jr);
    if (!o.transB && nr == NR) {
      for (int p = 0; p < kc; p++, dst += NR) std::memcpy(dst, o.b + (size_t)(p0 + p) * o.n + j0 + jr, NR * sizeof(float));
      continue;
    }
    for (int p = 0; p < kc; p++) {
      for (int c = 0; c < nr; c++) dst[c] = o.bt(p0 + p, j0 + jr + c);
      for (int c = nr; c < NR; c++) dst[c] = 0.f;
      dst += NR;
    }
  }
}

// C[0:mr, 0:nr] (+)= Ap[kc x MR]^T * Bp[kc x NR]; `accumulate` is false for the first k block.
__attribute__((target("avx2,fma"))) void tileAvx2(int kc, const float* ap, const float* bp, float* c, int ldc,
                                                  bool accumulate, int mr, int nr) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int p = 0; p < kc; p++, ap += MR, bp += NR) {
    const __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8);
    __m256 a = _mm256_broadcast_ss(ap + 0);
    c00 = _mm256_fmadd_ps(a, b0, c00);
    c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(ap + 1);
    c10 = _mm256_fmadd_ps(a, b0, c10);
    c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(ap + 2);
    c20 = _mm256_fmadd_ps(a, b0, c20);
    c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(ap + 3);
    c30 = _mm256_fmadd_ps(a, b0, c30);
    c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(ap + 4);
    c40 = _mm256_fmadd_ps(a, b0, c40);
    c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(ap + 5);
    c50 = _mm256_fmadd_ps(a, b0, c50);
    c51 = _mm256_fmadd_ps(a, b1, c51);
  }
  if (mr == MR && nr == NR) {  // full tile: straight to C
    const __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    for (int r = 0; r < MR; r++) {
      float* row = c + (size_t)r * ldc;
      __m256 lo = acc[r][0], hi = acc[r][1];
      if (accumulate) {
        lo = _mm256_add_ps(lo, _mm256_loadu_ps(row));
        hi = _mm256_add_ps(hi, _mm256_loadu_ps(row + 8));
      }
      _mm256_storeu_ps(row, lo);
      _mm256_storeu_ps(row + 8, hi);
    }
    return;
  }
  alignas(32) float tile[MR * NR];  // edge tile: through a buffer, then the rows and columns that exist
  _mm256_store_ps(tile + 0 * NR, c00), _mm256_store_ps(tile + 0 * NR + 8, c01);
  _mm256_store_ps(tile + 1 * NR, c10), _mm256_store_ps(tile + 1 * NR + 8, c11);
  _mm256_store_ps(tile + 2 * NR, c20), _mm256_store_ps(tile + 2 * NR + 8, c21);
  _mm256_store_ps(tile + 3 * NR, c30), _mm256_store_ps(tile + 3 * NR + 8, c31);
  _mm256_store_ps(tile + 4 * NR, c40), _mm256_store_ps(tile + 4 * NR + 8, c41);
  _mm256_store_ps(tile + 5 * NR, c50), _mm256_store_ps(tile + 5 * NR + 8, c51);
  for (int r = 0; r < mr; r++) {
    float* row = c + (size_t)r * ldc;
    const float* t = tile + r * NR;
    if (accumulate) {
      for (int j = 0; j < nr; j++) row[j] += t[j];
    } else {
      for (int j = 0; j < nr; j++) row[j] = t[j];
    }
  }
}

void sgemmAvx2(const Operands& o) {
  // Packing buffers per call (worker threads run products concurrently); 32-byte aligned for the loads.
  const size_t aSize = (size_t)((MC + MR - 1) / MR) * MR * KC, bSize = (size_t)((NC + NR - 1) / NR) * NR * KC;
  float* ap = static_cast<float*>(std::aligned_alloc(32, aSize * sizeof(float)));
  float* bp = static_cast<float*>(std::aligned_alloc(32, bSize * sizeof(float)));
  for (int j0 = 0; j0 < o.n; j0 += NC) {
    const int nc = std::min(NC, o.n - j0);
    for (int p0 = 0; p0 < o.k; p0 += KC) {
      const int kc = std::min(KC, o.k - p0);
      packB(o, p0, kc, j0, nc, bp);
      for (int i0 = 0; i0 < o.m; i0 += MC) {
        const int mc = std::min(MC, o.m - i0);
        packA(o, i0, mc, p0, kc, ap);
        for (int jr = 0; jr < nc; jr += NR) {
          for (int ir = 0; ir < mc; ir += MR) {
            tileAvx2(kc, ap + (size_t)ir * kc, bp + (size_t)jr * kc, o.c + (size_t)(i0 + ir) * o.n + j0 + jr, o.n,
                     p0 > 0, std::min(MR, mc - ir), std::min(NR, nc - jr));
          }
        }
      }
    }
  }
  std::free(ap);
  std::free(bp);
}

#endif  // UNITRACE_X86

// ---- Generic: row-major copies of the operands, then i-p-j loops over k blocks -------------------------
void sgemmGeneric(const Operands& o) {
  std::vector<float> at, bt;
  const float* a = o.a;
  const float* b = o.b;
  if (o.transA) {
    at.resize((size_t)o.m * o.k);
    for (int i = 0; i < o.m; i++)
      for (int p = 0; p < o.k; p++) at[(size_t)i * o.k + p] = o.at(i, p);
    a = at.data();
  }
  if (o.transB) {
    bt.resize((size_t)o.k * o.n);
    for (int p = 0; p < o.k; p++)
      for (int j = 0; j < o.n; j++) bt[(size_t)p * o.n + j] = o.bt(p, j);
    b = bt.data();
  }
  std::fill(o.c, o.c + (size_t)o.m * o.n, 0.f);
  constexpr int KB = 128;
  for (int p0 = 0; p0 < o.k; p0 += KB) {
    const int p1 = std::min(o.k, p0 + KB);
    for (int i = 0; i < o.m; i++) {
      float* __restrict crow = o.c + (size_t)i * o.n;
      for (int p = p0; p < p1; p++) {
        const float aip = a[(size_t)i * o.k + p];
        const float* __restrict brow = b + (size_t)p * o.n;
        for (int j = 0; j < o.n; j++) crow[j] += aip * brow[j];
      }
    }
  }
}

enum Impl { kBlas, kAvx2, kGeneric };
const char* implName(Impl i) { return i == kBlas ? "openblas" : i == kAvx2 ? "avx2-fma" : "generic"; }

bool hasAvx2Fma() {
#ifdef UNITRACE_X86
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}
bool available(Impl i) { return i == kGeneric || (i == kAvx2 && hasAvx2Fma()) || (i == kBlas && blasSgemm); }
Impl active() { return blasSgemm ? kBlas : hasAvx2Fma() ? kAvx2 : kGeneric; }

void run(Impl impl, const Operands& o) {
  if (o.m == 0 || o.n == 0) return;
  if (o.k == 0) {
    std::fill(o.c, o.c + (size_t)o.m * o.n, 0.f);
    return;
  }
  switch (impl) {
    case kBlas:
      singleThreadedBlas();
      blasSgemm(101, o.transA ? 112 : 111, o.transB ? 112 : 111, o.m, o.n, o.k, 1.f, o.a, o.transA ? o.m : o.k, o.b,
                o.transB ? o.k : o.n, 0.f, o.c, o.n);
      return;
    case kAvx2:
#ifdef UNITRACE_X86
      sgemmAvx2(o);
#endif
      return;
    case kGeneric:
      sgemmGeneric(o);
      return;
  }
}

// ---- Node-API glue ----------------------------------------------------------------------------------
napi_value throwError(napi_env env, const std::string& msg) {
  napi_throw_error(env, nullptr, ("unitrace_native: " + msg).c_str());
  return nullptr;
}

// Returns the Float32Array's first element and length, or nullptr (with a JS error thrown).
float* floatArray(napi_env env, napi_value v, const char* name, size_t* length) {
  bool isTyped = false;
  napi_is_typedarray(env, v, &isTyped);
  napi_typedarray_type type;
  void* data = nullptr;
  if (isTyped) napi_get_typedarray_info(env, v, &type, length, &data, nullptr, nullptr);
  if (!isTyped || type != napi_float32_array) {
    throwError(env, std::string(name) + " must be a Float32Array");
    return nullptr;
  }
  return static_cast<float*>(data);
}

bool intArg(napi_env env, napi_value v, const char* name, int* out) {
  if (napi_get_value_int32(env, v, out) != napi_ok || *out < 0) {
    throwError(env, std::string(name) + " must be a non-negative integer");
    return false;
  }
  return true;
}

// sgemm(a, b, c, m, n, k, transA, transB, impl?): c[m,n] = op(a) @ op(b), op(a) [m,k], op(b) [k,n].
napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 8) return throwError(env, "sgemm(a, b, c, m, n, k, transA, transB, impl?) needs 8 arguments");
  Operands o{};
  if (!intArg(env, argv[3], "m", &o.m) || !intArg(env, argv[4], "n", &o.n) || !intArg(env, argv[5], "k", &o.k))
    return nullptr;
  napi_coerce_to_bool(env, argv[6], &argv[6]);
  napi_coerce_to_bool(env, argv[7], &argv[7]);
  napi_get_value_bool(env, argv[6], &o.transA);
  napi_get_value_bool(env, argv[7], &o.transB);
  size_t la = 0, lb = 0, lc = 0;
  const float* a = floatArray(env, argv[0], "a", &la);
  if (!a) return nullptr;
  const float* b = floatArray(env, argv[1], "b", &lb);
  if (!b) return nullptr;
  float* c = floatArray(env, argv[2], "c", &lc);
  if (!c) return nullptr;
  const size_t m = o.m, n = o.n, k = o.k;
  if (la < m * k || lb < k * n || lc < m * n) {
    return throwError(env, "arrays too short for m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" +
                               std::to_string(k) + " (a " + std::to_string(la) + ", b " + std::to_string(lb) + ", c " +
                               std::to_string(lc) + ")");
  }
  o.a = a;
  o.b = b;
  o.c = c;
  Impl impl = active();
  if (argc > 8) {
    napi_valuetype t;
    napi_typeof(env, argv[8], &t);
    if (t == napi_string) {
      char name[16] = {0};
      size_t len = 0;
      napi_get_value_string_utf8(env, argv[8], name, sizeof(name), &len);
      const Impl all[] = {kBlas, kAvx2, kGeneric};
      bool found = false;
      for (Impl i : all) {
        if (std::strcmp(name, implName(i)) == 0) impl = i, found = true;
      }
      if (!found) return throwError(env, std::string("unknown implementation '") + name + "'");
      if (!available(impl)) return throwError(env, std::string("implementation '") + name + "' is not available here");
    } else if (t != napi_undefined) {
      return throwError(env, "impl must be a string");
    }
  }
  run(impl, o);
  return nullptr;
}

napi_value str(napi_env env, const std::string& s) {
  napi_value v;
  napi_create_string_utf8(env, s.c_str(), s.size(), &v);
  return v;
}

// info(): { path, library, core, available: string[] }
napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj, list;
  napi_create_object(env, &obj);
  napi_set_named_property(env, obj, "path", str(env, implName(active())));
  napi_set_named_property(env, obj, "library", str(env, blasLibrary));
  napi_set_named_property(env, obj, "core", str(env, blasCore));
  napi_create_array(env, &list);
  uint32_t n = 0;
  const Impl all[] = {kBlas, kAvx2, kGeneric};
  for (Impl i : all) {
    if (available(i)) napi_set_element(env, list, n++, str(env, implName(i)));
  }
  napi_set_named_property(env, obj, "available", list);
  return obj;
}

}  // namespace

void registerDecoder(napi_env env, napi_value exports);      // native/decode.cc
void registerTrainKernels(napi_env env, napi_value exports);  // native/train_kernels.cc

NAPI_MODULE_INIT() {
  static std::once_flag blasOnce;  // module init runs in every thread that requires the addon
  std::call_once(blasOnce, loadBlas);
  napi_value fn;
  napi_create_function(env, "sgemm", NAPI_AUTO_LENGTH, Sgemm, nullptr, &fn);
  napi_set_named_property(env, exports, "sgemm", fn);
  napi_create_function(env, "info", NAPI_AUTO_LENGTH, Info, nullptr, &fn);
  napi_set_named_property(env, exports, "info", fn);
  registerDecoder(env, exports);
  registerTrainKernels(env, exports);
  return exports;
}
