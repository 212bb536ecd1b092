"""Experiments: reference models, the dose-response sweep, its store, summary and report.

The datasets live in `mithridate.data` (data/ never imports experiments/). The sweep modules import torch
training code and matplotlib; import them explicitly (`mithridate.experiments.sweep`, `.store`, `.summary`,
`.report`).
"""
