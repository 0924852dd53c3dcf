"""Small statistics the board's analysis needs, in pure Python (internal).

Summaries (mean, sample standard deviation), Welch's t-test with its p-value from
Student's t distribution (through the regularized incomplete beta function, evaluated by
its continued fraction), and Pearson/Spearman correlation. No scipy needed; the tests
compare against scipy when it is installed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def as_float(value: Any) -> float | None:
    """Return *value* as a finite float, or ``None`` (bools count as 0/1; text and NaN do not)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def summary(values: Sequence[float]) -> dict[str, float | int | None]:
    """Return ``{"mean", "std", "min", "max", "n"}`` of finite *values* (``std`` is the sample
    standard deviation, ``None`` below two values)."""
    n = len(values)
    if not n:
        return {"mean": None, "std": None, "min": None, "max": None, "n": 0}
    mean = math.fsum(values) / n
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else None
    return {"mean": mean, "std": std, "min": min(values), "max": max(values), "n": n}


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz's method)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def incomplete_beta(a: float, b: float, x: float) -> float:
    """Return the regularized incomplete beta function I_x(a, b) for ``0 <= x <= 1``."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    # The fraction converges fast below the mean of the distribution; use the symmetry
    # I_x(a, b) = 1 - I_{1-x}(b, a) above it.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """Return the two-sided p-value of *t* under Student's t with *df* degrees of freedom."""
    if math.isnan(t) or df <= 0:
        return math.nan
    if math.isinf(t):
        return 0.0
    return incomplete_beta(df / 2.0, 0.5, df / (df + t * t))


def t_quantile(prob: float, df: float) -> float:
    """Return the *prob* quantile (``0.5 < prob < 1``) of Student's t, by bisection."""
    lo, hi = 0.0, 1.0
    while 1.0 - t_two_sided_p(hi, df) / 2.0 < prob:
        hi *= 2.0
        if hi > 1e12:
            return math.inf
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if 1.0 - t_two_sided_p(mid, df) / 2.0 < prob:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return (lo + hi) / 2.0


def welch(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """Compare the means of two samples with Welch's t-test (unequal variances).

    Returns ``{"a": {n, mean, std}, "b": {...}, "diff", "t", "df", "p", "ci95"}`` where
    ``diff = mean(a) - mean(b)`` and ``ci95`` is its 95% confidence interval; the test's
    numbers are ``None`` when a side has fewer than two values or both have no spread.
    """
    sa, sb = summary(a), summary(b)
    out: dict[str, Any] = {
        "a": {k: sa[k] for k in ("n", "mean", "std")},
        "b": {k: sb[k] for k in ("n", "mean", "std")},
        "diff": None,
        "t": None,
        "df": None,
        "p": None,
        "ci95": None,
    }
    if sa["mean"] is not None and sb["mean"] is not None:
        out["diff"] = float(sa["mean"]) - float(sb["mean"])
    if len(a) < 2 or len(b) < 2:
        return out
    va = float(sa["std"]) ** 2 / len(a)  # type: ignore[arg-type]
    vb = float(sb["std"]) ** 2 / len(b)  # type: ignore[arg-type]
    se2 = va + vb
    if se2 == 0.0:
        return out
    se = math.sqrt(se2)
    diff = out["diff"]
    df = se2 * se2 / (va * va / (len(a) - 1) + vb * vb / (len(b) - 1))
    t = diff / se
    half = t_quantile(0.975, df) * se
    out.update(t=t, df=df, p=t_two_sided_p(t, df), ci95=[diff - half, diff + half])
    return out


def _ranks(values: Sequence[float]) -> list[float]:
    """Return the ranks of *values* (1-based; ties get their average rank)."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Return Pearson's correlation of *x* and *y*, ``None`` when either has no spread."""
    n = len(x)
    if n < 2:
        return None
    mx, my = math.fsum(x) / n, math.fsum(y) / n
    sxy = math.fsum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = math.fsum((a - mx) ** 2 for a in x)
    syy = math.fsum((b - my) ** 2 for b in y)
    if sxx == 0.0 or syy == 0.0:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Return Spearman's rank correlation of *x* and *y* (Pearson's of their ranks)."""
    return pearson(_ranks(x), _ranks(y))
