"""A python-telegram-bot request backend that answers from a BotApiCore, with no network."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from telegram.request import BaseRequest, RequestData

from sandbox.core import ApiError, BotApiCore, Files

# A timeout, None, or BaseRequest.DEFAULT_NONE (python-telegram-bot names that type only in a private module).
Timeout = float | None | object

_FILE_PATH = re.compile(r"/file/bot[^/]*/(?P<path>.+)$")
_METHOD_PATH = re.compile(r"/bot[^/]*/(?P<method>[^/]+)$")
_NOT_FOUND = {"ok": False, "error_code": 404, "description": "Not Found"}


def _encode(body: Any) -> bytes:
    return json.dumps(body).encode()


def _parameters(request_data: RequestData | None) -> dict[str, Any]:
    if request_data is None:
        return {}
    # A JSON round trip leaves exactly what would cross the wire: lists, not tuples; ints,
    # not IntEnums; nothing shared with the caller's objects.
    return json.loads(json.dumps(request_data.parameters))


def _files(request_data: RequestData | None) -> Files:
    if request_data is None:
        return {}
    files: Files = {}
    for name, (file_name, content, mime_type) in request_data.multipart_data.items():
        # InputFile(read_file_handle=False) leaves an open file object instead of bytes.
        data = content if isinstance(content, bytes) else content.read()
        files[name] = (file_name, data, mime_type)
    return files


class InProcessRequest(BaseRequest):
    """Hands each Bot API request to a BotApiCore and encodes its answer as Telegram would."""

    def __init__(self, core: BotApiCore) -> None:
        self.core = core

    @property
    def read_timeout(self) -> float | None:
        """No default read timeout: nothing travels over a network."""
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        write_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        connect_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        pool_timeout: Timeout = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Answer a Bot API call or a file download; returns (HTTP status, body)."""
        path = unquote(urlsplit(url).path)
        if file_match := _FILE_PATH.search(path):
            try:
                return 200, self.core.file_bytes(file_match["path"])
            except KeyError:
                return 404, _encode(_NOT_FOUND)
        method_match = _METHOD_PATH.search(path)
        if method_match is None:
            return 404, _encode(_NOT_FOUND)
        try:
            body = await self.core.call_encoded(method_match["method"], _parameters(request_data), _files(request_data))
        except ApiError as error:
            return error.error_code, _encode(error.to_response())
        return 200, body
