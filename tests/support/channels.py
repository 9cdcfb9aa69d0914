"""Registered channel clients for the tests: one per channel, with known secrets.

Every migrated template database carries them, so any test app accepts requests signed with
`signer()`; a test picks the channel with the X-HPF-Channel header as a real client would be
picked by its credentials.
"""

from hpf.catalog.domain import CHANNELS
from hpf.channels.api.signer import ChannelSigner
from hpf.gateway import clients
from hpf.kit.db import transaction

CREDENTIALS = {channel: (f"test-{channel}", f"test-secret-{channel}-0123456789abcdef")
               for channel in CHANNELS}


def install(url: str) -> None:
    """Register the test clients in a database."""
    with transaction(url) as session:
        for channel, (client_id, secret) in CREDENTIALS.items():
            clients.register(session, channel, f"测试终端（{CHANNELS[channel]}）",
                             client_id=client_id, secret=secret)


def signer() -> ChannelSigner:
    """An httpx auth flow signing as the test client of the request's channel."""
    return ChannelSigner(CREDENTIALS)
