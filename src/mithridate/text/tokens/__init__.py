"""Token-level noise on padded (N, L) id batches from any tokenizer: BERT masking (`MaskedLM`), XLM/TransCoder
denoising noise (`DenoisingNoise`), T5 span corruption (`SpanCorruption`), BART text infilling (`TextInfilling`)
and ELECTRA's random replacement (`RandomReplacement`); policy strings (`mlm-s0.5`, `xlm`, `transcoder`, `t5`,
`bart`, `electra`) and a collator for DataLoaders and the Hugging Face Trainer (`TokenCollator`)."""

from .batch import TokenBatch, TokenVocab, as_vocab, word_ids_from_offsets
from .collate import TokenCollator
from .policies import DenoisingNoise, MaskedLM, RandomReplacement, SpanCorruption, TextInfilling, TokenPlan, TokenPolicy
from .policy_string import TOKEN_POLICIES, parse_token_policy

__all__ = [
    "TOKEN_POLICIES",
    "DenoisingNoise",
    "MaskedLM",
    "RandomReplacement",
    "SpanCorruption",
    "TextInfilling",
    "TokenBatch",
    "TokenCollator",
    "TokenPlan",
    "TokenPolicy",
    "TokenVocab",
    "as_vocab",
    "parse_token_policy",
    "word_ids_from_offsets",
]
