"""Pure numerics (nothing here knows the codebook): intervals and tests, clustered inference, models, the interrupted time series, inter-coder agreement."""
