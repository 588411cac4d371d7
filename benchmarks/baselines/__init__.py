"""Non-spiking baselines for the benchmarks (benchmarks/README.md, section RL)."""
