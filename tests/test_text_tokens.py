"""Token noise against its references: transformers' DataCollatorForLanguageModeling (rates and label semantics),
XLM's add_noise semantics, T5's span corruption (inputs and targets rebuild the ids; density, span length, uniform
placement), BART's infilling (one mask per span, Poisson lengths, budget, rotation, sentence permutation), ELECTRA's
replacement. A real WordPiece tokenizer is trained offline on SST-2 (or on standard-library docstrings)."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import stats

from mithridate.dose import Dose
from mithridate.text.tokens import (
    DenoisingNoise,
    MaskedLM,
    RandomReplacement,
    SpanCorruption,
    TextInfilling,
    TokenVocab,
    parse_token_policy,
)
from mithridate.text.tokens._draws import poisson

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

SST2 = Path(__file__).resolve().parents[2] / "shared" / "data" / "sst2" / "train.tsv"
_DOC_MODULES = ["collections", "itertools", "functools", "textwrap", "argparse", "json", "re", "string", "pathlib"]
_DOC_MODULES += ["random", "statistics", "fractions", "decimal", "enum", "dataclasses", "inspect"]


def corpus(lines: int = 3000) -> list[str]:
    """Real English lines: SST-2 phrases when ../shared is there, else the standard library's docstrings."""
    if SST2.is_file():
        with SST2.open(encoding="utf-8") as handle:
            next(handle)
            rows = [line.split("\t", 1)[1].strip() for _, line in zip(range(4 * lines), handle, strict=False)]
        return [row for row in rows if len(row.split()) >= 4][:lines]
    found: list[str] = []
    for name in _DOC_MODULES:
        module = importlib.import_module(name)
        for item in [module, *vars(module).values()]:
            if inspect.ismodule(item) or inspect.isclass(item) or inspect.isfunction(item):
                doc = inspect.getdoc(item) or ""
                found.extend(line.strip() for line in doc.splitlines() if len(line.split()) >= 4)
    return list(dict.fromkeys(found))[:lines]


def build_tokenizer(lines: list[str]):
    """A BERT-style fast tokenizer (WordPiece, [CLS] $A [SEP]) trained on `lines` in well under a second."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    model = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    model.normalizer = normalizers.BertNormalizer(lowercase=True)
    model.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    model.train_from_iterator(lines, trainers.WordPieceTrainer(vocab_size=2000, special_tokens=specials))
    cls, sep = model.token_to_id("[CLS]"), model.token_to_id("[SEP]")
    model.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    model.decoder = decoders.WordPiece()
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=model, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]",
    )  # fmt: skip


@pytest.fixture(scope="session")
def lines() -> list[str]:
    return corpus()


@pytest.fixture(scope="session")
def tokenizer(lines):
    return build_tokenizer(lines)


@pytest.fixture(scope="session")
def encoded(tokenizer, lines):
    """2000 real lines, padded, with special-token masks and offsets (a BatchEncoding of tensors)."""
    return tokenizer(
        lines[:2000],
        padding=True,
        truncation=True,
        max_length=64,
        return_special_tokens_mask=True,
        return_offsets_mapping=True,
        return_tensors="pt",
    )


@pytest.fixture(scope="session")
def t5_tokenizer(lines):
    """The same tokenizer with T5's 100 sentinels <extra_id_0> ... <extra_id_99> and [SEP] as EOS."""
    tokenizer = build_tokenizer(lines)
    tokenizer.add_special_tokens(
        {"eos_token": "[SEP]", "additional_special_tokens": [f"<extra_id_{i}>" for i in range(100)]}
    )
    return tokenizer


def binomial_bound(p: float, n: int, sigmas: float = 5.0) -> float:
    return sigmas * math.sqrt(p * (1 - p) / max(n, 1))


def content_of(batch) -> torch.Tensor:
    return batch["attention_mask"].bool() & ~batch["special_tokens_mask"].bool()


# BERT masking against transformers' DataCollatorForLanguageModeling ------------------------------------------------


def _mlm_stats(original, noised, labels, content, mask_id):
    chosen = labels != -100
    n_chosen = int(chosen.sum())
    return {
        "rate": n_chosen / int(content.sum()),
        "mask": int((chosen & (noised == mask_id)).sum()) / n_chosen,
        "kept": int((chosen & (noised == original)).sum()) / n_chosen,
        "chosen": n_chosen,
    }


def _check_mlm_semantics(original, noised, labels, batch):
    real = batch["attention_mask"].bool()
    special = batch["special_tokens_mask"].bool() & real
    chosen = labels != -100
    assert torch.equal(labels[chosen], original[chosen])  # labels: the original id where chosen
    assert not (chosen & ~(real & ~special)).any()  # never special tokens or padding
    assert torch.equal(noised[~chosen], original[~chosen])  # -100 exactly where nothing changed or was chosen


def test_mlm_rates_and_labels_match_transformers(tokenizer, lines):
    examples = [tokenizer(line, return_special_tokens_mask=True) for line in lines[:2000]]
    theirs_collator = transformers.DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, seed=0)
    batch = tokenizer.pad(examples, return_tensors="pt")
    theirs = theirs_collator([dict(e) for e in examples])
    ours = MaskedLM(tokenizer, seed=0)(batch, index=torch.arange(len(examples)))
    content = content_of(batch)
    original = batch["input_ids"]
    assert torch.equal(theirs["attention_mask"], ours["attention_mask"])
    _check_mlm_semantics(original, ours["input_ids"], ours["labels"], batch)
    _check_mlm_semantics(original, theirs["input_ids"], theirs["labels"], batch)
    mine = _mlm_stats(original, ours["input_ids"], ours["labels"], content, tokenizer.mask_token_id)
    reference = _mlm_stats(original, theirs["input_ids"], theirs["labels"], content, tokenizer.mask_token_id)
    n = int(content.sum())
    for stats_ in (mine, reference):
        assert abs(stats_["rate"] - 0.15) < binomial_bound(0.15, n)
        assert abs(stats_["mask"] - 0.8) < binomial_bound(0.8, stats_["chosen"])
        # kept: the 10% left alone (a random token equal to the original adds < 0.1%)
        assert abs(stats_["kept"] - 0.1) < binomial_bound(0.1, stats_["chosen"]) + 0.002
    assert abs(mine["rate"] - reference["rate"]) < 2 * binomial_bound(0.15, n)
    assert ours["labels"].dtype == torch.int64 and ours["input_ids"].dtype == original.dtype


def test_mlm_random_tokens_are_non_special(tokenizer, encoded):
    policy = MaskedLM(tokenizer, mask_replace_prob=0.0, random_replace_prob=1.0, seed=1)
    out = policy(encoded, index=torch.arange(len(encoded["input_ids"])))
    chosen = out["labels"] != -100
    replaced = out["input_ids"][chosen]
    assert not torch.isin(replaced, torch.tensor(tokenizer.all_special_ids)).any()
    assert bool((replaced < len(tokenizer)).all()) and bool((replaced >= 0).all())
    # Uniform over the 1995 non-special ids: a chi-square over 10 bins of ids.
    counts = torch.bincount((replaced - 5) * 10 // (len(tokenizer) - 5), minlength=10)
    assert stats.chisquare(counts.numpy()).pvalue > 1e-4


def test_whole_word_mask_matches_transformers_word_rate(tokenizer, lines):
    batch = tokenizer(
        lines[:1500], padding=True, return_special_tokens_mask=True, return_offsets_mapping=True, return_tensors="pt"
    )
    examples = [{key: value[i].tolist() for key, value in batch.items()} for i in range(1500)]
    theirs = transformers.DataCollatorForLanguageModeling(
        tokenizer, whole_word_mask=True, mask_replace_prob=1.0, random_replace_prob=0.0, seed=0
    )(examples)
    plain = {key: value for key, value in batch.items()}  # offsets, not the encodings' word ids
    ours = MaskedLM(tokenizer, whole_word_mask=True, seed=0)(plain, index=torch.arange(1500))
    words = transformers.DataCollatorForLanguageModeling._calc_word_ids_and_prob_mask(
        batch["offset_mapping"].numpy(), batch["special_tokens_mask"].numpy()
    )[0]
    words = torch.from_numpy(words)
    for labels in (ours["labels"], theirs["labels"]):
        chosen = labels != -100
        # Whole words: every token of a word is chosen, or none.
        key = words * 4096 + torch.arange(len(words))[:, None]
        per_word_any = torch.zeros(int(key.max()) + 1, dtype=torch.int64).index_add_(
            0, key[words >= 0], chosen[words >= 0].long()
        )
        per_word_all = torch.zeros_like(per_word_any).index_add_(0, key[words >= 0], torch.ones_like(key[words >= 0]))
        used = per_word_all > 0
        assert bool(((per_word_any[used] == 0) | (per_word_any[used] == per_word_all[used])).all())
        word_rate = float(((per_word_any[used] > 0).float()).mean())
        assert abs(word_rate - 0.15) < binomial_bound(0.15, int(used.sum()))
    _check_mlm_semantics(batch["input_ids"], ours["input_ids"], ours["labels"], batch)


def test_whole_words_from_word_ids_equal_from_encodings(tokenizer, lines):
    batch = tokenizer(lines[:64], padding=True, return_special_tokens_mask=True, return_tensors="pt")
    word_ids = [batch.word_ids(i) for i in range(64)]
    policy = MaskedLM(tokenizer, whole_word_mask=True, seed=3)
    from_encodings = policy(batch, index=torch.arange(64))
    plain = {k: v for k, v in batch.items()}
    from_lists = policy(plain, index=torch.arange(64), word_ids=word_ids)
    assert torch.equal(from_encodings["input_ids"], from_lists["input_ids"])
    assert torch.equal(from_encodings["labels"], from_lists["labels"])


# XLM / TransCoder -----------------------------------------------------------------------------------------------


def _rows(out, key="input_ids"):
    """Each sample's real tokens, as lists."""
    mask = out["attention_mask"].bool()
    return [row[m].tolist() for row, m in zip(out[key], mask, strict=True)]


def distinct_batch(n: int = 400, low: int = 3, high: int = 40, seed: int = 0, vocab: int = 5000):
    """Right-padded ids whose content tokens are distinct within each sample, [CLS]=2 ... [SEP]=3, pad 0."""
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(low, high + 1, (n,), generator=generator)
    width_ = int(lengths.max()) + 2
    content = torch.argsort(torch.rand((n, vocab - 5), generator=generator), dim=1)[:, : width_ - 2] + 5
    edge = torch.zeros((n, 1), dtype=torch.int64)
    ids = torch.cat([edge + 2, content, edge], dim=1)
    position = torch.arange(width_)[None, :]
    ids = torch.where(position <= lengths[:, None], ids, 0)
    ids.scatter_(1, (lengths + 1)[:, None], 3)
    mask = (position < (lengths + 2)[:, None]).long()
    special = ((ids == 2) | (ids == 3) | (mask == 0)).long()
    return {"input_ids": ids, "attention_mask": mask, "special_tokens_mask": special}


VOCAB = TokenVocab(vocab_size=5000, pad_token_id=0, mask_token_id=4, eos_token_id=3, special_ids=(0, 1, 2, 3, 4))


def test_xlm_shuffle_zero_is_identity():
    batch = distinct_batch()
    out = DenoisingNoise(VOCAB, word_shuffle=0, word_dropout=0, word_blank=0, seed=0)(batch)
    assert torch.equal(out["input_ids"], batch["input_ids"])
    assert torch.equal(out["attention_mask"], batch["attention_mask"])


@pytest.mark.parametrize("k", [1.0, 3.0, 5.5])
def test_xlm_shuffle_moves_each_token_at_most_k(k):
    batch = distinct_batch(seed=1)
    out = DenoisingNoise(VOCAB, word_shuffle=k, word_dropout=0, word_blank=0, seed=0)(batch, index=torch.arange(400))
    moved = 0
    for before, after in zip(_rows(batch), _rows(out), strict=True):
        assert before[0] == after[0] == 2 and before[-1] == after[-1] == 3  # BOS/EOS stay in place
        assert sorted(before) == sorted(after)
        where = {token: i for i, token in enumerate(before)}
        shifts = [abs(i - where[token]) for i, token in enumerate(after)]
        assert max(shifts) <= k
        assert max(shifts) < k  # scores i + U[0, k): no token passes k others
        moved += sum(s > 0 for s in shifts)
    assert (moved > 0) == (k > 1)  # with k <= 1 no score passes the next position's


def test_xlm_dropout_rate_and_keeps_one():
    batch = distinct_batch(seed=2)
    content = int(content_of(batch).sum())
    out = DenoisingNoise(VOCAB, word_shuffle=0, word_dropout=0.1, word_blank=0, seed=0)(batch, index=torch.arange(400))
    kept = int(content_of(out).sum())
    assert abs((content - kept) / content - 0.1) < binomial_bound(0.1, content)
    for before, after in zip(_rows(batch), _rows(out), strict=True):
        iterator = iter(before)
        assert all(token in iterator for token in after)  # an ordered subsequence
    assert torch.equal(out["attention_mask"].sum(1), torch.tensor([len(r) for r in _rows(out)]))
    assert out["input_ids"].shape[1] == int(out["attention_mask"].sum(1).max())
    assert bool((out["input_ids"][out["attention_mask"] == 0] == 0).all())  # re-padded with the pad id
    everything = DenoisingNoise(VOCAB, word_shuffle=0, word_dropout=1.0, word_blank=0, seed=0)(batch)
    assert bool((content_of(everything).sum(1) == 1).all())  # at least one word survives, as in XLM


@pytest.mark.parametrize(("name", "rate"), [("xlm", 0.1), ("transcoder", 0.3)])
def test_blank_rate(name, rate):
    batch = distinct_batch(seed=3)
    policy = parse_token_policy(name, vocab=VOCAB, seed=0)
    out = policy(batch, index=torch.arange(400))
    content = content_of(out)
    blanked = int((content & (out["input_ids"] == 4)).sum())
    assert abs(blanked / int(content.sum()) - rate) < binomial_bound(rate, int(content.sum()))
    assert torch.equal(out["labels"], batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100))


# T5 span corruption ---------------------------------------------------------------------------------------------


def rebuild_t5(inputs: list[int], targets: list[int], sentinels: list[int], eos: int | None) -> list[int]:
    """Replace each sentinel of the inputs by its span from the targets."""
    spans: dict[int, list[int]] = {}
    current = None
    body = targets[:-1] if eos is not None else targets
    for token in body:
        if token in sentinels:
            current = token
            spans[current] = []
        else:
            spans[current].append(token)  # type: ignore[index]
    out: list[int] = []
    for token in inputs:
        out.extend(spans.pop(token) if token in sentinels else [token])
    assert not spans
    return out


def test_t5_inputs_and_targets_rebuild_the_ids(t5_tokenizer, encoded):
    vocab = TokenVocab.from_tokenizer(t5_tokenizer)
    assert len(vocab.sentinel_ids) == 100
    assert vocab.sentinel_ids[0] == t5_tokenizer.convert_tokens_to_ids("<extra_id_0>")
    assert vocab.sentinel_ids[99] == t5_tokenizer.convert_tokens_to_ids("<extra_id_99>")
    n = len(encoded["input_ids"])
    out = SpanCorruption(vocab, seed=0)(encoded, index=torch.arange(n))
    sentinels = list(vocab.sentinel_ids)
    labels = out["labels"]
    for i, (before, after) in enumerate(zip(_rows(encoded), _rows(out), strict=True)):
        target = labels[i][labels[i] != -100].tolist()
        assert target[-1] == vocab.eos_token_id
        assert rebuild_t5(after, target, sentinels, vocab.eos_token_id) == before
        spans = sum(token in sentinels for token in after)
        assert [t for t in after if t in sentinels] == sentinels[:spans]  # sentinels in order
        content = len(before) - 2
        expected = min(max(round(content * 0.15), 1), content - 1) if content >= 2 else 0
        assert len(target) - 1 - spans == expected  # the noise count of T5's random_spans_noise_mask
        assert spans == (max(round(expected / 3.0), 1) if expected else 0)  # and its span count
    # sentinels are marked special in the inputs
    assert bool(out["special_tokens_mask"][torch.isin(out["input_ids"], torch.tensor(sentinels))].all())


def test_t5_noise_density_within_bounds(t5_tokenizer, encoded):
    vocab = TokenVocab.from_tokenizer(t5_tokenizer)
    plan = SpanCorruption(vocab, seed=4).sample(encoded, index=torch.arange(len(encoded["input_ids"])))
    content = content_of(encoded)
    density = int(plan["noise"].sum()) / int(content.sum())
    assert abs(density - 0.15) < 0.01
    assert not (plan["noise"] & ~content).any()


def test_t5_mean_span_length_on_long_samples():
    batch = distinct_batch(n=300, low=100, high=200, seed=7)
    sentinels = torch.arange(5000, 5100)  # above every content id of the batch
    vocab = dataclasses.replace(VOCAB, vocab_size=5100, sentinel_ids=tuple(sentinels.tolist()))
    out = SpanCorruption(vocab, seed=0)(batch, index=torch.arange(300))
    noise = int(((out["labels"] >= 5) & (out["labels"] < 5000)).sum())
    spans = int(torch.isin(out["input_ids"], sentinels).sum())
    assert abs(noise / spans - 3.0) < 0.1
    assert abs(noise / int(content_of(batch).sum()) - 0.15) < 0.005


def _first_start(noise: torch.Tensor) -> torch.Tensor:
    return noise.to(torch.int8).argmax(1)


@pytest.mark.parametrize("policy", ["t5", "bart"])
def test_spans_start_uniformly_in_short_samples(policy):
    """One span in a 10-token sample: its start is uniform (T5's own code always puts it at the end)."""
    n, size = 9000, 10
    ids = torch.full((n, size + 2), 7, dtype=torch.int64)
    ids[:, 0], ids[:, -1] = 2, 3
    vocab = dataclasses.replace(VOCAB, sentinel_ids=tuple(range(4000, 4100)))
    if policy == "t5":
        plan = SpanCorruption(vocab, seed=0).sample(ids, index=torch.arange(n))  # round(1.5) = 2 noise tokens, 1 span
        starts, span = _first_start(plan["noise"][:, 1:-1]), 2
        assert bool((plan["noise"].sum(1) == 2).all())
    else:
        plan = TextInfilling(vocab, mask_ratio=0.1, seed=0).sample(ids, index=torch.arange(n))  # one masked unit
        assert bool((plan["lengths"].sum(1) == 1).all())
        starts, span = plan["starts"][:, 0], 1
    counts = torch.bincount(starts, minlength=size - span + 1)
    assert counts.numel() == size - span + 1
    assert stats.chisquare(counts.numpy()).pvalue > 1e-3


# BART -----------------------------------------------------------------------------------------------------------


def test_poisson_draws_have_the_poisson_mean_and_variance():
    u = torch.rand(200_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for lam in (3.0, 3.5):
        counts = poisson(u, lam).double()
        assert abs(counts.mean().item() - lam) < 5 * math.sqrt(lam / u.numel())
        assert abs(counts.var().item() - lam) < 0.05 * lam
        expected = stats.poisson.pmf(np.arange(12), lam) * u.numel()
        observed = torch.bincount(counts.long(), minlength=12)[:12].numpy()
        assert stats.chisquare(observed, expected * observed.sum() / expected.sum()).pvalue > 1e-4


def test_bart_one_mask_per_span_budget_and_span_lengths():
    batch = distinct_batch(n=600, low=60, high=120, seed=5)
    policy = TextInfilling(VOCAB, mask_random=0.0, seed=0)
    index = torch.arange(600)
    plan = policy.sample(batch, index=index)
    out = policy(batch, index=index)
    lengths = plan["lengths"]
    spans = (plan["valid"] & (lengths > 0)).sum(1)
    inserts = (plan["gaps"] >= 0).sum(1)
    middle = []
    for i, (before, after) in enumerate(zip(_rows(batch), _rows(out), strict=True)):
        content = len(before) - 2
        masked = int(lengths[i].sum())
        assert masked == math.ceil(content * 0.3 - 1e-9)  # fairseq's budget: ceil(words * mask)
        assert after.count(4) == int(spans[i]) + int(inserts[i])  # one mask per span, one per zero-length span
        assert len(after) == len(before) - masked + int(spans[i]) + int(inserts[i])
        kept = [t for t in after if t != 4]
        iterator = iter(before)
        assert all(token in iterator for token in kept)
        assert len(kept) == len(before) - masked
        k = int(spans[i])
        middle.extend(lengths[i, : k - 1].tolist())  # the last span is trimmed to the budget
    # Non-final spans: Poisson(3.5) given length > 0 (zero-length ones are insertions), a little biased short by
    # the stopping rule.
    conditional_mean = 3.5 / (1 - math.exp(-3.5))
    assert abs(np.mean(middle) - conditional_mean) < 0.25


def test_bart_rotation_and_sentence_permutation_keep_specials():
    batch = distinct_batch(n=300, low=20, high=40, seed=6)
    rows = _rows(batch)
    rotate = TextInfilling(VOCAB, mask_ratio=0.0, rotate_ratio=1.0, seed=0)(batch, index=torch.arange(300))
    turned = 0
    for before, after in zip(rows, _rows(rotate), strict=True):
        assert after[0] == 2 and after[-1] == 3
        middle, original = after[1:-1], before[1:-1]
        offset = original.index(middle[0])
        assert middle == original[offset:] + original[:offset]
        turned += offset > 0
    assert turned == 300  # fairseq's offset is drawn in [1, n)
    # Sentences end at id 5..104 (about 1 token in 50): whole sentences swap places.
    ends = tuple(range(5, 105))
    permute = TextInfilling(VOCAB, mask_ratio=0.0, permute_sentence_ratio=1.0, sentence_end_id=ends, seed=0)
    out = permute(batch, index=torch.arange(300))

    changed = 0
    for before, after in zip(rows, _rows(out), strict=True):
        assert after[0] == 2 and after[-1] == 3
        original, permuted = before[1:-1], after[1:-1]
        blocks, current = {}, []
        for token in original:  # the sentences: runs ending at an end id, and the rest
            current.append(token)
            if token in ends:
                blocks[current[0]] = current
                current = []
        if current:
            blocks[current[0]] = current
        position = 0
        while position < len(permuted):  # the permuted content is the same sentences, each whole
            block = blocks.pop(permuted[position])
            assert permuted[position : position + len(block)] == block
            position += len(block)
        assert not blocks
        changed += original != permuted
    assert changed > 50


# ELECTRA --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("disallow", [False, True])
def test_electra_replacement_and_labels(tokenizer, encoded, disallow):
    n = len(encoded["input_ids"])
    out = RandomReplacement(tokenizer, disallow_correct=disallow, seed=0)(encoded, index=torch.arange(n))
    original = encoded["input_ids"]
    real = encoded["attention_mask"].bool()
    changed = out["input_ids"] != original
    assert torch.equal(out["labels"][real], changed[real].long())
    assert bool((out["labels"][~real] == -100).all())
    assert not (changed & ~content_of(encoded)).any()
    assert not torch.isin(out["input_ids"][changed], torch.tensor(tokenizer.all_special_ids)).any()
    content = int(content_of(encoded).sum())
    rate = int(changed.sum()) / content
    expected = 0.15 if disallow else 0.15 * (1 - 1 / 1995)
    assert abs(rate - expected) < binomial_bound(0.15, content)


# The dose -------------------------------------------------------------------------------------------------------


def test_strength_scales_the_rate_and_shares_random_numbers(tokenizer, encoded):
    n = len(encoded["input_ids"])
    index = torch.arange(n)
    content = int(content_of(encoded).sum())
    full = MaskedLM(tokenizer, seed=0)(encoded, index=index)["labels"] != -100
    half = MaskedLM(tokenizer, seed=0, dose=Dose(strength=0.5))(encoded, index=index)["labels"] != -100
    none = MaskedLM(tokenizer, seed=0, dose=Dose(strength=0.0))(encoded, index=index)
    assert abs(int(half.sum()) / content - 0.075) < binomial_bound(0.075, content)
    assert not (half & ~full).any()  # a lower dose chooses a subset (common random numbers)
    assert torch.equal(none["input_ids"], encoded["input_ids"]) and bool((none["labels"] == -100).all())
    gated = MaskedLM(tokenizer, seed=0, dose=Dose(p=0.5))(encoded, index=index)["labels"] != -100
    touched = gated.any(1)
    assert abs(float(touched.float().mean()) - 0.5 * float(full.any(1).float().mean())) < 0.06
    assert torch.equal(gated[touched], full[touched])
