"""Loaders: iterate prepared data (processed records, packed manifests) for training."""
