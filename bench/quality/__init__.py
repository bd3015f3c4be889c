"""Quality of related papers on CSFCube's expert judgements (``make bench-quality``)."""
