"""`mithridate.validation`: one rule and one wording for integer arguments across the package."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mithridate.data.datasets import DatasetError
from mithridate.validation import check_int, integer_words


@pytest.mark.parametrize("value", [0, 3, np.int64(3), np.uint8(3), np.int32(0)])
def test_integers_pass_as_python_ints(value):
    out = check_int("n", value, 0)
    assert out == int(value) and type(out) is int


@pytest.mark.parametrize("value", [True, 1.0, "1", None, np.float64(1.0), [1]])
def test_non_integers_raise_the_type_error_naming_the_type(value):
    with pytest.raises(TypeError, match=rf"n: expected a non-negative integer, got {type(value).__name__}"):
        check_int("n", value, 0)
    with pytest.raises(ValueError, match="n: expected a non-negative integer"):
        check_int("n", value, 0, type_error=ValueError)


def test_bounds_and_their_words():
    assert integer_words(0) == "a non-negative integer" and integer_words(1) == "a positive integer"
    assert integer_words(2) == "an integer >= 2" and integer_words(0, 30) == "an integer in [0, 30]"
    assert integer_words(0, math.inf) == "a non-negative integer" and integer_words() == "an integer"
    assert check_int("m", 30, 0, 30) == 30 and check_int("m", -5) == -5
    with pytest.raises(ValueError, match=r"m: expected an integer in \[0, 30\], got 31"):
        check_int("m", 31, 0, 30)
    with pytest.raises(ValueError, match="k: expected an integer >= 2, got 1"):
        check_int("k", 1, 2)
    with pytest.raises(DatasetError, match="size: expected a positive integer, got 0"):
        check_int("size", 0, 1, error=DatasetError)
