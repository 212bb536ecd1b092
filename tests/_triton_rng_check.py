"""Run under TRITON_INTERPRET=1 by test_rng_dose.py: the Triton draws (`_backend.rng_triton`) against the torch code.

The reference is `Key.bits` / `Key.uniform` with MITHRIDATE_NATIVE=0, i.e. the torch formula of
`Key._draw_words` (not the compiled CPU loop). Keys cover stream words below and above 2**31 (the
kernel receives them as int32); indices cover both 32-bit halves, up to 2**63 - 1; counts and index
counts are not multiples of the kernel's tile.
Prints one JSON line: for each case, whether the words and the uniforms are identical (dtype included).
Exits non-zero on a mismatch.
"""

from __future__ import annotations

import json
import os
import sys

os.environ["MITHRIDATE_NATIVE"] = "0"  # the reference is the torch code, not the compiled CPU loop

import torch

from mithridate import rng
from mithridate._backend import rng_triton
from mithridate.rng import Key

_KEYS = [  # (key, stream, sub)
    (Key(0), 0, 0),
    (Key(1, 2, None), 5, 1),
    (Key(2**63 - 1, 10**6, 7), 2**20, 3),
    (Key(12345, 0, 0), 1, 2),
]
_INDICES = {
    "arange 300": torch.arange(300),
    "single": torch.tensor([7]),
    "wide": torch.tensor([0, 1, 2**31, 2**32 - 1, 2**32, 2**32 + 1, 2**40 + 3, 2**62, 2**63 - 2, 2**63 - 1]),
    "random 131": torch.randint(0, 2**63 - 1, (131,), generator=torch.Generator().manual_seed(0)),
}
_COUNTS = (1, 2, 7, 300)


def main() -> None:
    assert rng._compiled() is None, "the reference must be the torch code"
    results, halves = {}, set()
    for key, stream, sub in _KEYS:
        k0, k1 = key._stream_words(stream, sub)
        halves.update((k0 >= 2**31, k1 >= 2**31))
        for name, index in _INDICES.items():
            for count in _COUNTS:
                if count == 300 and index.numel() > 10:
                    continue  # the interpreter is slow; one large count per key is enough
                words = rng_triton.draw(index, k0, k1, count, uniform=False)
                uniforms = rng_triton.draw(index, k0, k1, count, uniform=True)
                reference = [key.bits(index, stream, count, sub=sub), key.uniform(index, stream, count, sub=sub)]
                ours = [words, uniforms]
                if sub == 0:  # Key.integers draws from sub-stream 0
                    for high in (1, 14, 31, 2**31 - 1):
                        ours.append(rng_triton.draw(index, k0, k1, count, uniform=False, high=high))
                        reference.append(key.integers(index, stream, high, count))
                same = all(a.dtype == b.dtype and torch.equal(a, b) for a, b in zip(ours, reference, strict=True))
                results[f"seed={key.seed} call={key.call} stream={stream} sub={sub} {name} count={count}"] = same
    empty = [rng_triton.draw(torch.arange(n), 1, 2, count, uniform=False).shape for n, count in ((0, 3), (3, 0))]
    results["empty shapes"] = empty == [(0, 3), (3, 0)]
    results["stream words on both sides of 2**31"] = halves == {False, True}
    # The self-check a CUDA device runs once passes where the kernel is right (here, the interpreter).
    results["self-check passes"] = all(
        rng_triton.verified(torch.device("cpu"), count, uniform, high, rng._reference_draws)
        for count, uniform, high in ((1, False, 15), (1, True, None), (70, True, None), (5, False, None))
    )
    print(json.dumps(results))
    sys.exit(0 if all(results.values()) else 1)


if __name__ == "__main__":
    main()
