"""Benchmarks: map build, payload and click latency (see bench/README.md)."""
