"""Receives Circulo's webhook deliveries on 127.0.0.1 and verifies every one with the published
Standard Webhooks library (`standardwebhooks` from PyPI), as a receiver would:

1. a subscription to score.detractor and score.recorded, and a low score: both events arrive;
   the receiver answers the very first request 500, and that delivery is retried with the same
   webhook-id and the same body bytes; the delivery log shows the two attempts;
2. a tampered body, another webhook-id and a wrong secret fail verification;
3. the secret is rotated and another score recorded: its delivery carries two signatures and
   verifies with the new secret and with the old one.

Talks only to 127.0.0.1: the server at CIRCULO_URL (with the owner token CIRCULO_TOKEN) and its
own receiver. Exits non-zero with a message on the first failure."""

import base64
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

BASE = os.environ["CIRCULO_URL"]
TOKEN = os.environ["CIRCULO_TOKEN"]
WAIT_SECONDS = 30

if urllib.parse.urlsplit(BASE).hostname != "127.0.0.1":
    sys.exit(f"CIRCULO_URL must be on 127.0.0.1, not {BASE}")

# No proxy from the environment: every request goes to 127.0.0.1 directly.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def api(method, path, body=None, expect=(200,)):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{BASE}{path}", data=data, method=method)
    request.add_header("Authorization", f"Bearer {TOKEN}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with OPENER.open(request, timeout=10) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    if status not in expect:
        fail(f"{method} {path} answered {status}, expected {expect}: {text}")
    return json.loads(text) if text else None


class Received:
    """Every request the receiver got, in order, with the status it answered."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []

    def add(self, path, headers, body):
        with self.lock:
            status = 500 if not self.requests else 204
            self.requests.append(
                {"path": path, "headers": headers, "body": body, "status": status, "at": time.time()}
            )
            return status

    def snapshot(self):
        with self.lock:
            return list(self.requests)


RECEIVED = Received()


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = self.headers.get("Content-Length")
        body = self.rfile.read(int(length)) if length is not None else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        if length is None:
            headers["x-receiver-note"] = "no content-length"
        status = RECEIVED.add(self.path, headers, body)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass


def wait_for(what, condition):
    deadline = time.time() + WAIT_SECONDS
    while time.time() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    got = [(r["status"], r["headers"].get("webhook-id"), r["body"][:120]) for r in RECEIVED.snapshot()]
    fail(f"within {WAIT_SECONDS} s: {what}; the receiver got {got}")


def event_type(request):
    try:
        return json.loads(request["body"])["type"]
    except (ValueError, KeyError, TypeError):
        fail(f"a delivery's body is not an event: {request['body'][:200]!r}")


def verify(secret, request, label):
    """The event the library verified, or a failure naming what it said."""
    try:
        return Webhook(secret).verify(request["body"], request["headers"])
    except WebhookVerificationError as error:
        fail(f"{label}: standardwebhooks refused a delivery: {error}; headers {request['headers']}")


def refused(secret, body, headers):
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return True
    return False


def now_rfc3339():
    moment = datetime.now(timezone.utc) - timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def delivered(event, after=0):
    """The requests answered 2xx for `event`, among those from index `after` on."""
    return [
        r for r in RECEIVED.snapshot()[after:] if r["status"] < 300 and event_type(r) == event
    ]


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{server.server_address[1]}/hook"

    hook = api(
        "POST",
        "/v1/webhooks",
        {"url": hook_url, "events": ["score.detractor", "score.recorded"], "description": "CI receiver"},
        expect=(201,),
    )
    old_secret = hook["secret"]
    check(old_secret.startswith("whsec_"), f"the secret is not whsec_…: {old_secret!r}")
    check(hook["previous_secret_expires_at"] is None, f"a new subscription names a previous secret: {hook}")
    check(
        sorted(hook["events"]) == ["score.detractor", "score.recorded"] and hook["enabled"],
        f"the subscription is not as asked: {hook}",
    )
    shown = api("GET", f"/v1/webhooks/{hook['id']}")
    check("secret" not in shown, f"GET shows the secret again: {shown}")

    team = api("POST", "/v1/teams", {"name": "Front desk"}, expect=(201,))
    member = api(
        "POST",
        "/v1/members",
        {"display_name": "Ana García", "role": "staff", "team_id": team["id"]},
        expect=(201,),
    )
    score = api(
        "POST",
        "/v1/satisfaction-scores",
        {
            "audience": "client",
            "instrument": "csat",
            "score": 1,
            "member_id": member["id"],
            "touchpoint": "pos",
            "occurred_at": now_rfc3339(),
            "source": "ci",
            "comment": "Waited twenty minutes",
        },
        expect=(201,),
    )

    # 1. Both events arrive, the first request (answered 500) is retried.
    wait_for(
        "a score.detractor and a score.recorded delivery answered 2xx",
        lambda: delivered("score.detractor") and delivered("score.recorded"),
    )
    requests = RECEIVED.snapshot()
    first = requests[0]
    check(first["status"] == 500, "the receiver did not answer the first request 500")
    retries = [r for r in requests[1:] if r["headers"].get("webhook-id") == first["headers"].get("webhook-id")]
    check(retries, f"the delivery answered 500 was not retried: {requests}")
    retry = retries[0]
    check(retry["status"] == 204, "the retry was not answered 204")
    check(retry["body"] == first["body"], "the retry's body differs from the first attempt's bytes")
    waited = retry["at"] - first["at"]
    check(0.3 <= waited <= 10, f"the retry came {waited:.2f} s after the failure (first retry set to 0.5 s)")

    events = {}
    for index, request in enumerate(requests):
        label = f"request {index + 1} ({event_type(request)}, answered {request['status']})"
        check(request["path"] == "/hook", f"{label} went to {request['path']}")
        check(
            request["headers"].get("content-type", "").startswith("application/json"),
            f"{label}: content-type is {request['headers'].get('content-type')!r}",
        )
        check("x-receiver-note" not in request["headers"], f"{label} had no Content-Length")
        signatures = request["headers"].get("webhook-signature", "").split(" ")
        check(
            len(signatures) == 1 and signatures[0].startswith("v1,"),
            f"{label}: one v1 signature expected before any rotation, got {signatures}",
        )
        stamp = int(request["headers"]["webhook-timestamp"])
        check(abs(stamp - request["at"]) <= 5, f"{label}: webhook-timestamp {stamp} is not the attempt's time")
        event = verify(old_secret, request, label)
        events.setdefault(request["headers"]["webhook-id"], event)

    by_type = {}
    for event_id, event in events.items():
        by_type.setdefault(event["type"], []).append((event_id, event))
    check(
        sorted(by_type) == ["score.detractor", "score.recorded"]
        and all(len(v) == 1 for v in by_type.values()),
        f"expected one score.detractor and one score.recorded event, got {sorted((t, len(v)) for t, v in by_type.items())}",
    )
    (detractor_id, detractor), = by_type["score.detractor"]
    (recorded_id, recorded), = by_type["score.recorded"]
    check(detractor_id != recorded_id, "the two events share a webhook-id")
    for event in (detractor, recorded):
        check(set(event) == {"type", "timestamp", "data"}, f"the body is not {{type, timestamp, data}}: {event}")
        check(datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).tzinfo, f"bad timestamp: {event}")
        data = event["data"]
        differing = sorted(k for k in score if k != "icare" and data.get(k) != score[k])
        check(not differing, f"{event['type']}'s data differs from the score the API answered in {differing}: {data}")
    check(
        recorded["data"]["id"] == score["id"]
        and recorded["data"]["score"] == 1
        and recorded["data"]["member_id"] == member["id"]
        and recorded["data"]["team_id"] == team["id"]
        and recorded["data"]["comment"] == "Waited twenty minutes",
        f"the event's data does not describe the score: {recorded['data']}",
    )

    def settled():
        log = api("GET", f"/v1/webhooks/{hook['id']}/deliveries")["items"]
        return log if len(log) == 2 and all(d["status"] == "succeeded" for d in log) else None

    log = wait_for("both deliveries logged as succeeded", settled)
    retried = [d for d in log if d["event_id"] == first["headers"]["webhook-id"]]
    check(
        len(retried) == 1 and retried[0]["attempts"] == 2 and retried[0]["last_response_code"] == 204,
        f"the delivery log does not show the retried delivery's two attempts: {log}",
    )
    check(
        {d["event_type"] for d in log} == {"score.detractor", "score.recorded"}
        and {d["event_id"] for d in log} == {detractor_id, recorded_id},
        f"the delivery log does not match what was received: {log}",
    )
    print(
        f"first delivery ({event_type(first)}) answered 500, retried after {waited:.2f} s with the same "
        f"webhook-id and bytes; {len(requests)} requests verified with standardwebhooks"
    )

    # 2. Tampering is caught.
    tampered = first["body"].replace(b'"score":1', b'"score":5')
    check(tampered != first["body"], f"could not find the score in the body to tamper with: {first['body']!r}")
    check(refused(old_secret, tampered, retry["headers"]), "a tampered body verified")
    check(refused(old_secret, retry["body"] + b" ", retry["headers"]), "a body with an extra byte verified")
    other_id = dict(retry["headers"], **{"webhook-id": recorded_id if detractor_id == first["headers"]["webhook-id"] else detractor_id})
    check(refused(old_secret, retry["body"], other_id), "a delivery verified under another webhook-id")
    stranger = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    check(refused(stranger, retry["body"], retry["headers"]), "a delivery verified with another secret")
    print("a tampered body, another webhook-id and a wrong secret are refused")

    # 3. Rotation: the next delivery carries both signatures.
    rotated = api("POST", f"/v1/webhooks/{hook['id']}/rotate-secret")
    new_secret = rotated["secret"]
    check(new_secret.startswith("whsec_") and new_secret != old_secret, f"rotation gave no new secret: {rotated}")
    until = datetime.fromisoformat(rotated["previous_secret_expires_at"].replace("Z", "+00:00"))
    overlap = until - datetime.now(timezone.utc)
    check(
        timedelta(hours=23, minutes=55) < overlap <= timedelta(hours=24),
        f"the old secret should keep signing for 24 h, until {until}",
    )
    seen = len(RECEIVED.snapshot())
    second = api(
        "POST",
        "/v1/satisfaction-scores",
        {
            "audience": "client",
            "instrument": "csat",
            "score": 5,
            "member_id": member["id"],
            "touchpoint": "pos",
            "occurred_at": now_rfc3339(),
            "source": "ci",
        },
        expect=(201,),
    )
    after = wait_for("a score.recorded delivery after the rotation", lambda: delivered("score.recorded", seen))[0]
    signatures = after["headers"]["webhook-signature"].split(" ")
    check(
        len(signatures) == 2 and all(s.startswith("v1,") for s in signatures),
        f"two v1 signatures expected during the overlap, got {signatures}",
    )
    with_new = verify(new_secret, after, "after rotation, with the new secret")
    with_old = verify(old_secret, after, "after rotation, with the old secret")
    check(
        with_new == with_old and with_new["data"]["id"] == second["id"] and with_new["data"]["score"] == 5,
        f"the rotated delivery is not the second score: {with_new}",
    )
    check(refused(new_secret, tampered, after["headers"]), "a tampered body verified with the new secret")
    for request in RECEIVED.snapshot()[seen:]:
        verify(new_secret, request, "a request after the rotation")
        check(event_type(request) == "score.recorded", f"a csat of 5 was announced as {event_type(request)}")
    print("after rotation: two signatures; the delivery verifies with the new secret and with the old one")

    total = len(RECEIVED.snapshot())
    print(f"webhook deliveries verified by standardwebhooks: {total} requests, all checks passed")
    server.shutdown()


if __name__ == "__main__":
    main()
