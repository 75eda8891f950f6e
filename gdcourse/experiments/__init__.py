"""Pure, tested computations behind the notebooks' experiments and explorers (one sub-module per notebook)."""
