"""The compiled CPU paths of MaskedLM and DenoisingNoise (`text.tokens._native`) equal the torch path
(MITHRIDATE_NATIVE=0) exactly: ids, masks, labels and moved per-token entries, on a few hundred random padded
batches (left and right padding, specials inside, whole words, doses, progress per sample, no index); and the
compiled scan of `read_tokens` reads masks and finds bad values as its torch checks do."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mithridate.dose import Dose
from mithridate.text.tokens import DenoisingNoise, MaskedLM, TokenBatch, TokenVocab, _native
from mithridate.text.tokens.batch import Tokens, read_tokens

pytest.importorskip("numba")

VOCAB = TokenVocab(vocab_size=60, pad_token_id=0, mask_token_id=3, eos_token_id=2, special_ids=(0, 1, 2, 3))


def random_batch(rng: np.random.Generator) -> dict[str, torch.Tensor]:
    n = int(rng.integers(0, 9))
    width = int(rng.integers(0, 24))
    lengths = rng.integers(0, width + 1, size=n)
    ids = rng.integers(4, VOCAB.vocab_size, size=(n, width))
    real = np.arange(width)[None, :] < lengths[:, None]
    if rng.random() < 0.5:
        real = real[:, ::-1]
    special = real & (rng.random((n, width)) < 0.15)
    ids = np.where(special, rng.integers(1, 3, size=(n, width)), ids)
    ids = np.where(real, ids, 0)
    words = np.cumsum(rng.random((n, width)) < 0.6, axis=1) - 1
    words = np.where(real & ~special, words, -1)
    return {
        "input_ids": torch.from_numpy(np.ascontiguousarray(ids)),
        "attention_mask": torch.from_numpy(np.ascontiguousarray(real).astype(np.int64)),
        "special_tokens_mask": torch.from_numpy(np.ascontiguousarray(special).astype(np.int64)),
        "word_ids": torch.from_numpy(np.ascontiguousarray(words)),
        "token_type_ids": torch.from_numpy(rng.integers(0, 2, size=(n, width))),
    }


def both(policy_of, batch, monkeypatch, **kwargs):
    monkeypatch.setenv("MITHRIDATE_NATIVE", "0")
    slow = policy_of()(dict(batch), **kwargs)
    monkeypatch.setenv("MITHRIDATE_NATIVE", "1")
    fast = policy_of()(dict(batch), **kwargs)
    return slow, fast


def random_policy(kind: str, rng: np.random.Generator):
    whole = bool(rng.random() < 0.3)
    dose = Dose(float(rng.choice([1.0, 0.5, 1.0])), float(rng.choice([1.0, 0.3, 2.0, 0.0])))
    seed = int(rng.integers(0, 2**40))
    if kind == "mlm":
        mask = float(rng.choice([0.8, 0.0, 0.5]))
        extra = min(float(rng.choice([0.1, 0.0, 0.5])), 1.0 - mask)
        rate = float(rng.choice([0.15, 0.5, 1.0]))
        return lambda: MaskedLM(VOCAB, mlm_probability=rate, mask_replace_prob=mask, random_replace_prob=extra,
                                whole_word_mask=whole, dose=dose, seed=seed)  # fmt: skip
    shuffle = float(rng.choice([3.0, 0.0, 1.5, 20.0]))
    drop = float(rng.choice([0.1, 0.0, 0.9, 1.0]))
    blank = float(rng.choice([0.1, 0.0, 0.5]))
    return lambda: DenoisingNoise(VOCAB, word_shuffle=shuffle, word_dropout=drop, word_blank=blank,
                                  whole_word_mask=whole, dose=dose, seed=seed)  # fmt: skip


@pytest.mark.parametrize("kind", ["mlm", "xlm"])
def test_compiled_path_equals_the_torch_path(kind, monkeypatch):
    rng = np.random.default_rng(7 if kind == "mlm" else 8)
    for trial in range(300):
        batch = random_batch(rng)
        n = batch["input_ids"].shape[0]
        policy_of = random_policy(kind, rng)
        kwargs: dict = {"epoch": int(rng.integers(0, 3))}
        if rng.random() < 0.7:
            kwargs["index"] = torch.from_numpy(rng.integers(0, 10**6, size=n))
        if rng.random() < 0.3:
            kwargs["progress"] = torch.from_numpy(rng.random(n))
        slow, fast = both(policy_of, batch, monkeypatch, **kwargs)
        assert slow.keys() == fast.keys(), trial
        for name in slow:
            assert slow[name].dtype == fast[name].dtype, (trial, name)
            assert torch.equal(slow[name], fast[name]), (trial, name, slow[name], fast[name])


@pytest.mark.parametrize("kind", ["mlm", "xlm"])
def test_compiled_path_on_bare_tensors_and_repeated_calls(kind, monkeypatch):
    rng = np.random.default_rng(3)
    batch = random_batch(rng)
    while batch["input_ids"].shape[0] == 0:
        batch = random_batch(rng)
    policy_of = random_policy(kind, rng)
    outs = {}
    for native in ("0", "1"):
        monkeypatch.setenv("MITHRIDATE_NATIVE", native)
        policy = policy_of()
        outs[native] = [
            policy(batch["input_ids"].to(torch.int32), attention_mask=batch["attention_mask"].bool(),
                   word_ids=batch["word_ids"])
            for _ in range(3)
        ]  # fmt: skip
    for slow, fast in zip(outs["0"], outs["1"], strict=True):
        assert isinstance(fast, TokenBatch)
        for name, value in slow.as_dict().items():
            assert value.dtype == fast.as_dict()[name].dtype
            assert torch.equal(value, fast.as_dict()[name]), name


def read_both(monkeypatch, batch, **kwargs):
    """read_tokens with the compiled scan and with the torch checks: (torch, compiled), or the errors raised."""
    out = []
    for native in ("0", "1"):
        monkeypatch.setenv("MITHRIDATE_NATIVE", native)
        try:
            out.append(read_tokens(batch, VOCAB, **kwargs))
        except (TypeError, ValueError) as error:
            out.append(f"{type(error).__name__}: {error}")
    return out


MASK_DTYPES = [torch.bool, torch.uint8, torch.int32, torch.int64, torch.float32]


def test_compiled_scan_reads_batches_as_the_torch_path(monkeypatch):
    rng = np.random.default_rng(11)
    for trial in range(200):
        batch = random_batch(rng)
        ids = batch["input_ids"].to([torch.int64, torch.int32, torch.int16][trial % 3])
        kwargs: dict = {}
        if rng.random() < 0.8:
            kwargs["attention_mask"] = batch["attention_mask"].to(MASK_DTYPES[int(rng.integers(0, 5))])
        if rng.random() < 0.5:
            kwargs["special_tokens_mask"] = batch["special_tokens_mask"].to(MASK_DTYPES[int(rng.integers(0, 5))])
        slow, fast = read_both(monkeypatch, ids, **kwargs)
        floats = any(mask.dtype.is_floating_point for mask in kwargs.values())
        masks = kwargs.get("attention_mask"), kwargs.get("special_tokens_mask")
        scanned = _native.scan_batch(ids.to(torch.int64), *masks, VOCAB.vocab_size, VOCAB.special_ids)
        assert floats or scanned is not None, trial  # the compiled pass ran (float masks take the torch path)
        assert isinstance(slow, Tokens) and isinstance(fast, Tokens), (trial, slow, fast)
        assert (slow.left, slow.mask_dtype, slow.special_dtype) == (fast.left, fast.mask_dtype, fast.special_dtype)
        for name in ("ids", "real", "special"):
            assert getattr(fast, name).dtype == getattr(slow, name).dtype, (trial, name)
            assert torch.equal(getattr(slow, name), getattr(fast, name)), (trial, name)


@pytest.mark.parametrize(
    "where, value, expected",
    [
        ("attention_mask", 2, "attention_mask: expected 0/1 values"),
        ("attention_mask", -1, "attention_mask: expected 0/1 values"),
        ("special_tokens_mask", 5, "special_tokens_mask: expected 0/1 values"),
        ("input_ids", 60, "input_ids: expected token ids in [0, vocab_size=60) at real (unpadded) positions"),
        ("input_ids", -2, "input_ids: expected token ids in [0, vocab_size=60)"),
    ],
)
def test_compiled_scan_names_bad_values_as_the_torch_path(monkeypatch, where, value, expected):
    batch = {"input_ids": torch.full((3, 5), 7), "attention_mask": torch.ones(3, 5, dtype=torch.int64)}
    batch["special_tokens_mask"] = torch.zeros(3, 5, dtype=torch.int64)
    batch[where] = batch[where].clone()
    batch[where][1, 2] = value
    slow, fast = read_both(monkeypatch, batch)
    assert slow == fast and isinstance(fast, str) and expected in fast, (slow, fast)


def test_compiled_scan_ignores_ids_at_padding(monkeypatch):
    ids = torch.tensor([[5, 6, 999], [-7, 5, 6]])
    attention = torch.tensor([[1, 1, 0], [0, 1, 1]])
    slow, fast = read_both(monkeypatch, ids, attention_mask=attention)
    assert fast.left and slow.left
    assert torch.equal(fast.real, attention.bool()) and torch.equal(fast.ids, ids)
