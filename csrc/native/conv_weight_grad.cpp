// conv_weight_grad.cpp - the weight gradient of a 2-D convolution on
// channels-last (NHWC) data, for CPUs with AVX2 and FMA.
//
// Why graphopt has its own: on an AVX2 CPU, mkldnn computes the NHWC weight
// gradient with a direct kernel at well under half the GEMM rate (and its
// NCHW path pays a blocked reorder per tensor), so a channels-last
// training step lost what its forward gained. The weight gradient is a GEMM
// whose reduction runs over every output position:
//
//   dW[co, ci, kh, kw] = sum over (n, oh, ow) of
//                        dY[n, oh, ow, co] * X[n, ih, iw, ci],
//   ih = oh*sh - ph + kh*dh,  iw = ow*sw - pw + kw*dw  (positions outside X add 0)
//
// In NHWC both operands are already in GEMM order: dY's row of Co channels
// is contiguous, and so is X's row of Ci channels at (ih, iw). The
// micro-kernel keeps an NC x 16 tile of dW (NC input channels, 16 output
// channels: 12 AVX2 accumulators at NC = 6) in registers and, per position,
// loads 16 channels of dY and broadcasts NC channels of X: no im2col and no
// reorder of the tensors. Each thread reduces over its own range of output
// rows into a private [KH][KW][Ci][Co] buffer; the buffers are summed into
// dW (OIHW, the parameter's layout) at the end, so the result does not
// depend on scheduling, only on the thread count.
//
// Blocking: a chunk of output rows is taken whole (every tile of dW) before
// the next. Its X rows (KH + chunk - 1 of them, zero-padded) are packed per
// tile of 6 input channels, and its dY rows per tile of 16 output channels
// (16 channels of successive positions Co floats apart would fall in a few
// L1 sets), so the KH*KW offsets of a tile read both from L1.
//
// Built with the package (csrc/native/CMakeLists.txt: -mavx2 -mfma on
// x86-64; elsewhere the entry point reports no kernel). Written with GCC's
// vector types and its FMA builtin, which give the same instructions as
// <immintrin.h>; no other library header, so it links nothing but OpenMP.
#include <omp.h>

typedef __INT64_TYPE__ int64_t;
typedef __SIZE_TYPE__ size_t;

namespace {

template <typename T>
T min(T a, T b) { return b < a ? b : a; }
template <typename T>
T max(T a, T b) { return a < b ? b : a; }

/// A heap array, freed at scope exit (no <vector>).
struct Buffer {
  float *data = nullptr;
  size_t size = 0;
  Buffer() = default;
  explicit Buffer(size_t n) : data(static_cast<float *>(__builtin_calloc(n, sizeof(float)))), size(n) {}
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  ~Buffer() { __builtin_free(data); }
  /// At least n floats, old contents lost; false when out of memory.
  bool reserve(size_t n) {
    if (n <= size) return true;
    __builtin_free(data);
    data = static_cast<float *>(__builtin_malloc(n * sizeof(float)));
    size = data ? n : 0;
    return data != nullptr;
  }
};

struct Conv {
  int64_t n, hi, wi, ci, ho, wo, co, kh, kw, sh, sw, ph, pw, dh, dw;
};

#if defined(__AVX2__) && defined(__FMA__)
constexpr bool kNative = true;

typedef float v8 __attribute__((vector_size(32)));
inline v8 load8(const float *p) {
  v8 v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
inline void store8(float *p, v8 v) { __builtin_memcpy(p, &v, sizeof v); }
inline v8 broadcast8(const float *p) {
  const float s = *p;
  return v8{s, s, s, s, s, s, s, s};
}
/// a*b + c rounded once (vfmadd231ps).
inline v8 fma8(v8 a, v8 b, v8 c) { return __builtin_ia32_vfmaddps256(a, b, c); }

/// A chunk of X packed for one chunk of output rows of one image: for each
/// tile of (up to) 6 input channels, the input rows and columns the chunk's
/// windows cover, zero where they fall outside X (the padding). The
/// micro-kernel then reads X with no bounds checks, its NC channels of one
/// position contiguous.
struct Packed {
  Buffer data;
  int64_t rows = 0, cols = 0;  // input rows and columns under the chunk
  const float *tile(int64_t ci0) const { return data.data + ci0 * rows * cols; }
};

// No memcpy/memset for the short copies below: GCC would call them or emit
// rep movs, which takes longer to start than the copy of a few floats.
__attribute__((optimize("no-tree-loop-distribute-patterns")))
bool pack(const Conv &c, const float *x, int64_t n, int64_t oh0, int64_t oh1, Packed &p) {
  p.rows = (oh1 - 1 - oh0) * c.sh + (c.kh - 1) * c.dh + 1;
  p.cols = (c.wo - 1) * c.sw + (c.kw - 1) * c.dw + 1;
  if (!p.data.reserve(static_cast<size_t>(p.rows * p.cols * c.ci))) return false;
  // Position by position, X's Ci channels scattered to the tiles: tile ci0
  // starts at ci0 * plane and holds nc floats per position (6, or what is
  // left in the last tile).
  const int64_t plane = p.rows * p.cols, full = c.ci / 6 * 6, rest = c.ci - full;
  float *const data = p.data.data, *const tail = data + full * plane;
  for (int64_t r = 0; r < p.rows; ++r) {
    const int64_t ih = oh0 * c.sh - c.ph + r;
    for (int64_t q = 0; q < p.cols; ++q) {
      const int64_t pos = r * p.cols + q, iw = q - c.pw;
      float *out = data + pos * 6, *last = tail + pos * rest;
      if (ih < 0 || ih >= c.hi || iw < 0 || iw >= c.wi) {
        for (int64_t ci0 = 0; ci0 < full; ci0 += 6)
          for (int i = 0; i < 6; ++i) out[ci0 * plane + i] = 0.0f;
        for (int64_t i = 0; i < rest; ++i) last[i] = 0.0f;
        continue;
      }
      const float *src = x + ((n * c.hi + ih) * c.wi + iw) * c.ci;
      for (int64_t ci0 = 0; ci0 < full; ci0 += 6)
        for (int i = 0; i < 6; ++i) out[ci0 * plane + i] = src[ci0 + i];
      for (int64_t i = 0; i < rest; ++i) last[i] = src[full + i];
    }
  }
  return true;
}

/// acc[kh][kw][ci0 .. ci0+NC)[co0 .. co0+8*NV) += the products over output
/// rows [oh0, oh1) of image n, X's channels ci0.. packed in `xt`.
template <int NC, int NV>
void tile(const Conv &c, const Packed &p, const float *xt, const float *dyt, float *acc,
          int64_t oh0, int64_t oh1, int64_t kh, int64_t kw, int64_t ci0, int64_t co0) {
  float *out = acc + ((kh * c.kw + kw) * c.ci + ci0) * c.co + co0;
  const int64_t xstep = c.sw * NC;
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    // The accumulators live for one row: GCC keeps them in registers only
    // when nothing outside the innermost loop indexes them.
    v8 a[NC][NV];
    for (int i = 0; i < NC; ++i)
      for (int j = 0; j < NV; ++j) a[i][j] = load8(out + i * c.co + 8 * j);
    const float *xp = xt + (((oh - oh0) * c.sh + kh * c.dh) * p.cols + kw * c.dw) * NC;
    const float *dp = dyt + (oh - oh0) * c.wo * 8 * NV;
    for (int64_t ow = 0; ow < c.wo; ++ow, xp += xstep, dp += 8 * NV) {
      v8 d[NV];
      for (int j = 0; j < NV; ++j) d[j] = load8(dp + 8 * j);
      for (int i = 0; i < NC; ++i) {
        const v8 b = broadcast8(xp + i);
        for (int j = 0; j < NV; ++j) a[i][j] = fma8(b, d[j], a[i][j]);
      }
    }
    for (int i = 0; i < NC; ++i)
      for (int j = 0; j < NV; ++j) store8(out + i * c.co + 8 * j, a[i][j]);
  }
}

using TileFn = void (*)(const Conv &, const Packed &, const float *, const float *, float *,
                        int64_t, int64_t, int64_t, int64_t, int64_t, int64_t);

template <int NV>
TileFn tileFor(int64_t nc) {
  switch (nc) {
    case 1: return tile<1, NV>;
    case 2: return tile<2, NV>;
    case 3: return tile<3, NV>;
    case 4: return tile<4, NV>;
    case 5: return tile<5, NV>;
    default: return tile<6, NV>;
  }
}

/// The tiles of dW with output channels [co_begin, co_end) over output rows
/// [r0, r1) (a row is one (n, oh)), chunk by chunk; a chunk stays inside one
/// image. False when out of memory.
__attribute__((optimize("no-tree-loop-distribute-patterns")))  // see pack
bool accumulate(const Conv &c, const float *x, const float *dy, float *acc, int64_t r0,
                int64_t r1, int64_t co_begin, int64_t co_end) {
  if (r0 >= r1 || co_begin >= co_end) return true;
  // About 256 output positions per chunk: one tile's packed X (chunk + 2
  // rows of 6 channels) and dY (16 channels) take 26 KB at W = 64, within a
  // 32 KB L1 across the KH*KW offsets; a shorter chunk packs more X rows
  // per output row (the KH - 1 extra rows).
  const int64_t rows = max<int64_t>(1, 256 / max<int64_t>(c.wo, 1));
  Packed p;
  Buffer dyt(static_cast<size_t>(rows * c.wo * 16));
  if (!dyt.data) return false;
  for (int64_t start = r0; start < r1;) {
    const int64_t n = start / c.ho, oh0 = start % c.ho;
    const int64_t oh1 = min(c.ho, oh0 + min(rows, r1 - start));
    if (!pack(c, x, n, oh0, oh1, p)) return false;
    for (int64_t co0 = co_begin; co0 < co_end; co0 += 16) {
      const bool wide = co_end - co0 >= 16;
      // The chunk's dY columns co0.. made contiguous: 16 channels of every
      // position a Co-float stride apart would all map to a few L1 sets.
      const int64_t width = wide ? 16 : 8, positions = (oh1 - oh0) * c.wo;
      const float *src = dy + (n * c.ho + oh0) * c.wo * c.co + co0;
      for (int64_t q = 0; q < positions; ++q)
        for (int64_t j = 0; j < width; j += 8)  // not memcpy: see pack
          store8(dyt.data + q * width + j, load8(src + q * c.co + j));
      for (int64_t ci0 = 0; ci0 < c.ci; ci0 += 6) {
        const int64_t nc = min<int64_t>(6, c.ci - ci0);
        const TileFn fn = wide ? tileFor<2>(nc) : tileFor<1>(nc);
        for (int64_t kh = 0; kh < c.kh; ++kh)
          for (int64_t kw = 0; kw < c.kw; ++kw)
            fn(c, p, p.tile(ci0), dyt.data, acc, oh0, oh1, kh, kw, ci0, co0);
      }
    }
    start += oh1 - oh0;
  }
  return true;
}
#else
constexpr bool kNative = false;
bool accumulate(const Conv &, const float *, const float *, float *, int64_t, int64_t, int64_t,
                int64_t) {
  return false;
}
#endif

}  // namespace

extern "C" {

/// 1 when this library was built with the AVX2 kernel and this CPU runs it
/// (the caller uses torch otherwise).
int graphopt_conv_weight_grad_native() {
#if defined(__x86_64__) || defined(__i386__)
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
#endif
  return kNative ? 1 : 0;
}

/// dw[co][ci][kh][kw] (OIHW, written whole) from x [n][hi][wi][ci] and
/// dy [n][ho][wo][co], both contiguous; co must be a multiple of 8.
/// Threads split the output rows, each into a private dW, as long as those
/// take at most max_partial_bytes; past that, threads split dW's output
/// channels too (a many-core host with large layers).
/// Returns 0; -1 when the shape is outside what the kernel handles, -2 when
/// out of memory.
int graphopt_conv_weight_grad_nhwc(const float *x, const float *dy, float *dw, int64_t n,
                                   int64_t hi, int64_t wi, int64_t ci, int64_t ho, int64_t wo,
                                   int64_t co, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                                   int64_t ph, int64_t pw, int64_t dh, int64_t dwl,
                                   int threads, int64_t max_partial_bytes) {
  if (!graphopt_conv_weight_grad_native() || co % 8 != 0 || threads < 1) return -1;
  const Conv c{n, hi, wi, ci, ho, wo, co, kh, kw, sh, sw, ph, pw, dh, dwl};
  const int64_t taps = kh * kw * ci * co, rows = wo > 0 ? n * ho : 0;
  if (taps == 0) return 0;
  threads = static_cast<int>(max<int64_t>(1, min<int64_t>(threads, rows)));
  // Row groups, one private dW each; the threads of a row group split the
  // output channels' 16-wide tiles.
  const int64_t co_tiles = (co + 15) / 16;
  const int64_t budget = max<int64_t>(1, max_partial_bytes / (taps * int64_t(sizeof(float))));
  const int64_t groups =
      max<int64_t>(min<int64_t>(threads, budget), (threads + co_tiles - 1) / co_tiles);
  Buffer partial(static_cast<size_t>(groups) * taps);  // zeroed: no rows sum to 0
  if (!partial.data) return -2;
  bool failed = false;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t g_count = min<int64_t>(groups, nt), c_count = min<int64_t>(co_tiles, nt / g_count);
    const int64_t g = t % g_count, k = t / g_count;
    const int64_t co_begin = min(co, 16 * (co_tiles * k / c_count));
    const int64_t co_end = min(co, 16 * (co_tiles * (k + 1) / c_count));
    if (k < c_count && !accumulate(c, x, dy, partial.data + g * taps, rows * g / g_count,
                                   rows * (g + 1) / g_count, co_begin, co_end)) {
#pragma omp atomic write
      failed = true;
    }
#pragma omp barrier
    // The row groups' buffers summed into the first in memory order, then
    // dw[o][i][y][x] = partial[y][x][i][o].
    float *const sum = partial.data;
#pragma omp for schedule(static)
    for (int64_t e = 0; e < taps; ++e) {
      float s = sum[e];
      for (int64_t u = 1; u < g_count; ++u) s += partial.data[u * taps + e];
      sum[e] = s;
    }
#pragma omp for schedule(static)
    for (int64_t o = 0; o < co; ++o)
      for (int64_t i = 0; i < ci; ++i)
        for (int64_t y = 0; y < kh; ++y)
          for (int64_t z = 0; z < kw; ++z)
            dw[((o * ci + i) * kh + y) * kw + z] = sum[((y * kw + z) * ci + i) * co + o];
  }
  return failed ? -2 : 0;
}

}  // extern "C"
