"""Simulated hearts, one body model for all of them.

- `body`      the body model: mode responses, catch-up drive, HR shift, vagal gain, RSA,
              0.1 Hz wave, AR(1) noise, the RR formula (one beat or arrays); SimConfig.
- `person`    the simulated person: timeline, lapses, markers, ratings, act-and-savor answers.
- `artifacts` missed / extra / ectopic beats (sum-preserving), streamed, vectorised, or
              injected with the truth kept.
- `sessions`  fast in-memory sessions (Recordings) from the body model, vectorised, for
              tests, calibration and benchmarks; written as real files on demand.
- `rr`        stationary RR series from the body model, for validating the HRV engine.

The strap simulator (real HRM packets for the demo) is `sources.simulator`.
"""
