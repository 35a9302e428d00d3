"""Fixtures: the real header samples as FITS files in a temporary archive tree."""
from __future__ import annotations

import pytest

from tests.ingest.samples import load_samples, write_sample


@pytest.fixture(scope="session")
def samples():
    return {sample.key: sample for sample in load_samples()}


@pytest.fixture(scope="session")
def sample_archive(tmp_path_factory, samples):
    """(root, {key: path}): every sample written byte-faithfully at its place in the archive."""
    root = tmp_path_factory.mktemp("lick_archive")
    return root, {key: write_sample(sample, root) for key, sample in samples.items()}
