"""Benchmarks (``make bench``): timed scenarios on generated city-scale data, compared as ratios."""
