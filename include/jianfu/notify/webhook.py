"""Group robots (SPEC.md section 9): DingTalk, WeCom, Feishu, or a generic JSON webhook.

Each platform has its own body and signature:
- DingTalk: `{"msgtype": "markdown", ...}`; with a secret (加签) the URL gets `timestamp` (ms) and
  `sign` = url-encoded base64 HMAC-SHA256(key=secret, msg=timestamp + "\n" + secret).
- WeCom: `{"msgtype": "markdown", "markdown": {"content": ...}}`; the key is in the URL.
- Feishu: `msg_type` `post`, with `timestamp` (s) and `sign` = base64 HMAC-SHA256(key=timestamp +
  "\n" + secret, msg=empty) in the body. A post shows text as typed, so it gets the plain words.
- generic: the DingTalk body, unsigned.
All answer HTTP 200 with an error code in the body (`errcode`, Feishu `code`): non-zero is a
failure, and a rate-limit code (or HTTP 429) is told apart so the message waits for the next run.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from urllib.parse import quote_plus, urlsplit

from ..config import Settings
from ..escape import plain_from_markdown

TIMEOUT_SECONDS = 15

#: Host suffix -> platform, for JIANFU_WEBHOOK_KIND unset.
HOSTS = {
    "oapi.dingtalk.com": "dingtalk",
    "qyapi.weixin.qq.com": "wecom",
    "open.feishu.cn": "feishu",
    "open.larksuite.com": "feishu",
}

#: Body error codes that mean "too many messages, try later", per platform.
RATE_LIMIT_CODES = {
    "dingtalk": {130101},  # send too fast, exceed 20 times per minute
    "wecom": {45009},  # api freq out of limit
    "feishu": {9499, 11232},  # too many requests / frequency limited
    "generic": set(),
}


class WebhookRefused(RuntimeError):
    """The robot answered with a non-zero error code: recorded as a failed delivery."""


class WebhookRateLimited(WebhookRefused):
    """The robot asked us to slow down: the message is retried on the next run."""


def kind_of(settings: Settings) -> str:
    """JIANFU_WEBHOOK_KIND, else the platform the URL's host belongs to, else generic."""
    if settings.webhook_kind:
        return settings.webhook_kind
    host = (urlsplit(settings.webhook_url or "").hostname or "").lower()
    return next((kind for suffix, kind in HOSTS.items() if host == suffix or host.endswith("." + suffix)),
                "generic")


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk 加签: base64 HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret (not yet url-encoded)."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu: base64 HMAC-SHA256 keyed by "timestamp\\nsecret" over an empty message."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def request(settings: Settings, title: str, markdown: str, now: float | None = None) -> tuple[str, dict]:
    """(URL, JSON body) of one message for the configured robot, signed when a secret is set."""
    url = settings.webhook_url or ""
    kind = kind_of(settings)
    secret = settings.webhook_secret
    now = time.time() if now is None else now
    if kind == "wecom":
        return url, {"msgtype": "markdown", "markdown": {"content": markdown}}
    if kind == "feishu":
        lines = [line for line in plain_from_markdown(markdown).splitlines()]
        body: dict = {"msg_type": "post", "content": {"post": {"zh_cn": {
            "title": title, "content": [[{"tag": "text", "text": line}] for line in lines]}}}}
        if secret:
            stamp = int(now)
            body = {"timestamp": str(stamp), "sign": feishu_sign(secret, stamp), **body}
        return url, body
    body = {"msgtype": "markdown", "markdown": {"title": title, "text": markdown}}
    if kind == "dingtalk" and secret:
        stamp = int(now * 1000)
        joiner = "&" if urlsplit(url).query else "?"
        url = f"{url}{joiner}timestamp={stamp}&sign={quote_plus(dingtalk_sign(secret, stamp))}"
    return url, body


def post(settings: Settings, title: str, markdown: str) -> None:
    """POST one message; raises WebhookRateLimited / WebhookRefused / OSError when not accepted."""
    url, body = request(settings, title, markdown)
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - configured URL
            raw = response.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 429:
            raise WebhookRateLimited(f"webhook rate limit: HTTP 429 {exc.reason}") from None
        raise
    check_answer(kind_of(settings), raw)


def check_answer(kind: str, raw: bytes) -> None:
    """Read the error code of a 200 answer; a body that is not JSON counts as accepted."""
    try:
        answer = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        return
    if not isinstance(answer, dict):
        return
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode")))
    if code in (None, 0, "0"):
        return
    message = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
    try:
        number = int(code)
    except (TypeError, ValueError):
        number = None
    if number in RATE_LIMIT_CODES.get(kind, set()):
        raise WebhookRateLimited(f"webhook rate limit: errcode {code} {message}".strip())
    raise WebhookRefused(f"webhook refused the message: errcode {code} {message}".strip())
