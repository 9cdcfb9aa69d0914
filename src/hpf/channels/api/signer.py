"""The client side of request signing, as an httpx authentication flow.

Used by `hpf api` and by the tests; a channel's own back end (the app server, the WeChat
server, a kiosk) does the same in its language, following docs/channel-interface.md.
"""

import time
from collections.abc import Generator, Mapping

import httpx

from hpf.gateway import signing


class ChannelSigner(httpx.Auth):
    """Signs each request with the credentials of the channel it names in X-HPF-Channel.

    `credentials` maps a channel to (client id, secret). A request without the header, or
    naming a channel without credentials, is signed as `default` (the server then refuses a
    channel that is not the client's own).
    """

    requires_request_body = True

    def __init__(self, credentials: Mapping[str, tuple[str, str]], default: str = "hall") -> None:
        self.credentials = dict(credentials)
        self.default = default

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the client, timestamp, nonce and signature headers."""
        channel = request.headers.get("X-HPF-Channel", self.default)
        client_id, secret = self.credentials.get(channel) or self.credentials[self.default]
        timestamp, nonce = str(int(time.time())), signing.new_nonce()
        path = request.url.raw_path.decode("latin-1")
        request.headers[signing.CLIENT_HEADER] = client_id
        request.headers[signing.TIMESTAMP_HEADER] = timestamp
        request.headers[signing.NONCE_HEADER] = nonce
        request.headers[signing.SIGNATURE_HEADER] = signing.sign(
            secret, request.method, path, request.content, timestamp, nonce)
        yield request
