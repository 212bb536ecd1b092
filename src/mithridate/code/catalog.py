"""Every code op by name, and the op sets the code TrivialAugment draws from.

`CODE_OPS` gathers the op tables of the Python ops (renaming, faulty code, rewrites, injected bugs) and of the
token-level ops for other languages. `CODE_TA_OPS` are the ops `code_ta` draws from by default: renaming and the
semantics-preserving rewrites and format ops of Python (the noise a model should shrug off); faulty code and
injected bugs change what the code means or whether it parses, so they are opted into by name.
"""

from __future__ import annotations

from .lexed.ops import OPS as LEXED_OPS
from .ops import CodeOp
from .policies import CODE_TA_OPS
from .python.bugs import OPS as BUG_OPS
from .python.faulty import OPS as FAULTY_OPS
from .python.rename import OPS as RENAME_OPS
from .python.rewrites import OPS as REWRITE_OPS

__all__ = ["BUG_OPS", "CODE_OPS", "CODE_TA_OPS", "FAULTY_OPS", "LEXED_OPS", "RENAME_OPS", "REWRITE_OPS"]

CODE_OPS: dict[str, type[CodeOp]] = {**RENAME_OPS, **FAULTY_OPS, **REWRITE_OPS, **BUG_OPS, **LEXED_OPS}
