"""Webhook signatures checked by the Standard Webhooks project's own verifier (the
`standardwebhooks` package), not by code of ours: the release binary delivers a change and a test
message to a receiver on loopback, then, after a rotation, a message signed with both secrets;
each verifies under the secret the API showed, and none under a secret it did not.

    python standard-webhooks.py target/release/adal
"""

import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from standardwebhooks import Webhook, WebhookVerificationError

received = []


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        received.append((dict(self.headers.items()), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def call(base, method, path, token=None, body=None):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(req) as res:
        return json.loads(res.read() or b"null")


def wait_for(n):
    started = time.time()
    while len(received) < n:
        if time.time() - started > 30:
            sys.exit(f"standard-webhooks: only {len(received)} of {n} deliveries arrived")
        time.sleep(0.05)


def main():
    binary = sys.argv[1]
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    work = tempfile.mkdtemp(prefix="adal-standard-webhooks-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    password = "standard-webhooks-check-2024"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADAL_") and k != "DATABASE_URL"}
    env.update(DATABASE_URL=f"sqlite://{work}/adal.db", ADAL_BIND=f"127.0.0.1:{port}", ADAL_KEY_FILE=f"{work}/adal.keys",
               ADAL_ADMIN_PASSWORD=password, ADAL_LOG="warn", ADAL_WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8")
    server = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/health/ready")
                break
            except Exception:
                time.sleep(0.05)
        token = json.loads(urllib.request.urlopen(urllib.request.Request(
            base + "/api/v1/auth/token", data=f"grant_type=password&username=admin&password={password}".encode()
        )).read())["access_token"]
        hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        sub = call(base, "POST", "/api/v1/webhooks", token, {"url": hook})
        first = sub["secret"]
        call(base, "POST", "/api/v1/departments", token, {"code": "checked", "name_kk": "бөлім", "name_ru": "отдел"})
        call(base, "POST", f"/api/v1/webhooks/{sub['id']}/test", token)
        wait_for(2)
        second = call(base, "POST", f"/api/v1/webhooks/{sub['id']}/secret", token)["secret"]
        call(base, "POST", f"/api/v1/webhooks/{sub['id']}/test", token)
        wait_for(3)
        stranger = Webhook("whsec_" + "A" * 43 + "=")
        verified = 0
        for i, (headers, body) in enumerate(received):
            secrets = [first] if i < 2 else [first, second]
            for secret in secrets:
                Webhook(secret).verify(body, {k.lower(): v for k, v in headers.items()})
                verified += 1
            try:
                stranger.verify(body, {k.lower(): v for k, v in headers.items()})
                sys.exit("standard-webhooks: a signature verified under a secret the API never gave")
            except WebhookVerificationError:
                pass
        types = [json.loads(body)["type"] for _, body in received]
        # The change and the first test are about different records, so either may arrive first.
        assert sorted(types[:2]) == ["department.changed", "webhook.test"] and types[2] == "webhook.test", types
        print(f"standard-webhooks: {verified} signatures over {len(received)} deliveries verified by the standardwebhooks package")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
