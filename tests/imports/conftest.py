from pathlib import Path

import pytest

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture
def sample():
    """The bytes of one of the sample exports in tests/imports/samples/."""
    return lambda name: (SAMPLES / name).read_bytes()
