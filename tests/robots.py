"""Loopback HTTP servers playing the group robots of DingTalk, WeCom and Feishu.

Each checks a request exactly as its platform does (signature, body shape), keeps the platform's
limit of 20 messages a minute, and answers as the platform would: code 0, a rate-limit code, or a
permanent error (`mode`). Only what a robot accepted is kept in `accepted`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

#: Per platform: (rate-limit answer, permanent-error answer, success answer).
ANSWERS = {
    "dingtalk": ({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"},
                 {"errcode": 310000, "errmsg": "sign not match"}, {"errcode": 0, "errmsg": "ok"}),
    "wecom": ({"errcode": 45009, "errmsg": "api freq out of limit"},
              {"errcode": 93000, "errmsg": "invalid webhook url"}, {"errcode": 0, "errmsg": "ok"}),
    "feishu": ({"code": 11232, "msg": "frequency limited"},
               {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"},
               {"code": 0, "msg": "success", "data": {}}),
}


class JsonEndpoint:
    """A loopback HTTP server answering each JSON POST with `answer(path, body)` (a dict, HTTP 200)."""

    def __init__(self, answer) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server hook name
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode("utf-8"))
                payload = json.dumps(answer(self.path, body)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class Robot(JsonEndpoint):
    """One robot on 127.0.0.1; `mode` is ok | rate | refuse (what it answers a valid message)."""

    def __init__(self, kind: str, secret: str | None = None) -> None:
        self.kind, self.secret, self.mode = kind, secret, "ok"
        self.accepted: list[dict] = []  # bodies the robot took
        self.rejected: list[str] = []  # why a request was refused (signature, shape, limit)
        self.times: list[float] = []
        self.lock = threading.Lock()
        super().__init__(self.judge)
        path = {"dingtalk": "/robot/send?access_token=tok", "wecom": "/cgi-bin/webhook/send?key=k1",
                "feishu": "/open-apis/bot/v2/hook/abc"}[kind]
        self.url = self.base + path

    # ------------------------------------------------------------------ the platform's checks
    def _signature_ok(self, path: str, body: dict) -> bool:
        if not self.secret:
            return True
        now = time.time()
        if self.kind == "dingtalk":
            query = parse_qs(urlsplit(path).query)
            stamp = query.get("timestamp", [""])[0]
            if not stamp.isdigit() or abs(now * 1000 - int(stamp)) > 3600_000:
                return False
            expected = base64.b64encode(hmac.new(self.secret.encode(), f"{stamp}\n{self.secret}".encode(),
                                                 hashlib.sha256).digest()).decode()
            return query.get("sign", [""])[0] == expected  # parse_qs has url-decoded it
        if self.kind == "feishu":
            stamp = str(body.get("timestamp", ""))
            if not stamp.isdigit() or abs(now - int(stamp)) > 3600:
                return False
            expected = base64.b64encode(hmac.new(f"{stamp}\n{self.secret}".encode(), b"",
                                                 hashlib.sha256).digest()).decode()
            return body.get("sign") == expected
        return True

    def _shape_ok(self, path: str, body: dict) -> bool:
        if self.kind == "dingtalk":
            return body.get("msgtype") == "markdown" and {"title", "text"} <= set(body.get("markdown", {}))
        if self.kind == "wecom":
            return "key=k1" in path and body.get("msgtype") == "markdown" and "content" in body.get("markdown", {})
        return (body.get("msg_type") == "post"
                and isinstance(body.get("content", {}).get("post", {}).get("zh_cn", {}).get("content"), list))

    def judge(self, path: str, body: dict) -> dict:
        rate, permanent, ok = ANSWERS[self.kind]
        with self.lock:
            now = time.time()
            if not self._signature_ok(path, body):
                self.rejected.append("signature")
                return permanent
            if not self._shape_ok(path, body):
                self.rejected.append("shape")
                return permanent
            if self.mode == "rate" or sum(1 for t in self.times if now - t < 60) >= 20:
                self.rejected.append("rate")
                return rate
            if self.mode == "refuse":
                self.rejected.append("refused")
                return permanent
            self.times.append(now)
            self.accepted.append(body)
            return ok

    def texts(self) -> list[str]:
        """The text of each accepted message, whatever the platform's shape."""
        out = []
        for body in self.accepted:
            if self.kind == "dingtalk":
                out.append(body["markdown"]["title"] + "\n" + body["markdown"]["text"])
            elif self.kind == "wecom":
                out.append(body["markdown"]["content"])
            else:
                post = body["content"]["post"]["zh_cn"]
                out.append(post["title"] + "\n" + "\n".join(p[0]["text"] for p in post["content"]))
        return out
