//===- KernelMathTest.cpp - the vectorizable float math of CPU kernels ----===//
#include "python/graphopt/runtime/include/graphopt_kernel_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

namespace {

/// Distance in units in the last place between a float and the exact value.
double ulpError(float got, double exact) {
  if (std::isnan(exact))
    return std::isnan(got) ? 0 : INFINITY;
  if (std::isinf(exact) || std::isinf(got))
    return (double)got == exact ? 0 : INFINITY;
  float rounded = (float)exact;
  float next = std::nextafter(rounded, INFINITY);
  double ulp = std::max((double)next - (double)rounded,
                        (double)std::numeric_limits<float>::denorm_min());
  return std::fabs((double)got - exact) / ulp;
}

/// Every 97th float in [lo, hi] (both signs for symmetric ranges), plus the
/// special values.
template <typename F, typename R>
double maxUlp(F f, R ref, float lo, float hi, float *worst) {
  double max = 0;
  auto check = [&](float x) {
    double e = ulpError(f(x), ref((double)x));
    if (e > max) {
      max = e;
      *worst = x;
    }
  };
  for (float x = lo; x < hi;) {
    check(x);
    uint32_t bits;
    std::memcpy(&bits, &x, 4);
    bits = x >= 0 ? bits + 97 : (bits > 97 ? bits - 97 : 0);
    float nx;
    std::memcpy(&nx, &bits, 4);
    if (x < 0 && nx >= 0)
      nx = 0;
    x = nx;
  }
  for (float x : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-40f, -1e-40f})
    check(x);
  std::printf("  max error %.3f ulp at x = %.9g\n", max, *worst);
  return max;
}

TEST(KernelMath, ExpWithinTwoUlpEverywhere) {
  float worst = 0;
  double e = maxUlp([](float x) { return graphopt_math::exp(x); },
                    [](double x) { return std::exp(x); }, -110.0f, 90.0f,
                    &worst);
  EXPECT_LE(e, 2.0) << "worst at x = " << worst;
  EXPECT_EQ(graphopt_math::exp(-INFINITY), 0.0f);
  EXPECT_TRUE(std::isinf(graphopt_math::exp(89.0f)));
  EXPECT_TRUE(std::isnan(graphopt_math::exp(NAN)));
}

TEST(KernelMath, ExpNormalIsExpWhereTheResultIsNormal) {
  // erf and tanh call exp_normal on arguments they bound themselves: it must
  // give exp's value, bit for bit, wherever e^x is a normal float. Every
  // 4093rd float of each sign, up to 88 and down to -87.
  int64_t checked = 0;
  for (float sign : {1.0f, -1.0f}) {
    for (uint32_t bits = 0;; bits += 4093) {
      float m;
      std::memcpy(&m, &bits, sizeof m);
      float x = sign * m;
      if (x > 88.0f || x < -87.0f)
        break;
      float a = graphopt_math::exp_normal(x), b = graphopt_math::exp(x);
      ASSERT_EQ(std::memcmp(&a, &b, sizeof a), 0) << "x = " << x;
      ++checked;
    }
  }
  EXPECT_GT(checked, 500000);
}

TEST(KernelMath, LogWithinTwoUlpEverywhere) {
  float worst = 0;
  // Every 97th positive float, subnormals to the largest finite one.
  double e = maxUlp([](float x) { return graphopt_math::log(x); },
                    [](double x) { return std::log(x); }, 1e-45f,
                    std::numeric_limits<float>::max(), &worst);
  EXPECT_LE(e, 2.0) << "worst at x = " << worst;
  EXPECT_EQ(graphopt_math::log(1.0f), 0.0f);
  EXPECT_EQ(graphopt_math::log(0.0f), -INFINITY);
  EXPECT_EQ(graphopt_math::log(-0.0f), -INFINITY);
  EXPECT_EQ(graphopt_math::log(INFINITY), INFINITY);
  EXPECT_TRUE(std::isnan(graphopt_math::log(-1.0f)));
  EXPECT_TRUE(std::isnan(graphopt_math::log(-INFINITY)));
  EXPECT_TRUE(std::isnan(graphopt_math::log(NAN)));
}

TEST(KernelMath, ErfWithinFourUlpEverywhere) {
  float worst = 0;
  double e = maxUlp([](float x) { return graphopt_math::erf(x); },
                    [](double x) { return std::erf(x); }, -6.0f, 6.0f, &worst);
  EXPECT_LE(e, 4.0) << "worst at x = " << worst;
  EXPECT_EQ(graphopt_math::erf(INFINITY), 1.0f);
  EXPECT_EQ(graphopt_math::erf(-INFINITY), -1.0f);
  EXPECT_TRUE(std::isnan(graphopt_math::erf(NAN)));
}

TEST(KernelMath, TanhWithinFourUlp) {
  float worst = 0;
  double e = maxUlp([](float x) { return graphopt_math::tanh(x); },
                    [](double x) { return std::tanh(x); }, -30.0f, 30.0f, &worst);
  EXPECT_LE(e, 4.0) << "worst at x = " << worst;
  EXPECT_EQ(graphopt_math::tanh(INFINITY), 1.0f);
  EXPECT_EQ(graphopt_math::tanh(-INFINITY), -1.0f);
  EXPECT_TRUE(std::isnan(graphopt_math::tanh(NAN)));
  EXPECT_EQ(graphopt_math::tanh(1e-30f), 1e-30f);
}

TEST(KernelMath, SigmoidWithinFourUlp) {
  float worst = 0;
  double e = maxUlp([](float x) { return graphopt_math::sigmoid(x); },
                    [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, -80.0f,
                    80.0f, &worst);
  EXPECT_LE(e, 4.0) << "worst at x = " << worst;
}

} // namespace
