"""The text benchmark, `mithridate bench --modality text`: string noise against nlpaug at the same per-unit
rates, BERT masking against transformers' `DataCollatorForLanguageModeling` on the same padded batches, and
the token-level denoising noise (XLM, TransCoder, T5, BART, ELECTRA) on its own, one process per library, on
the same SST-2 sentences (or a built-in corpus when the file is missing).

`harness.run_text_bench` runs it; `report.write_text_outputs` writes the Markdown table and the JSON.
"""

from .cases import TEXT_GROUPS, TextCase, build_text_cases
from .harness import TextBenchSettings, run_text_bench

__all__ = ["TEXT_GROUPS", "TextBenchSettings", "TextCase", "build_text_cases", "run_text_bench"]
