"""Confidence intervals of a mean (pure: no I/O).

The server computes counts, means and standard deviations in SQL; the interval needs a
quantile of Student's t distribution, which PostgreSQL lacks. It is found here by
bisection on the distribution function, written with the regularized incomplete beta
function (its continued fraction, as in Numerical Recipes), to better than 1e-9.
"""

from __future__ import annotations

import math

_TINY = 1e-300
_EPSILON = 1e-14
_MAX_TERMS = 300


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    result = d
    for m in range(1, _MAX_TERMS + 1):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            result *= d * c
        if abs(d * c - 1.0) < _EPSILON:
            break
    return result


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) for a, b > 0 and 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def t_tail(t: float, degrees_of_freedom: float) -> float:
    """P(T > t) for t >= 0, Student's t with the given degrees of freedom (accurate when
    tiny, where 1 - CDF would round to 0)."""
    nu = degrees_of_freedom
    return 0.5 * regularized_beta(nu / 2.0, 0.5, nu / (nu + t * t))


def t_cdf(t: float, degrees_of_freedom: float) -> float:
    """P(T <= t) for Student's t with the given degrees of freedom."""
    tail = t_tail(abs(t), degrees_of_freedom)
    return 1.0 - tail if t > 0 else tail


def t_upper(tail: float, degrees_of_freedom: float) -> float:
    """The t >= 0 with P(T > t) = tail (0 < tail <= 0.5)."""
    if not 0.0 < tail <= 0.5:
        raise ValueError(f"tail probability {tail!r} must be in (0, 0.5]")
    if degrees_of_freedom <= 0:
        raise ValueError(f"degrees of freedom {degrees_of_freedom!r} must be positive")
    low, high = 0.0, 1.0
    while t_tail(high, degrees_of_freedom) > tail:
        high *= 2.0
    for _ in range(400):
        middle = (low + high) / 2.0
        if t_tail(middle, degrees_of_freedom) > tail:
            low = middle
        else:
            high = middle
        if high - low <= 1e-12 * high:
            break
    return (low + high) / 2.0


def t_quantile(probability: float, degrees_of_freedom: float) -> float:
    """The t with P(T <= t) = probability (0 < probability < 1)."""
    if not 0.0 < probability < 1.0:
        raise ValueError(f"probability {probability!r} must be between 0 and 1")
    if probability < 0.5:
        return -t_upper(probability, degrees_of_freedom)
    return t_upper(1.0 - probability, degrees_of_freedom)


def mean_interval(mean: float, stddev: float, count: int,
                  confidence: float) -> tuple[float, float] | None:
    """The two-sided ``confidence`` interval of a mean (Student's t), as Jobmon's ``ci``
    option gives it, rounded to 2 decimals; None with fewer than two values."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence {confidence!r} must be between 0 and 1 (e.g. 0.95)")
    if count < 2:
        return None
    half = t_upper((1.0 - confidence) / 2.0, count - 1) * stddev / math.sqrt(count)
    return round(mean - half, 2), round(mean + half, 2)
