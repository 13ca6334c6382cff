// graphopt_kernel_math.h - the one header emitted CPU kernels include.
//
// It includes no library header: <cmath> alone costs the C++ compiler about
// 0.18 s per translation unit, more than a typical kernel's code generation,
// and every graph's kernels are compiled in one to a few of them on a cold
// cache. What kernels need comes from compiler builtins, which <cmath>'s own
// overloads call: the same instructions and libm calls, so the same results.
//
// glibc's expf/erff/logf are scalar calls, so a loop calling them never
// vectorizes; exp, log, erf, tanh and sigmoid here are branch-free (selects
// only), always inlined, and accurate to a few ulp over the whole float
// range, NaN and infinities included (tests/cpp/KernelMathTest.cpp sweeps
// them against double precision). Coefficients of erf come from
// csrc/codegen/tools/fit_math_coefficients.py.
#ifndef GRAPHOPT_KERNEL_MATH_H
#define GRAPHOPT_KERNEL_MATH_H

// The fixed-width integers, as <cstdint> declares them (the same types, so
// a file may include both).
typedef __INT8_TYPE__ int8_t;
typedef __INT16_TYPE__ int16_t;
typedef __INT32_TYPE__ int32_t;
typedef __INT64_TYPE__ int64_t;
typedef __UINT8_TYPE__ uint8_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __UINT64_TYPE__ uint64_t;

#if defined(__FMA__)
#define GRAPHOPT_FMA(a, b, c) __builtin_fmaf((a), (b), (c))
#else
#define GRAPHOPT_FMA(a, b, c) ((a) * (b) + (c))
#endif
#define GRAPHOPT_INLINE static inline __attribute__((always_inline))
// An explicit specialization takes its linkage from its template.
#define GRAPHOPT_SPECIALIZATION inline __attribute__((always_inline))

namespace graphopt_math {

// What <cmath> and <limits> would give the emitted code. A kernel compiled
// with -fno-math-errno gets sqrt as one (vectorizable) instruction.
GRAPHOPT_INLINE float sqrt(float x) { return __builtin_sqrtf(x); }
GRAPHOPT_INLINE double sqrt(double x) { return __builtin_sqrt(x); }
GRAPHOPT_INLINE float abs(float x) { return __builtin_fabsf(x); }
GRAPHOPT_INLINE double abs(double x) { return __builtin_fabs(x); }
/// |x| of an integer; the most negative value stays itself, as in torch.
template <typename T> GRAPHOPT_INLINE T abs(T x) {
  return x < 0 ? (T)(0 - (uint64_t)x) : x;
}
GRAPHOPT_INLINE float pow(float x, float e) { return __builtin_powf(x, e); }
GRAPHOPT_INLINE double pow(double x, double e) { return __builtin_pow(x, e); }
/// Mixed or integer operands: in double, as std::pow promotes them.
template <typename A, typename B> GRAPHOPT_INLINE double pow(A x, B e) {
  return __builtin_pow((double)x, (double)e);
}

template <typename T> GRAPHOPT_INLINE T infinity();
template <> GRAPHOPT_SPECIALIZATION float infinity<float>() { return __builtin_inff(); }
template <> GRAPHOPT_SPECIALIZATION double infinity<double>() { return __builtin_inf(); }
template <typename T> GRAPHOPT_INLINE T quiet_nan();
template <> GRAPHOPT_SPECIALIZATION float quiet_nan<float>() { return __builtin_nanf(""); }
template <> GRAPHOPT_SPECIALIZATION double quiet_nan<double>() { return __builtin_nan(""); }
/// The smallest value of T (a max-reduction's start over integers).
template <typename T> GRAPHOPT_INLINE T lowest() {
  return (T)-1 > 0 ? (T)0 : (T)((uint64_t)1 << (8 * sizeof(T) - 1));
}
template <> GRAPHOPT_SPECIALIZATION bool lowest<bool>() { return false; }
template <> GRAPHOPT_SPECIALIZATION float lowest<float>() { return -__FLT_MAX__; }
template <> GRAPHOPT_SPECIALIZATION double lowest<double>() { return -__DBL_MAX__; }


/// c0 + x (c1 + x (c2 + ...)): Horner's rule in fused multiply-adds, the
/// coefficients from the constant term up.
GRAPHOPT_INLINE float poly(float, float c) { return c; }
template <typename... C>
GRAPHOPT_INLINE float poly(float x, float c, C... rest) {
  return GRAPHOPT_FMA(poly(x, rest...), x, c);
}

/// 2^n for n in [-126, 127], built from the exponent bits.
GRAPHOPT_INLINE float exp2i(int32_t n) {
  uint32_t bits = (uint32_t)(n + 127) << 23;
  float f;
  __builtin_memcpy(&f, &bits, sizeof f);
  return f;
}

/// e^r for x = n ln2 + r with |r| <= ln2/2 (Cody-Waite): the Taylor series
/// to r^7; `n` is x / ln2 rounded to the nearest integer.
GRAPHOPT_INLINE float exp_reduced(float x, float *n) {
  // Round to nearest by adding and subtracting 1.5 * 2^23 (floor and
  // nearbyint do not vectorize without -ffast-math).
  *n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = GRAPHOPT_FMA(*n, -0.693359375f, x);
  r = GRAPHOPT_FMA(*n, 2.12194440e-4f, r);
  return poly(r, 1.0f, 1.0f, 0.5f, 1.66666667e-1f, 4.16666667e-2f,
                 8.33333333e-3f, 1.38888889e-3f, 1.98412698e-4f);
}

/// e^x, scaled by 2^n in two halves so results down to the smallest
/// subnormal and up to overflow come out right.
GRAPHOPT_INLINE float exp(float x) {
  // Below -104 (and -inf, and NaN) the result is 0 (or the NaN): those
  // lanes compute e^0 instead, because computing a subnormal there would
  // take the CPU's slow path (masked attention scores are -inf).
  bool tiny = !(x > -104.0f);
  float n, p = exp_reduced(tiny ? 0.0f : (x < 89.0f ? x : 89.0f), &n);
  int32_t ni = (int32_t)n;
  int32_t half = ni >> 1;
  float result = tiny ? 0.0f : p * exp2i(half) * exp2i(ni - half);
  return x != x ? x : result;
}

/// e^x for finite x in [-87, 88], where the result is a normal float: the
/// same value as exp(x) with one scaling and no special cases, for callers
/// that bound the argument themselves (erf, tanh). In a GELU those checks
/// took as long as the polynomials.
GRAPHOPT_INLINE float exp_normal(float x) {
  float n, p = exp_reduced(x, &n);
  return p * exp2i((int32_t)n);
}

/// ln(x): x = 2^e m with m in [sqrt(1/2), sqrt(2)), ln x = e ln2 + ln(1 + f)
/// for f = m - 1, ln(1 + f) = f - f^2/2 + f^3 P(f) (Cephes' minimax
/// polynomial), ln2 split in two so e ln2 adds no rounding error.
/// Subnormals are scaled by 2^23 first; 0 gives -inf, +inf gives +inf, a
/// negative x or NaN gives NaN. A loop of it vectorizes only with
/// -fno-trapping-math, which kernels are compiled with: GCC will not
/// if-convert the selects of the subnormal scaling otherwise.
GRAPHOPT_INLINE float log(float x) {
  bool subnormal = x < 1.17549435e-38f;
  float xs = subnormal ? x * 8388608.0f : x;
  uint32_t bits;
  __builtin_memcpy(&bits, &xs, sizeof bits);
  uint32_t mbits = (bits & 0x007fffffu) | 0x3f800000u;
  float m;
  __builtin_memcpy(&m, &mbits, sizeof m);
  bool high = m > 1.41421356f;
  m = high ? 0.5f * m : m;
  float ef = (float)(int32_t)((bits >> 23) & 0xffu) - (subnormal ? 150.0f : 127.0f) +
             (high ? 1.0f : 0.0f);
  float f = m - 1.0f;
  float z = f * f;
  float p = poly(f, 3.3333331174e-1f, -2.4999993993e-1f, 2.0000714765e-1f,
                    -1.6668057665e-1f, 1.4249322787e-1f, -1.2420140846e-1f,
                    1.1676998740e-1f, -1.1514610310e-1f, 7.0376836292e-2f);
  float y = p * f * z;
  y = GRAPHOPT_FMA(ef, -2.12194440e-4f, y);
  y = GRAPHOPT_FMA(z, -0.5f, y);
  float result = GRAPHOPT_FMA(ef, 0.693359375f, f + y);
  result = x == 0.0f ? -__builtin_inff() : result;
  result = x == __builtin_inff() ? __builtin_inff() : result;
  return x >= 0.0f ? result : __builtin_nanf("");  // NaN for x < 0 and for NaN
}

/// erf(x): x P(x^2) below 0.921875, 1 - e^Q(|x|) above (Q fit to
/// log erfc on [0.921875, 4]; beyond 4, erf rounds to +-1).
GRAPHOPT_INLINE float erf(float x) {
  float a = __builtin_fabsf(x);
  float s = x * x;
  float p = poly(s, 1.128379166e+00f, -3.761263176e-01f, 1.128367976e-01f,
                    -2.685889171e-02f, 5.200294885e-03f, -8.138155425e-04f,
                    8.362147672e-05f);
  float small = x * p;
  float t = a > 4.0f ? 4.0f : a;
  float q = poly(t, 1.053845196e-04f, -1.129093325e+00f, -6.344641743e-01f,
                    -1.065889301e-01f, 2.350954354e-02f, -3.172428905e-03f,
                    3.113028626e-05f, 8.110050292e-05f, -1.472971282e-05f,
                    9.194767165e-07f);
  float big = __builtin_copysignf(1.0f - exp_normal(q), x);  // q in [-17, 0.0002]
  float result = a < 0.921875f ? small : big;
  return x != x ? x : result;
}

/// tanh(x): x T(x^2) below 0.625 (no cancellation near 0), 1 - 2/(e^2|x| + 1)
/// above, with the sign of x; beyond 20 it rounds to +-1.
GRAPHOPT_INLINE float tanh(float x) {
  float a = __builtin_fabsf(x);
  float s = x * x;
  float p = poly(s, -3.333333308e-01f, 1.333332182e-01f, -5.396607232e-02f,
                    2.184816298e-02f, -8.745990191e-03f, 3.220871262e-03f,
                    -7.987962387e-04f);
  float small = GRAPHOPT_FMA(x * s, p, x);
  float e = exp_normal(2.0f * (a < 20.0f ? a : 20.0f));
  float big = __builtin_copysignf(1.0f - 2.0f / (e + 1.0f), x);
  float result = a < 0.625f ? small : big;
  return x != x ? x : result;
}

/// 1 / (1 + e^-x).
GRAPHOPT_INLINE float sigmoid(float x) {
  return 1.0f / (1.0f + graphopt_math::exp(-x));
}

/// bfloat16 storage: kernels compute in float and round once when storing.
GRAPHOPT_INLINE float bf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  __builtin_memcpy(&f, &bits, sizeof f);
  return f;
}

/// Round to nearest even, NaN to the canonical quiet NaN, as torch does.
GRAPHOPT_INLINE uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  __builtin_memcpy(&bits, &f, sizeof bits);
  uint16_t rounded = (uint16_t)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
  return f != f ? (uint16_t)0x7FC0 : rounded;
}

/// A float rounded to the nearest bfloat16 (an explicit cast inside a kernel).
GRAPHOPT_INLINE float round_bf16(float f) { return bf16_to_f32(f32_to_bf16(f)); }

// Double precision stays with the C library (correctly rounded enough).
GRAPHOPT_INLINE double exp(double x) { return __builtin_exp(x); }
GRAPHOPT_INLINE double log(double x) { return __builtin_log(x); }
GRAPHOPT_INLINE double erf(double x) { return __builtin_erf(x); }
GRAPHOPT_INLINE double sigmoid(double x) { return 1.0 / (1.0 + __builtin_exp(-x)); }
GRAPHOPT_INLINE double tanh(double x) { return __builtin_tanh(x); }

} // namespace graphopt_math

#endif // GRAPHOPT_KERNEL_MATH_H
