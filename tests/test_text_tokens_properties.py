"""Token noise properties (hypothesis): shape, dtype, range, determinism given (seed, epoch, index), independence
from the padded length, the padding side and the batch; inputs never mutated. Bad input, empty batches, policy
strings that round-trip, and the collator with DataLoader workers, EpochSampler and a Hugging Face model."""

from __future__ import annotations

import warnings

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader

from mithridate.dose import Dose
from mithridate.integrations.torch import EpochSampler, IndexedDataset
from mithridate.text.tokens import (
    DenoisingNoise,
    MaskedLM,
    RandomReplacement,
    SpanCorruption,
    TextInfilling,
    TokenBatch,
    TokenCollator,
    TokenVocab,
    parse_token_policy,
)
from test_text_tokens import rebuild_t5

VOCAB = TokenVocab(
    vocab_size=80,
    pad_token_id=0,
    mask_token_id=4,
    eos_token_id=3,
    special_ids=(0, 1, 2, 3, 4, *range(64, 80)),
    sentinel_ids=tuple(range(64, 80)),
)
CONTENT = (5, 64)  # content ids drawn in [5, 64); 20..24 end sentences
ENDS = tuple(range(20, 25))
POLICIES = [
    "mlm",
    "mlm-w1-s2",
    "xlm",
    "transcoder-s2",
    "xlm-w1",
    "xlm-k6-d0-b0",
    "t5",
    "t5-d0.4-w1",
    "bart",
    "bart-m0.5-l2-i0.2-o1-ps1",
    "bart-rlall-w1",
    "bart-rl0-x0.5",
    "electra",
    "electra-c1-w1-s3",
]
# Labels aligned with the input positions (the others are T5's targets, padded after the fact).
ALIGNED = ("mlm", "electra", "xlm", "transcoder", "bart")


def make_policy(text: str, seed: int = 0, **kwargs):
    extra = {"sentence_end_id": ENDS} if text.startswith("bart") else {}
    return parse_token_policy(text, vocab=VOCAB, seed=seed, **extra, **kwargs)


@st.composite
def samples(draw, max_samples: int = 5):
    """Samples as (ids, special flags, word ids): content ids, [CLS] ... [SEP], sometimes a [SEP] between two parts."""
    out = []
    for _ in range(draw(st.integers(0, max_samples))):
        content = draw(st.lists(st.integers(*CONTENT).map(lambda v: min(v, 63)), max_size=14))
        starts = draw(st.lists(st.booleans(), min_size=len(content), max_size=len(content)))
        ids, special, words, word = [], [], [], -1
        if draw(st.booleans()):
            ids, special, words = [2], [1], [-1]
        middle = draw(st.integers(0, len(content))) if draw(st.booleans()) else None
        for position, (token, new_word) in enumerate(zip(content, starts, strict=True)):
            if position == middle:
                ids, special, words = [*ids, 3], [*special, 1], [*words, -1]
            word += 1 if new_word or position == 0 else 0
            ids, special, words = [*ids, token], [*special, 0], [*words, word]
        if draw(st.booleans()):
            ids, special, words = [*ids, 3], [*special, 1], [*words, -1]
        out.append((ids, special, words))
    return out


def make_batch(rows, width: int, left: bool = False) -> dict[str, torch.Tensor]:
    n = len(rows)
    batch = {
        "input_ids": torch.zeros((n, width), dtype=torch.int64),
        "attention_mask": torch.zeros((n, width), dtype=torch.int64),
        "special_tokens_mask": torch.ones((n, width), dtype=torch.int64),
        "word_ids": torch.full((n, width), -1, dtype=torch.int64),
    }
    for i, (ids, special, words) in enumerate(rows):
        where = slice(width - len(ids), width) if left else slice(0, len(ids))
        batch["input_ids"][i, where] = torch.tensor(ids, dtype=torch.int64)
        batch["attention_mask"][i, where] = 1
        batch["special_tokens_mask"][i, where] = torch.tensor(special, dtype=torch.int64)
        batch["word_ids"][i, where] = torch.tensor(words, dtype=torch.int64)
    return batch


def per_sample(text: str, batch, out) -> list[tuple[list[int], list[int], list[int]]]:
    """Each sample's real output tokens, their special flags, and its labels (at the input's real positions, or
    T5's targets without padding)."""
    found = []
    for i in range(len(out["input_ids"])):
        real = out["attention_mask"][i].bool()
        if text.split("-")[0] in ALIGNED:
            labels = out["labels"][i][batch["attention_mask"][i].bool()].tolist()
        else:
            labels = [v for v in out["labels"][i].tolist() if v != -100]
        found.append((out["input_ids"][i][real].tolist(), out["special_tokens_mask"][i][real].tolist(), labels))
    return found


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=samples(), pad=st.integers(0, 9), epoch=st.integers(0, 3), shift=st.integers(0, 10**6))
@pytest.mark.parametrize("text", POLICIES)
def test_properties(text, rows, pad, epoch, shift):
    width = max((len(ids) for ids, _, _ in rows), default=0) + pad
    batch = make_batch(rows, width)
    copy = {key: value.clone() for key, value in batch.items()}
    index = torch.arange(len(rows)) * 7 + shift
    policy = make_policy(text)
    out = policy(batch, index=index, epoch=epoch)
    for key, value in batch.items():  # inputs never mutated
        assert torch.equal(value, copy[key])
    n = len(rows)
    assert out["input_ids"].shape[0] == n and out["input_ids"].dtype == torch.int64
    assert out["attention_mask"].shape == out["input_ids"].shape == out["special_tokens_mask"].shape
    real = out["attention_mask"].bool()
    assert bool(((out["input_ids"] >= 0) & (out["input_ids"] < VOCAB.vocab_size))[real].all())
    assert bool((out["input_ids"][~real] == 0).all())  # padding: the pad id
    if text.split("-")[0] in ALIGNED:
        assert out["labels"].shape == batch["input_ids"].shape
    # Determinism: the same policy (string, seed) and keys give the same noise.
    again = make_policy(text)(batch, index=index, epoch=epoch)
    for key in ("input_ids", "attention_mask", "labels"):
        assert torch.equal(out[key], again[key])
    expected = per_sample(text, batch, out)
    # Specials: the same special tokens in the same order (T5 adds its sentinels).
    for (ids, special, _), (tokens, flags, _) in zip(rows, expected, strict=True):
        kept = [t for t, f in zip(tokens, flags, strict=True) if f and t not in VOCAB.sentinel_ids]
        assert kept == [t for t, f in zip(ids, special, strict=True) if f]
    if text == "t5":  # each sentinel replaced by its span gives the ids back, specials in the middle included
        for (ids, _, _), (tokens, _, targets) in zip(rows, expected, strict=True):
            assert rebuild_t5(tokens, targets, list(VOCAB.sentinel_ids), VOCAB.eos_token_id) == ids
    if text == "xlm-k6-d0-b0":  # a shuffle moves content within the segments between special tokens
        for (ids, special, _), (tokens, _, _) in zip(rows, expected, strict=True):
            bounds = [i for i, f in enumerate(special) if f]
            for start, stop in zip([-1, *bounds], [*bounds, len(ids)], strict=True):
                assert sorted(ids[start + 1 : stop]) == sorted(tokens[start + 1 : stop])
    # The same sample alone, padded longer, or in a reversed batch padded on the left, gets the same noise.
    for i, row in enumerate(rows):
        alone = make_batch([row], len(row[0]) + 11)
        single = make_policy(text)(alone, index=index[i : i + 1], epoch=epoch)
        assert per_sample(text, alone, single)[0] == expected[i]
    if rows:
        reverse = make_batch(rows[::-1], width + 3, left=True)
        flipped = make_policy(text)(reverse, index=index.flip(0), epoch=epoch)
        assert per_sample(text, reverse, flipped)[::-1] == expected
        mask = flipped["attention_mask"]
        assert bool((mask[:, 1:] >= mask[:, :-1]).all())  # padded on the left, as the input


@pytest.mark.parametrize("text", POLICIES)
def test_no_index_draws_differently_per_call_and_epochs_differ(text):
    rows = [([2, *range(5, 45), 3], [1] + [0] * 40 + [1], [-1, *range(40), -1])] * 4
    batch = make_batch(rows, 42)
    policy = make_policy(text)
    first, second = policy(batch), policy(batch)
    assert not torch.equal(first["input_ids"], second["input_ids"]) or not torch.equal(
        first["labels"], second["labels"]
    )
    index = torch.zeros(4, dtype=torch.int64)
    same = policy(batch, index=index)
    assert all(torch.equal(same["input_ids"][0], row) for row in same["input_ids"])  # same index, same noise
    other = policy(batch, index=index, epoch=1)
    assert not torch.equal(same["input_ids"], other["input_ids"]) or not torch.equal(same["labels"], other["labels"])


@pytest.mark.parametrize("text", POLICIES)
def test_empty_batches(text):
    policy = make_policy(text)
    for shape in ((0, 0), (0, 7), (3, 0)):
        out = policy(torch.zeros(shape, dtype=torch.int64), word_ids=torch.full(shape, -1))
        assert isinstance(out, TokenBatch) and len(out) == shape[0]
        assert out.input_ids.shape[0] == shape[0] and out.labels is not None
    only_specials = make_batch([([2, 3], [1, 1], [-1, -1])] * 2, 4)
    out = policy(only_specials, index=[0, 1])
    assert out["input_ids"][:, :2].tolist() == [[2, 3], [2, 3]]


def test_tensor_input_with_lengths_and_masks_gives_a_token_batch():
    ids = torch.tensor([[2, 10, 11, 12, 3, 0], [2, 13, 3, 0, 0, 0]], dtype=torch.int32)
    out = DenoisingNoise(VOCAB, word_blank=1.0, seed=0)(ids, lengths=torch.tensor([5, 3]))
    assert isinstance(out, TokenBatch) and out.input_ids.dtype == torch.int32
    kept = out.attention_mask.sum(1)
    assert 3 <= kept[0] <= 5 and kept[1] == 3  # XLM's dropout keeps at least one word
    assert bool((out.input_ids[out.attention_mask.bool() & (out.special_tokens_mask == 0)] == 4).all())
    assert out.as_dict().keys() >= {"input_ids", "attention_mask", "special_tokens_mask", "labels"}
    from_mask = DenoisingNoise(VOCAB, word_blank=1.0, seed=0)(ids, attention_mask=(ids != 0).long())
    assert torch.equal(from_mask.input_ids, out.input_ids)


# Bad input ------------------------------------------------------------------------------------------------------


def test_bad_batches_name_the_argument():
    policy = MaskedLM(VOCAB, seed=0)
    ids = torch.tensor([[2, 10, 3]])
    with pytest.raises(ValueError, match=r"input_ids: expected token ids in \[0, vocab_size=80\).*got 80"):
        policy(torch.tensor([[2, 80, 3]]))
    with pytest.raises(ValueError, match=r"input_ids: .*got -5"):
        policy(torch.tensor([[2, -5, 3]]))
    with pytest.raises(TypeError, match=r"input_ids: expected integer token ids, got torch\.float32"):
        policy(ids.float())
    with pytest.raises(TypeError, match="input_ids: expected integer"):
        policy(ids.bool())
    with pytest.raises(ValueError, match=r"input_ids: expected a 2-D .*got shape \(3,\).*ids\[None\]"):
        policy(ids[0])
    with pytest.raises(ValueError, match="input_ids: expected a 2-D"):
        policy(ids[None])
    with pytest.raises(ValueError, match=r"attention_mask: expected the shape of input_ids \(1, 3\), got \(1, 2\)"):
        policy(ids, attention_mask=torch.ones(1, 2))
    with pytest.raises(ValueError, match="special_tokens_mask: expected the shape"):
        policy({"input_ids": ids, "special_tokens_mask": torch.ones(2, 3)})
    with pytest.raises(ValueError, match="attention_mask: expected 0/1 values"):
        policy(ids, attention_mask=torch.full((1, 3), 2))
    with pytest.raises(ValueError, match="lengths: expected lengths in"):
        policy(ids, lengths=[4])
    with pytest.raises(ValueError, match="lengths: expected 1 integer lengths"):
        policy(ids, lengths=[1, 2])
    with pytest.raises(ValueError, match="attention_mask or lengths, not both"):
        policy(ids, lengths=[3], attention_mask=torch.ones(1, 3))
    with pytest.raises(ValueError, match="input_ids: expected a padded"):
        policy([[2, 10, 3], [2, 3]])
    with pytest.raises(ValueError, match="batch: expected a mapping with an 'input_ids' entry"):
        policy({"ids": ids})
    with pytest.raises(ValueError, match="given both in the batch and as an argument"):
        policy({"input_ids": ids, "attention_mask": torch.ones(1, 3)}, attention_mask=torch.ones(1, 3))
    with pytest.raises(ValueError, match="index: expected 1 sample indices"):
        policy(ids, index=[0, 1])
    with pytest.raises(ValueError, match="progress: expected a number or a floating tensor"):
        policy(ids, progress=torch.zeros(2))
    with pytest.raises(ValueError, match="epoch: expected a non-negative integer"):
        policy(ids, epoch=-1)
    with pytest.raises(ValueError, match="word_ids: expected the shape of input_ids"):
        MaskedLM(VOCAB, whole_word_mask=True)(ids, word_ids=[[0, 1]])
    with pytest.raises(ValueError, match="whole_word_mask: needs the word of each token"):
        MaskedLM(VOCAB, whole_word_mask=True)(ids)


def test_bad_configurations_name_the_argument():
    bare = TokenVocab(vocab_size=80)
    with pytest.raises(ValueError, match=r"vocab\.mask_token_id: MaskedLM needs it"):
        MaskedLM(bare)
    with pytest.raises(ValueError, match=r"vocab\.mask_token_id: DenoisingNoise needs it"):
        DenoisingNoise({"vocab_size": 80, "pad_token_id": 0})
    with pytest.raises(ValueError, match=r"vocab\.pad_token_id"):
        DenoisingNoise({"vocab_size": 80, "mask_token_id": 4})
    with pytest.raises(ValueError, match=r"vocab\.sentinel_ids"):
        SpanCorruption({"vocab_size": 80, "pad_token_id": 0})
    with pytest.raises(ValueError, match=r"vocab\.vocab_size"):
        RandomReplacement(None)
    with pytest.raises(ValueError, match="sentence_end_id: permute_sentence_ratio > 0 needs"):
        TextInfilling(VOCAB, permute_sentence_ratio=1.0)
    with pytest.raises(ValueError, match=r"mlm_probability: expected a number in \[0, 1\], got 1.5"):
        MaskedLM(VOCAB, mlm_probability=1.5)
    with pytest.raises(ValueError, match="mask_replace_prob \\+ random_replace_prob"):
        MaskedLM(VOCAB, mask_replace_prob=0.9, random_replace_prob=0.2)
    with pytest.raises(ValueError, match=r"sentence_end_id\[0\]: expected a token id in \[0, vocab_size=80\), got 200"):
        TextInfilling(VOCAB, sentence_end_id=200)
    with pytest.raises(ValueError, match=r"vocab\.mask_token_id: TextInfilling needs it"):
        TextInfilling({"vocab_size": 80, "pad_token_id": 0}, replace_length=0)
    with pytest.raises(ValueError, match="replace_length: expected -1, 0 or 1"):
        TextInfilling(VOCAB, replace_length=2)
    with pytest.raises(ValueError, match=r"mask_token_id: expected a token id in \[0, vocab_size=80\), got 80"):
        TokenVocab(vocab_size=80, mask_token_id=80)
    with pytest.raises(TypeError, match="tokenizer: expected a Hugging Face tokenizer"):
        MaskedLM(object())
    with pytest.raises(ValueError, match="vocab: unknown fields"):
        MaskedLM({"vocab_size": 80, "mask_id": 4})
    with pytest.raises(ValueError, match=r"sentinel_ids: a sample has \d+ noise spans but only 1 sentinel"):
        vocab = TokenVocab(vocab_size=80, pad_token_id=0, sentinel_ids=(70,))
        SpanCorruption(vocab, noise_density=0.5, mean_noise_span_length=1)(torch.arange(5, 15)[None], index=[0])
    policy = MaskedLM(VOCAB, seed=0)
    plan = policy.sample(torch.ones((2, 3), dtype=torch.int64) * 9)
    with pytest.raises(ValueError, match="plan: drawn by 'mlm' for a batch of shape"):
        policy.apply(torch.ones((2, 4), dtype=torch.int64), plan)
    with pytest.raises(ValueError, match="plan: drawn by 'mlm'"):
        DenoisingNoise(VOCAB).apply(torch.ones((2, 3), dtype=torch.int64), plan)


def test_sample_then_apply_equals_a_call():
    batch = make_batch([([2, *range(5, 30), 3], [1] + [0] * 25 + [1], [-1, *range(25), -1])] * 3, 30)
    for text in POLICIES:
        policy = make_policy(text)
        plan = policy.sample(batch, index=[4, 5, 6], epoch=2, word_ids=None)
        applied = policy.apply(batch, plan)
        called = policy(batch, index=[4, 5, 6], epoch=2)
        assert torch.equal(applied["input_ids"], called["input_ids"]), text
        assert torch.equal(applied["labels"], called["labels"]), text


def test_progress_per_sample_follows_the_schedule():
    from mithridate.dose import LinearSchedule

    rows = [([2, *range(5, 60), 3], [1] + [0] * 55 + [1], [-1, *range(55), -1])] * 64
    batch = make_batch(rows, 57)
    schedule = LinearSchedule(Dose(strength=0.0), Dose(strength=1.0))
    policy = MaskedLM(VOCAB, dose=schedule, seed=0)
    progress = torch.linspace(0, 1, 64, dtype=torch.float64)
    out = policy(batch, index=torch.arange(64), progress=progress)
    assert bool((out["labels"][0] == -100).all())  # progress 0: strength 0
    at_one = policy(batch, index=torch.arange(64), progress=1.0)
    assert torch.equal(out["labels"][-1], at_one["labels"][-1])


# Policy strings -------------------------------------------------------------------------------------------------

CANONICAL = [
    "mlm",
    "mlm-s0.5",
    "mlm-r0.2-m0.7-x0.2-w1",
    "xlm",
    "xlm-k2-d0.2-b0-p0.5",
    "transcoder",
    "transcoder-k4-s1.5",
    "t5",
    "t5-d0.3-l5-w1",
    "bart",
    "bart-m0.4-l3-x0-i0.1-o0.5-ps1-rlall",
    "bart-rl0",
    "electra",
    "electra-r0.25-c1-p0.9-s2",
]


@pytest.mark.parametrize("text", CANONICAL)
def test_policy_strings_round_trip(text):
    policy = make_policy(text, seed=11)
    assert str(policy) == text
    assert make_policy(str(policy), seed=11) == policy
    assert make_policy(str(policy), seed=12) != policy
    assert repr(policy).endswith("seed=11)")


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(["mlm", "xlm", "t5", "bart", "electra"]),
    a=st.floats(0, 1, allow_nan=False),
    b=st.floats(0, 1, allow_nan=False),
    flag=st.booleans(),
    p=st.floats(0, 1),
    s=st.floats(0, 4),
)
def test_random_policies_round_trip(kind, a, b, flag, p, s):
    dose = Dose(p, s)
    if kind == "mlm":
        policy = MaskedLM(VOCAB, mlm_probability=a, mask_replace_prob=b / 2, whole_word_mask=flag, dose=dose, seed=1)
    elif kind == "xlm":
        policy = DenoisingNoise(VOCAB, word_shuffle=a * 5, word_dropout=b, word_blank=a, dose=dose, seed=1)
    elif kind == "t5":
        policy = SpanCorruption(VOCAB, noise_density=a, mean_noise_span_length=1 + b * 4, dose=dose, seed=1)
    elif kind == "bart":
        policy = TextInfilling(VOCAB, mask_ratio=a, poisson_lambda=0.5 + b, rotate_ratio=b, replace_length=-1, seed=1)
    else:
        policy = RandomReplacement(VOCAB, mask_prob=a, disallow_correct=flag, dose=dose, seed=1)
    text = str(policy)
    rebuilt = parse_token_policy(text, vocab=VOCAB, seed=1)
    assert rebuilt == policy and str(rebuilt) == text


def test_policy_string_errors():
    with pytest.raises(ValueError, match="unknown token policy 'bert'"):
        parse_token_policy("bert")
    with pytest.raises(ValueError, match="unknown key 'q3' in 'mlm-q3'; valid keys for mlm: r \\(mlm_probability\\)"):
        parse_token_policy("mlm-q3", vocab=VOCAB)
    with pytest.raises(ValueError, match="bad value 'x' for key 'r'"):
        parse_token_policy("mlm-rx", vocab=VOCAB)
    with pytest.raises(ValueError, match="key 'r' given twice"):
        parse_token_policy("mlm-r0.1-r0.2", vocab=VOCAB)
    with pytest.raises(ValueError, match="bad value '2' for key 'rl'"):
        parse_token_policy("bart-rl2", vocab=VOCAB)
    with pytest.raises(ValueError, match="sets the dose"):
        parse_token_policy("mlm-s2", vocab=VOCAB, dose=Dose())
    with pytest.raises(ValueError, match="mlm_probability is set both"):
        parse_token_policy("mlm-r0.2", vocab=VOCAB, mlm_probability=0.3)
    assert parse_token_policy("transcoder", vocab=VOCAB, word_blank=0.2).word_blank == 0.2


# The collator ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokenizer():
    from test_text_tokens import build_tokenizer, corpus

    return build_tokenizer(corpus(1500))


@pytest.fixture(scope="module")
def dataset(tokenizer):
    from test_text_tokens import corpus

    return [dict(tokenizer(line, return_special_tokens_mask=True)) for line in corpus(1500)[:48]]


def _by_sample(batches, key="input_ids"):
    found = []
    for batch in batches:
        for row, mask in zip(batch[key], batch["attention_mask"].bool(), strict=True):
            found.append(row[mask].tolist() if key == "input_ids" else row[row != -100].tolist())
    return found


def test_collator_same_noise_whatever_the_batch_size_and_workers(tokenizer, dataset):
    runs = []
    for batch_size, workers in ((4, 0), (7, 0), (5, 2)):
        collate = TokenCollator(MaskedLM(tokenizer, seed=0), tokenizer)
        sampler = EpochSampler(dataset, shuffle=True, seed=0)
        sampler.set_epoch(1)
        loader = DataLoader(
            IndexedDataset(dataset), sampler=sampler, batch_size=batch_size, collate_fn=collate, num_workers=workers
        )
        batches = list(loader)
        assert {"input_ids", "attention_mask", "labels"} <= set(batches[0])
        assert not {"special_tokens_mask", "index", "word_ids"} & set(batches[0])
        runs.append((_by_sample(batches), _by_sample(batches, "labels")))
    assert runs[0] == runs[1] == runs[2]
    sampler = EpochSampler(dataset, shuffle=True, seed=0)
    sampler.set_epoch(1)
    collate = TokenCollator(MaskedLM(tokenizer, seed=0), tokenizer)
    same = list(DataLoader(IndexedDataset(dataset), sampler=sampler, batch_size=4, collate_fn=collate))
    assert _by_sample(same) == runs[0][0]
    sampler.set_epoch(2)
    other = list(DataLoader(IndexedDataset(dataset), sampler=sampler, batch_size=4, collate_fn=collate))
    assert _by_sample(other) != runs[0][0]  # a new epoch, a new noise (the order changes too)


def test_collator_reads_an_index_entry_and_its_epoch(tokenizer, dataset):
    policy = DenoisingNoise(tokenizer, seed=0)
    indexed = [{**example, "index": i} for i, example in enumerate(dataset)]
    collate = TokenCollator(policy, tokenizer, epoch=3)
    forward = collate(indexed[:6])
    backward = collate(indexed[5::-1])
    assert _by_sample([forward]) == _by_sample([backward])[::-1]
    assert "index" not in forward and "special_tokens_mask" not in forward
    collate.set_epoch(4)
    assert _by_sample([collate(indexed[:6])]) != _by_sample([forward])
    direct = policy(collate.collate(indexed[:6]), index=torch.arange(6), epoch=3)
    assert torch.equal(direct["input_ids"], forward["input_ids"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        TokenCollator(policy, tokenizer)(dataset[:3])
    assert any("no dataset index" in str(w.message) for w in caught)


def test_collator_pads_to_a_multiple_and_only_pads_without_a_policy(tokenizer, dataset):
    padded = TokenCollator(None, tokenizer, pad_to_multiple_of=8)(dataset[:5])
    assert padded["input_ids"].shape[1] % 8 == 0
    assert padded["attention_mask"].sum(1).tolist() == [len(e["input_ids"]) for e in dataset[:5]]
    assert TokenCollator(None, tokenizer)([])["input_ids"].shape == (0, 0)
    lists = TokenCollator(None, tokenizer)([e["input_ids"] for e in dataset[:3]])
    assert lists["input_ids"].shape[0] == 3
    with pytest.raises(ValueError, match="need a pad id"):
        TokenCollator(None)([[5, 6], [5]])


def test_collator_output_trains_a_hugging_face_model(tokenizer, dataset):
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64
    )
    torch.manual_seed(0)
    model = transformers.BertForMaskedLM(config)
    batch = TokenCollator(MaskedLM(tokenizer, seed=0), tokenizer)([{**e, "index": i} for i, e in enumerate(dataset)])
    loss = model(**batch).loss
    assert torch.isfinite(loss)
    loss.backward()


def test_collator_as_trainer_data_collator(tokenizer, dataset, tmp_path):
    pytest.importorskip("accelerate")
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64
    )
    model = transformers.BertForMaskedLM(config)
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=8, remove_unused_columns=False,
        report_to=[], use_cpu=True,
    )  # fmt: skip
    train = [{**e, "index": i} for i, e in enumerate(dataset)]
    trainer = transformers.Trainer(
        model=model, args=args, train_dataset=train, data_collator=TokenCollator(MaskedLM(tokenizer, seed=0), tokenizer)
    )
    assert trainer.train().global_step == 2


@pytest.mark.parametrize("text", ["xlm-b0", "bart-x0-o1", "t5"])
def test_other_per_token_entries_move_with_the_tokens(text):
    rows = [([2, *range(5, 5 + n), 3], [1] + [0] * n + [1], [-1, *range(n), -1]) for n in (30, 12, 25)]
    batch = make_batch(rows, 34)
    batch["token_type_ids"] = batch["input_ids"].clone()  # each token's type: its own id, to follow it
    batch["labels"] = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    batch["note"] = "kept as is"
    out = make_policy(text, label_key=None)(batch, index=[0, 1, 2])
    assert out["note"] == "kept as is"
    real = out["attention_mask"].bool()
    old = out["input_ids"] < 64  # not a mask or a sentinel: a moved token
    moved = real & old & (out["input_ids"] != 4)
    assert torch.equal(out["token_type_ids"][moved], out["input_ids"][moved])
    assert torch.equal(out["labels"][moved], out["input_ids"][moved])  # the input's labels, not new ones
    assert bool((out["labels"][~real] == -100).all()) and bool((out["token_type_ids"][~real] == 0).all())
    # A sentinel or a span's mask takes the entries of its span's first token (its segment, for token types).
    assert bool((out["token_type_ids"][real & ~old] >= 5).all())
