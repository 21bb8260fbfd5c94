import pytest

from tests.hooks.receiver import Receiver


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def loopback(settings):
    """Receivers on this machine are allowed (production refuses them: SSRF)."""
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    return settings
