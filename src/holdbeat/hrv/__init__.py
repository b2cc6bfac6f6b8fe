"""HRV of corrected RR, by domain, and the per-phase table built from them.

One module per job (details and references in docs/hrv.md):

* `intervals`   which successive differences may be used; neurokit2's input format
* `time_domain` neurokit2 `hrv_time` metrics in numpy
* `spectrum`    interpolation, Welch (segments that cover the phase), band power
* `nonlinear`   Poincaré SD1/SD2, DFA alpha1, sample entropy
* `phase_metrics` every domain for one phase's beats, fast or via neurokit2, with reasons
* `table`       the per-phase table: `phase_rows`/`phase_table`, `hrv_rows`/`hrv_table`
"""
