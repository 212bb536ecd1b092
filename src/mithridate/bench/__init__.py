"""Side-by-side throughput benchmarks: mithridate against the libraries users would pick instead.

`mithridate bench` (see `harness.run_bench`) measures, on the same uint8 inputs, per-sample policies,
single ops, the corruption suite and a memory-bound copy, one subprocess per library, and writes a
Markdown table, JSON and a bar chart. Peers that are not installed are skipped with a line saying so.
"""

from .cases import Case, build_cases
from .harness import BenchSettings, run_bench

__all__ = ["BenchSettings", "Case", "build_cases", "run_bench"]
