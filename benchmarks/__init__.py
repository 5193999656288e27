"""Benchmarks of the program's cost as organizations grow; see docs/benchmarks.md."""
