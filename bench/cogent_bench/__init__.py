"""The benchmark suite's runner: builds, sweeps the echo servers, runs the micro and memory
benchmarks, and writes bench/RESULTS.md with its charts."""
