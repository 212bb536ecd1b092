"""The studies on the experiment engine: the dose-response sweep (`sweep`), random features (`garbage`) and
synthetic data at a mix (`synthetic`); each is what the `mithridate` subcommand of the same name runs."""
