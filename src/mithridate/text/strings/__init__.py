"""String-level noise on raw text with an edit log: character and word ops, text policies (one per op and
`text_ta`, TrivialAugment for text), policy strings and the text corruption suite.

Every output comes with its edits (`EditedText`): what was replaced, where, by which op, and a map from
positions of the original to the output, so span labels (NER, QA) follow the noise. Text outside the
edits stays as it was, character for character; URLs, e-mail addresses and numbers are protected.
"""

from ._edits import Edit, EditedText, apply_edits, map_span, source_index
from ._tables import LAYOUTS, OCR_CONFUSIONS, KeyboardLayout, keyboard_neighbours, misspellings
from ._units import DEFAULT_PROTECTED
from .corruptions import SEVERITY_RATES, TEXT_CORRUPTIONS, TEXT_SEVERITIES, corrupt_text, corrupt_text_with_edits
from .ops import OPS, TextOp
from .policies import POLICIES, OpPolicy, TextPlan, TextPolicy, TextTrivialAugment
from .policy_string import parse_text_policy

__all__ = [
    "DEFAULT_PROTECTED",
    "LAYOUTS",
    "OCR_CONFUSIONS",
    "OPS",
    "POLICIES",
    "SEVERITY_RATES",
    "TEXT_CORRUPTIONS",
    "TEXT_SEVERITIES",
    "Edit",
    "EditedText",
    "KeyboardLayout",
    "OpPolicy",
    "TextOp",
    "TextPlan",
    "TextPolicy",
    "TextTrivialAugment",
    "apply_edits",
    "corrupt_text",
    "corrupt_text_with_edits",
    "keyboard_neighbours",
    "map_span",
    "misspellings",
    "parse_text_policy",
    "source_index",
]
