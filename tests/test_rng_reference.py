"""The counter-based draws against an independent implementation: the reference C code of splitmix64 (Vigna) and
lowbias32 (Wellons), compiled with the system's C compiler, in 64- and 32-bit unsigned arithmetic, and the
published first output of splitmix64 from state 0. `Key.bits` and `Key.uniform` must give the C program's words."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from mithridate.rng import Key, hash32

C_REFERENCE = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t splitmix64_step(uint64_t *state) {   /* Vigna's splitmix64.c */
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t lowbias32(uint32_t x) {              /* Wellons' hash-prospector */
    x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16;
    return x;
}

int main(int argc, char **argv) {
    /* argv: seed epoch call stream sub count index... ; prints each index's count words, then uniforms */
    int64_t words[5] = {atoll(argv[1]), atoll(argv[2]), atoll(argv[3]), atoll(argv[4]), atoll(argv[5])};
    int count = atoi(argv[6]);
    uint64_t mixed = 0;
    for (int i = 0; i < 5; i++) { uint64_t state = mixed ^ (uint64_t)words[i]; mixed = splitmix64_step(&state); }
    uint32_t k0 = (uint32_t)mixed, k1 = (uint32_t)(mixed >> 32);
    for (int a = 7; a < argc; a++) {
        uint64_t index = (uint64_t)atoll(argv[a]);
        uint32_t base = lowbias32(lowbias32((uint32_t)index ^ k0) ^ (uint32_t)(index >> 32));
        for (int d = 0; d < count; d++) {
            uint32_t word = lowbias32(base ^ lowbias32((uint32_t)d * 0x9e3779b9U + k1));
            printf("%u %.9g\n", word, (double)(float)((word >> 8) * (1.0 / 16777216.0)));
        }
    }
    uint64_t zero = 0;
    printf("%llu\n", (unsigned long long)splitmix64_step(&zero));
    for (uint32_t x = 0; x < 5; x++) printf("%u\n", lowbias32(x * 0x12345679U));
    return 0;
}
"""


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler on PATH: the reference implementation is C")
    folder = tmp_path_factory.mktemp("rng_reference")
    (folder / "reference.c").write_text(C_REFERENCE)
    subprocess.run([compiler, "-O1", "-o", str(folder / "reference"), str(folder / "reference.c")], check=True)
    return folder / "reference"


@pytest.mark.parametrize("seed, epoch, call, stream, sub", [(0, 0, None, 1, 0), (12345, 3, 7, 0x7E09, 1),
                                                            (2**62 + 11, 99, None, 0xC2_0001, 4)])  # fmt: skip
def test_draws_equal_the_c_reference(reference, seed, epoch, call, stream, sub):
    index = [0, 1, 5, 2**31 + 3, 2**40 + 17, 2**63 - 1]
    count = 7
    argv = [str(seed), str(epoch), str(-1 if call is None else call), str(stream), str(sub), str(count)]
    done = subprocess.run([str(reference), *argv, *map(str, index)], capture_output=True, text=True, check=True)
    lines = done.stdout.split("\n")[: len(index) * count]
    words = torch.tensor([int(line.split()[0]) for line in lines]).reshape(len(index), count)
    uniforms = torch.tensor([float(line.split()[1]) for line in lines], dtype=torch.float32).reshape(len(index), count)
    key = Key(seed, epoch, call)
    tensor = torch.tensor(index, dtype=torch.int64)
    assert torch.equal(key.bits(tensor, stream, count, sub=sub), words)
    assert torch.equal(key.uniform(tensor, stream, count, sub=sub), uniforms)


def test_hash_and_splitmix_equal_the_c_reference(reference):
    done = subprocess.run([str(reference), "0", "0", "0", "0", "0", "0"], capture_output=True, text=True, check=True)
    first, *hashes = [int(line) for line in done.stdout.split()]
    assert first == 0xE220A8397B1DCDAF  # splitmix64's published first output from state 0
    inputs = torch.tensor([(x * 0x12345679) & 0xFFFFFFFF for x in range(5)], dtype=torch.int64)
    assert hash32(inputs).tolist() == hashes
