"""The band: a style registry (``styles``), one module per part (bass, drums, keys, pad, guitar)
and ``generate``, which plays a progression with them into an Arrangement."""
