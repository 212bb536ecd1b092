"""Code noise: scope-correct renaming (DOBF), faulty code (TransCoder's denoising noise), semantics-preserving
rewrites and labelled injected bugs for Python (tokenize, ast, symtable), token-level noise for other languages
(Pygments), code policies with a Dose, reproducible per (seed, epoch, sample index)."""

from .ops import CodeOp, SampleDraws
from .policies import CodePlan, CodePolicy, CodeTrivialAugment, EditedCode, OpPolicy
from .python.source import CodeSyntaxError, PythonSource, read_python

__all__ = [
    "CodeOp",
    "CodePlan",
    "CodePolicy",
    "CodeSyntaxError",
    "CodeTrivialAugment",
    "EditedCode",
    "OpPolicy",
    "PythonSource",
    "SampleDraws",
    "read_python",
]
