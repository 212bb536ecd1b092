"""Code noise: scope-correct renaming (DOBF), faulty code (TransCoder's denoising noise), semantics-preserving
rewrites and labelled injected bugs for Python (tokenize, ast, symtable), token-level noise for other languages
(Pygments), code policies with a Dose, reproducible per (seed, epoch, sample index), and policy strings
(`rename-s0.4`, `faulty`, `code_ta`)."""

from .catalog import CODE_OPS, CODE_TA_OPS
from .ops import CodeOp, SampleDraws
from .policies import CodePlan, CodePolicy, CodeTrivialAugment, EditedCode, OpPolicy
from .policy_string import POLICY_NAMES, parse_code_policy
from .python.source import CodeSyntaxError, PythonSource, read_python

__all__ = [
    "CODE_OPS",
    "CODE_TA_OPS",
    "POLICY_NAMES",
    "CodeOp",
    "CodePlan",
    "CodePolicy",
    "CodeSyntaxError",
    "CodeTrivialAugment",
    "EditedCode",
    "OpPolicy",
    "PythonSource",
    "SampleDraws",
    "parse_code_policy",
    "read_python",
]
