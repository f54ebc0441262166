#!/usr/bin/env python3
"""Independent reference for trignet::fixed (include/trignet/fixed.hpp).

Implements the documented semantics of Vitis HLS ap_fixed / ap_ufixed (UG1399,
"Arbitrary Precision Fixed-Point Data Types") with exact rational arithmetic
(fractions.Fraction), sharing no code or bit tricks with the C++ header:

  * a fixed<W, I, S> value is an integer raw times 2^-(W - I), with raw in
    [-2^(W-1), 2^(W-1) - 1] (signed) or [0, 2^W - 1] (unsigned);
  * storing an exact value x first quantises x * 2^F to an integer (the
    quantisation mode decides what happens to the fraction), then handles
    overflow of that integer (the overflow mode);
  * + - * / of two fixed values have the ap_fixed result types, which hold
    the exact result (division: truncated towards zero);
  * unary minus has type fixed<W + 1, I + 1, signed>.

It enumerates a compact, deterministic test suite (every W <= 8 cast from a
dense grid incl. ties, all Q and O modes; all pairs of raw values for + - * /
negation and comparisons for W <= 6) and writes one FNV-1a digest per group to
tests/data/fixed/reference_digests.txt. tests/test_fixed.cpp enumerates the
same suite with trignet::fixed and compares digests group by group.

  fixed_reference.py            rewrite the digest file
  fixed_reference.py --check    exit 1 unless the committed file is current
  fixed_reference.py --dump cast 3 s RND SAT          print one cast group
  fixed_reference.py --dump ops 2 1 s 3 -1 u          print one operator group
"""

import argparse
import math
import pathlib
import sys
from fractions import Fraction

QUANTIZATION = ["TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV"]
OVERFLOW = ["WRAP", "SAT", "SAT_ZERO", "SAT_SYM"]

DIGEST_FILE = pathlib.Path(__file__).resolve().parents[1] / "data" / "fixed" / "reference_digests.txt"

# ---- the semantics ----------------------------------------------------------


def raw_range(w, signed):
    """Smallest and largest raw integer of a W-bit type."""
    return (-(2 ** (w - 1)), 2 ** (w - 1) - 1) if signed else (0, 2 ** w - 1)


def quantize(y, q):
    """Integer nearest y (a Fraction, in units of the target LSB) per mode q."""
    fl = math.floor(y)
    frac = y - fl  # in [0, 1)
    half = Fraction(1, 2)
    negative = y < 0
    if q == "TRN":  # towards minus infinity
        return fl
    if q == "TRN_ZERO":  # towards zero
        return fl + 1 if negative and frac != 0 else fl
    if frac != half:  # all rounding modes agree away from a tie
        return fl + 1 if frac > half else fl
    if q == "RND":  # ties towards plus infinity
        return fl + 1
    if q == "RND_ZERO":  # ties towards zero
        return fl + 1 if negative else fl
    if q == "RND_MIN_INF":  # ties towards minus infinity
        return fl
    if q == "RND_INF":  # ties away from zero
        return fl if negative else fl + 1
    if q == "RND_CONV":  # ties to even
        return fl if fl % 2 == 0 else fl + 1
    raise ValueError(q)


def handle_overflow(n, w, signed, o):
    """Raw value stored for the integer n per overflow mode o."""
    lo, hi = raw_range(w, signed)
    if o == "SAT_SYM" and signed and w > 1:
        lo = -hi  # the symmetric range excludes -2^(W-1) (1-bit types: ap_fixed keeps -1)
    if lo <= n <= hi:
        return n
    if o == "WRAP":  # modulo 2^W, read back as two's complement
        m = n % (2 ** w)
        return m - 2 ** w if signed and m > hi else m
    if o == "SAT_ZERO":
        return 0
    if o in ("SAT", "SAT_SYM"):
        return hi if n > hi else lo
    raise ValueError(o)


def store(x, w, i, signed, q, o):
    """Raw value of fixed<w, i, q, o, signed> constructed from the exact value x."""
    y = Fraction(x) * Fraction(2) ** (w - i)
    return handle_overflow(quantize(y, q), w, signed, o)


def value(raw, w, i):
    return Fraction(raw) * Fraction(2) ** (i - w)


def exact_raw(x, w, i, signed):
    """Raw value of x in fixed<w, i, signed>; x must be representable exactly."""
    y = Fraction(x) * Fraction(2) ** (w - i)
    lo, hi = raw_range(w, signed)
    assert y.denominator == 1 and lo <= y <= hi, (x, w, i, signed)
    return int(y)


def result_types(w1, i1, s1, w2, i2, s2):
    """ap_fixed result types (W, I, signed) of a+b, a-b, a*b, a/b and -a."""
    f1, f2 = w1 - i1, w2 - i2
    ii = max(i1 + (1 if s2 and not s1 else 0), i2 + (1 if s1 and not s2 else 0)) + 1
    plus = (ii + max(f1, f2), ii, s1 or s2)
    minus = (ii + max(f1, f2), ii, True)
    mult = (w1 + w2, i1 + i2, s1 or s2)
    div = ((1 if s2 else 0) + w1 + max(f2, 0), (1 if s2 else 0) + i1 + f2, s1 or s2)
    neg = (w1 + 1, i1 + 1, True)
    return plus, minus, mult, div, neg


def truncate_towards_zero(x):
    return math.floor(x) if x >= 0 else -math.floor(-x)


# ---- the enumerated suite (mirrored by tests/test_fixed.cpp) ----------------


class Digest:
    """FNV-1a 64 over the values, each as 8 little-endian bytes (two's complement)."""

    def __init__(self):
        self.h = 0xCBF29CE484222325

    def feed(self, v):
        b = (int(v) & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
        for byte in b:
            self.h = ((self.h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF

    def hex(self):
        return f"{self.h:016x}"


def cast_groups():
    """Casts: W in 1..8, signed and unsigned, every Q and O; inputs
    y = j/4 target LSBs for j in [-2^(W+3), 2^(W+3)): 4 points per LSB (ties
    and quarters), four times the range on each side (wrap, saturation). The
    result does not depend on I (scale invariance); the C++ test runs several I."""
    for w in range(1, 9):
        for signed in (True, False):
            for q in QUANTIZATION:
                for o in OVERFLOW:
                    yield w, signed, q, o


def cast_results(w, signed, q, o):
    for j in range(-(2 ** (w + 3)), 2 ** (w + 3)):
        yield j, handle_overflow(quantize(Fraction(j, 4), q), w, signed, o)


def ops_groups():
    """Operators: every pair of raw values of two types with W1, W2 in 1..6,
    all four signedness combinations and three integer-bit choices."""
    for w1 in range(1, 7):
        for w2 in range(1, 7):
            for s1 in (True, False):
                for s2 in (True, False):
                    for i1, i2 in ((w1, w2), (1, -1), (w1 + 2, w2 - 3)):
                        yield w1, i1, s1, w2, i2, s2


def ops_results(w1, i1, s1, w2, i2, s2):
    """The stream of integers fed to the digest for one operator group."""
    plus, minus, mult, div, neg = result_types(w1, i1, s1, w2, i2, s2)
    for t in (plus, minus, mult, div, neg):
        yield from (t[0], t[1], int(t[2]))
    lo1, hi1 = raw_range(w1, s1)
    lo2, hi2 = raw_range(w2, s2)
    for a in range(lo1, hi1 + 1):
        x = value(a, w1, i1)
        for b in range(lo2, hi2 + 1):
            y = value(b, w2, i2)
            yield exact_raw(x + y, *plus)
            yield exact_raw(x - y, *minus)
            yield exact_raw(x * y, *mult)
            if b != 0:
                fr = div[0] - div[1]
                qv = truncate_towards_zero((x / y) * Fraction(2) ** fr)
                lo, hi = raw_range(div[0], div[2])
                assert lo <= qv <= hi
                yield qv
            yield exact_raw(-x, *neg)
            yield ((x == y) | (x != y) << 1 | (x < y) << 2 | (x <= y) << 3 | (x > y) << 4 | (x >= y) << 5)


def sname(s):
    return "s" if s else "u"


def digest_lines():
    lines = [
        "# FNV-1a digests of the trignet::fixed reference suite: tests/reference/fixed_reference.py",
        "# writes this file; tests/test_fixed.cpp compares against it. Do not edit by hand.",
    ]
    for w, s, q, o in cast_groups():
        d = Digest()
        for _, r in cast_results(w, s, q, o):
            d.feed(r)
        lines.append(f"cast {w} {sname(s)} {q} {o} {d.hex()}")
    for w1, i1, s1, w2, i2, s2 in ops_groups():
        d = Digest()
        for v in ops_results(w1, i1, s1, w2, i2, s2):
            d.feed(v)
        lines.append(f"ops {w1} {i1} {sname(s1)} {w2} {i2} {sname(s2)} {d.hex()}")
    return lines


def self_test():
    """A few hand-checked values of the semantics (ap_fixed documentation examples)."""
    # ap_fixed<3, 2, AP_RND>: 1.25 -> 1.5 (tie up), -1.25 -> -1.0.
    assert store(Fraction(5, 4), 3, 2, True, "RND", "WRAP") == 3
    assert store(Fraction(-5, 4), 3, 2, True, "RND", "WRAP") == -2
    # AP_TRN_ZERO: -1.25 -> -1.0; AP_TRN: -1.25 -> -1.5.
    assert store(Fraction(-5, 4), 3, 2, True, "TRN_ZERO", "WRAP") == -2
    assert store(Fraction(-5, 4), 3, 2, True, "TRN", "WRAP") == -3
    # RND_CONV: 0.75 -> 1.0, 0.25 -> 0.0 (ties to even).
    assert store(Fraction(3, 4), 3, 2, True, "RND_CONV", "WRAP") == 2
    assert store(Fraction(1, 4), 3, 2, True, "RND_CONV", "WRAP") == 0
    # ap_fixed<4, 4, AP_RND, AP_SAT>: 19.0 -> 7; AP_SAT_SYM: -19 -> -7; AP_WRAP: 19 -> 3.
    assert store(19, 4, 4, True, "RND", "SAT") == 7
    assert store(-19, 4, 4, True, "RND", "SAT_SYM") == -7
    assert store(19, 4, 4, True, "RND", "WRAP") == 3
    assert store(-8, 4, 4, True, "TRN", "SAT_SYM") == -7
    assert store(-3, 4, 4, False, "TRN", "SAT") == 0
    assert store(-3, 4, 4, False, "TRN", "WRAP") == 13
    # ap_fixed<1, 1, AP_TRN, AP_SAT_SYM>: -5 -> -1 (ap_fixed writes the pattern 1).
    assert store(-5, 1, 1, True, "TRN", "SAT_SYM") == -1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare with the committed digest file")
    ap.add_argument("--dump", nargs="+", help="print one group's values: cast W s|u Q O, or ops W1 I1 s|u W2 I2 s|u")
    args = ap.parse_args()
    self_test()
    if args.dump:
        kind, *p = args.dump
        if kind == "cast":
            for j, r in cast_results(int(p[0]), p[1] == "s", p[2], p[3]):
                print(f"y={Fraction(j, 4)} raw={r}")
        else:
            for v in ops_results(int(p[0]), int(p[1]), p[2] == "s", int(p[3]), int(p[4]), p[5] == "s"):
                print(v)
        return 0
    text = "\n".join(digest_lines()) + "\n"
    if args.check:
        current = DIGEST_FILE.read_text() if DIGEST_FILE.exists() else ""
        if current != text:
            print(f"{DIGEST_FILE} is not what {__file__} generates; rerun it", file=sys.stderr)
            return 1
        print(f"{DIGEST_FILE}: current")
        return 0
    DIGEST_FILE.parent.mkdir(parents=True, exist_ok=True)
    DIGEST_FILE.write_text(text)
    print(f"wrote {DIGEST_FILE} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
