"""Benchmarks (`make bench`). Each module here exposes `NAME`, `DESCRIPTION` and `run(args) -> None`;
it prints its figures beside a ceiling measured in the same run. Figures are never asserted."""
