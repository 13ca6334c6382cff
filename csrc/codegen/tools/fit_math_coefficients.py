"""Derives the polynomial coefficients of graphopt's vectorizable erf and tanh (see
csrc/codegen/KernelPrelude.h) by least squares on dense samples, in double.

    python csrc/codegen/tools/fit_math_coefficients.py

Needs numpy and scipy (development only). The coefficients it prints are
pasted into KernelPrelude.h; tests/python/test_kernel_math.py checks the
resulting float functions against double-precision references.
"""
import numpy as np
from scipy.special import erf, erfc

TANH_SPLIT = 0.625  # |x| below: tanh(x) = x * T(x^2); above: 1 - 2 / (e^(2|x|) + 1)

SPLIT = 0.921875  # |x| below: erf(x) = x * P(x^2); above: erf(x) = 1 - exp(Q(|x|))
TOP = 4.0         # erf(x) rounds to 1.0f beyond ~3.92


def fit(x, y, degree, weight):
    # Weighted least squares on a monomial basis (well conditioned on these small ranges).
    a = np.vander(x, degree + 1, increasing=True) * weight[:, None]
    c, *_ = np.linalg.lstsq(a, y * weight, rcond=None)
    return c


def main():
    s = np.linspace(0, SPLIT * SPLIT, 200001)
    x = np.sqrt(s)
    small = np.where(x > 0, erf(x) / np.where(x > 0, x, 1), 2 / np.sqrt(np.pi))
    p = fit(s, small, 6, 1 / small)  # relative error
    t = np.linspace(SPLIT, TOP, 400001)
    q = fit(t, np.log(erfc(t)), 9, erfc(t))  # error in exp(Q) matters in absolute terms
    print("P (in x^2, low to high):", ", ".join(f"{v:.9e}f" for v in p))
    print("Q (in |x|, low to high):", ", ".join(f"{v:.9e}f" for v in q))
    u = np.linspace(1e-12, TANH_SPLIT * TANH_SPLIT, 200001)
    r = np.tanh(np.sqrt(u)) / np.sqrt(u)
    tc = fit(u, r, 7, 1 / r)
    print("T (in x^2, low to high):", ", ".join(f"{v:.9e}f" for v in tc))
    xs = np.linspace(0, SPLIT, 100001)
    err_p = np.max(np.abs(xs * np.polyval(p[::-1], xs * xs) - erf(xs)) / np.maximum(erf(xs), 1e-30))
    err_q = np.max(np.abs(1 - np.exp(np.polyval(q[::-1], t)) - erf(t)))
    xt = np.linspace(1e-6, TANH_SPLIT, 100001)
    err_t = np.max(np.abs(xt * np.polyval(tc[::-1], xt * xt) / np.tanh(xt) - 1))
    print(f"max rel err small {err_p:.2e}, max abs err large {err_q:.2e}, tanh rel err {err_t:.2e}")


if __name__ == "__main__":
    main()
