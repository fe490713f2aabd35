"""The export read path benchmark: `python -m bench` (README "Benchmark", results in bench/RESULTS.md)."""
