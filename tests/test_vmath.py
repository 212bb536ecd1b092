"""mithridate._backend.vmath against the C library (CPython's `math`, numba's math.*) and extended precision."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from mithridate._backend.rng_compiled import salts as draw_salts
from mithridate._backend.rng_compiled import uniform
from mithridate._backend.vmath import exp, log, sincos

TWO_PI = 2.0 * math.pi


@njit(cache=False)
def _ours_on_uniforms(u, radius, sine, cosine):
    for i in range(u.shape[0]):
        radius[i] = math.sqrt(-2.0 * log(1.0 - u[i]) + 0.0)
        sine[i], cosine[i] = sincos(TWO_PI * u[i])


@njit(cache=False)
def _libm_on_uniforms(u, radius, sine, cosine):
    for i in range(u.shape[0]):
        radius[i] = math.sqrt(-2.0 * math.log1p(-u[i]))
        sine[i] = math.sin(TWO_PI * u[i])
        cosine[i] = math.cos(TWO_PI * u[i])


@njit(cache=False)
def _exp_loop(x, out):
    for i in range(x.shape[0]):
        out[i] = exp(x[i])


@njit(cache=False)
def _log_loop(x, out):
    for i in range(x.shape[0]):
        out[i] = log(x[i])


@njit(cache=False)
def _sincos_loop(x, sine, cosine):
    for i in range(x.shape[0]):
        sine[i], cosine[i] = sincos(x[i])


def _ulps(ours: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """|ours - reference| in units of the last place of reference (the smallest normal's for zero)."""
    spacing = np.spacing(np.maximum(np.abs(reference), np.finfo(np.float64).tiny))
    return np.abs(ours - reference) / spacing


def test_box_muller_parts_agree_with_libm_on_every_uniform():
    """Every uniform the draws can take (u = j / 2^24): the radius sqrt(-2 ln(1 - u)) and sin, cos of 2 pi u
    within one ulp of libm's log1p, sin and cos, and the same once rounded to float32."""
    u = np.arange(1 << 24, dtype=np.float64) / float(1 << 24)
    ours = [np.empty_like(u) for _ in range(3)]
    libm = [np.empty_like(u) for _ in range(3)]
    _ours_on_uniforms(u, *ours)
    _libm_on_uniforms(u, *libm)
    for name, mine, theirs in zip(("radius", "sin", "cos"), ours, libm, strict=True):
        assert _ulps(mine, theirs).max() <= 1.0, name
        assert np.array_equal(mine.astype(np.float32), theirs.astype(np.float32)), name
    assert not np.signbit(ours[0][0]) and ours[0][0] == 0.0  # u = 0: +0, as libm's log1p(-0.0) gives


def test_normal_draws_equal_those_through_libm():
    """The float32 normal draws of the corruptions' compiled path (r cos, r sin of pairs) equal the ones libm's
    functions give, on four million pairs."""
    from mithridate.image.corruptions._native import _fill_normal

    count = 1 << 22
    out = np.empty(count, np.float32)
    salt = draw_salts(np.uint64(12345), count)
    base = np.uint64(0x9E3779B97F4A7C15)
    _fill_normal(out, base, salt)

    @njit(cache=False)
    def reference(base, salt, out):
        pairs = out.shape[0] // 2
        for p in range(pairs):
            u1 = np.float64(uniform(base, salt[p]))
            u2 = np.float64(uniform(base, salt[pairs + p]))
            radius = math.sqrt(-2.0 * math.log1p(-u1))
            out[p] = np.float32(radius * math.cos(TWO_PI * u2))
            out[pairs + p] = np.float32(radius * math.sin(TWO_PI * u2))

    expected = np.empty_like(out)
    reference(base, salt, expected)
    assert np.array_equal(out, expected)


def test_exp_within_an_ulp_of_libm_and_correctly_rounded_to_float32():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-700.0, 700.0, 1 << 18), rng.uniform(-1.0, 1.0, 1 << 18), [0.0, -0.0]])
    out = np.empty_like(x)
    _exp_loop(x, out)
    assert _ulps(out, np.array([math.exp(v) for v in x])).max() <= 1.0
    # float32 arguments, as frost gives them: the float32 of the result is the correctly rounded e^x (checked
    # against x87 extended precision), which libm's expf is not always (about 6e-4 of these values)
    if np.finfo(np.longdouble).nmant < 63:
        pytest.skip("needs x87 extended precision for the reference")
    x32 = np.concatenate([rng.uniform(-100.0, 20.0, 1 << 20), rng.uniform(-2.0, 2.0, 1 << 20)]).astype(np.float32)
    out = np.empty(x32.shape, np.float64)
    _exp_loop(x32.astype(np.float64), out)
    assert np.array_equal(out.astype(np.float32), np.exp(x32.astype(np.longdouble)).astype(np.float32))


def test_exp_saturates_as_float32_expects():
    out = np.empty(4)
    _exp_loop(np.array([-1e4, -800.0, 800.0, 1e4]), out)
    assert out[0] == out[1] == pytest.approx(math.exp(-708.0), rel=1e-15)
    with np.errstate(over="ignore"):
        as_float32 = out.astype(np.float32)
    assert np.all(as_float32[:2] == 0.0) and np.all(np.isinf(as_float32[2:]))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=2.3e-308, max_value=1e308, allow_subnormal=False), min_size=1, max_size=64))
def test_log_within_an_ulp_of_libm(values):
    x = np.array(values)
    out = np.empty_like(x)
    _log_loop(x, out)
    assert _ulps(out, np.array([math.log(v) for v in values])).max() <= 1.0


def test_log_near_one_and_on_powers_of_two():
    x = np.concatenate([1.0 + np.linspace(-1e-3, 1e-3, 20001), 2.0 ** np.arange(-1020, 1020, dtype=np.float64)])
    out = np.empty_like(x)
    _log_loop(x, out)
    assert _ulps(out, np.array([math.log(v) for v in x])).max() <= 1.0
    assert out[10000] == 0.0  # log 1


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=2.0**19 - 1.0), min_size=1, max_size=64))
def test_sincos_within_an_ulp_of_libm(values):
    x = np.array(values)
    sine, cosine = np.empty_like(x), np.empty_like(x)
    _sincos_loop(x, sine, cosine)
    assert _ulps(sine, np.array([math.sin(v) for v in values])).max() <= 1.0
    assert _ulps(cosine, np.array([math.cos(v) for v in values])).max() <= 1.0


def test_sincos_next_to_multiples_of_half_pi():
    """Where sin or cos nearly vanish the reduction must carry pi/2 to ~120 bits: the doubles nearest k pi / 2."""
    centre = np.arange(0, 2000) * (math.pi / 2.0)
    x = np.concatenate([np.nextafter(centre, -np.inf), centre, np.nextafter(centre, np.inf)])
    x = x[x >= 0.0]
    sine, cosine = np.empty_like(x), np.empty_like(x)
    _sincos_loop(x, sine, cosine)
    assert _ulps(sine, np.array([math.sin(v) for v in x])).max() <= 1.0
    assert _ulps(cosine, np.array([math.cos(v) for v in x])).max() <= 1.0


_VALUES_SCRIPT = """
import sys
import numpy as np
from numba import njit
from mithridate._backend.vmath import exp, log, sincos

@njit(cache=False)
def run(x, out):
    for i in range(x.shape[0]):
        s, c = sincos(x[i] * 4.0 + 10.0)
        out[0, i] = exp(x[i] * 30.0 - 15.0)
        out[1, i] = log(x[i] + 1e-300)
        out[2, i] = s
        out[3, i] = c

x = np.random.default_rng(0).random(1 << 16)
out = np.empty((4, x.shape[0]))
run(x, out)
sys.stdout.write(out.tobytes().hex())
"""


def _cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


@pytest.mark.parametrize("cpu", ["generic", "haswell", "skylake-avx512"])
def test_the_same_values_whatever_the_target_cpu(cpu):
    """numba compiles for the host CPU; compiled for a baseline x86-64 (no AVX, software fma), for AVX2 or
    for AVX-512, the functions give the same bits as here."""
    import os
    import platform
    import subprocess
    import sys

    if platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("x86-64 CPU names")
    needs = {"haswell": {"avx2", "fma", "bmi2"}, "skylake-avx512": {"avx512f", "avx512bw", "avx512dq", "avx512vl"}}
    flags = _cpu_flags()
    if not needs.get(cpu, set()) <= flags:
        pytest.skip(f"this CPU cannot run code compiled for {cpu}")

    def values(env_cpu: str | None) -> str:
        env = {k: v for k, v in os.environ.items() if k != "NUMBA_CPU_NAME"}
        if env_cpu:
            env["NUMBA_CPU_NAME"] = env_cpu
        run = subprocess.run([sys.executable, "-c", _VALUES_SCRIPT], capture_output=True, text=True, env=env)
        assert run.returncode == 0, run.stderr[-2000:]
        return run.stdout

    assert values(cpu) == values(None)
