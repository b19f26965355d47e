"""The coefficients of sf_exp_poly (src_c/sf_math.h), and their error.

exp(r) = 1 + r + r^2 q(r) on |r| <= ln2/2, with q of degree 9 interpolating
(exp(r) - 1 - r) / r^2 at the Chebyshev nodes of the interval (mpmath's
chebyfit, near the minimax polynomial). Prints the coefficients as C hex
literals, highest degree first, and the largest relative error of the
polynomial with them rounded to double (in exact arithmetic, over 4001
points), in units of 2^-53. Needs mpmath (not a dependency of scorefast).

    python tools/exp_poly.py
"""
import mpmath as mp

DEGREE_OF_Q = 9


def q(r):
    if abs(r) < mp.mpf("1e-10"):
        return mp.mpf(1) / 2 + r / 6 + r * r / 24
    return (mp.exp(r) - 1 - r) / (r * r)


def main():
    mp.mp.dps = 40
    a = mp.log(2) / 2
    coeffs = [float(c) for c in mp.chebyfit(q, [-a, a], DEGREE_OF_Q + 1)]
    worst = mp.mpf(0)
    for i in range(4001):
        r = -a + 2 * a * i / 4000
        s = mp.mpf(0)
        for c in coeffs:
            s = s * r + mp.mpf(c)
        worst = max(worst, abs((1 + r + r * r * s) / mp.exp(r) - 1))
    for c in coeffs:
        print(c.hex())
    print("max relative error", mp.nstr(worst, 3), "=", mp.nstr(worst * 2 ** 53, 3), "ulp")


if __name__ == "__main__":
    main()
