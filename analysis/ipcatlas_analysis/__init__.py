"""Analysis of ipcatlas result files: load, thresholds, plots, report and compare.

The C++ binary writes Google Benchmark 1.7.1 JSON; everything here reads those
files and never runs a benchmark.
"""
