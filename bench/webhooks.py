#!/usr/bin/env python3
"""Webhook delivery on the release binary, against a receiver on loopback.

    python3 bench/webhooks.py sqlite|postgres

Prints a Markdown table:
- latency, commit to receiver: 1,000 changes made one after another (each waits for its 201), each
  message's delivery time minus the instant its body was rendered at commit (same clock), p50/p99;
- throughput: 1,000 changes made by 8 clients at once, from the first commit to the last delivery;
- what the outbox costs a write: wrk POSTing events (bench/create.lua) with no subscription, with a
  subscription to a type no create makes (the outbox looks and writes nothing), and with one that
  receives every create (a message written and delivered per create). BENCH_ROUNDS interleaved
  rounds of BENCH_DURATION seconds each; medians.

Needs Debian's wrk. PostgreSQL: BENCH_POSTGRES_URL names a server whose user may create databases.
"""

import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime

STORE = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
DURATION = int(os.environ.get("BENCH_DURATION", "5"))
CHANGES = int(os.environ.get("BENCH_CHANGES", "1000"))
PASSWORD = "bench-admin-password-2024"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

arrivals = {}
lock = threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        at = time.time()
        with lock:
            arrivals.setdefault(self.headers["webhook-id"], (at, body))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def call(base, method, path, token=None, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req) as res:
        text = res.read()
        return json.loads(text) if text else None, res.headers


def rendered_at(body):
    return datetime.fromisoformat(json.loads(body)["timestamp"].replace("Z", "+00:00")).timestamp()


def wait_for(n, limit=120):
    started = time.time()
    while time.time() - started < limit:
        with lock:
            if len(arrivals) >= n:
                return
        time.sleep(0.01)
    raise SystemExit(f"only {len(arrivals)} of {n} deliveries arrived")


def department(base, token, code):
    call(base, "POST", "/api/v1/departments", token, {"code": code, "name_kk": "бөлім", "name_ru": "отдел"})


def drained(base):
    """Waits until the outbox is empty, so a run is not slowed by the last one's deliveries."""
    for _ in range(6000):
        metrics = urllib.request.urlopen(base + "/metrics").read().decode()
        if "adal_webhook_queue_depth 0\n" in metrics:
            return
        time.sleep(0.05)
    raise SystemExit("the outbox did not drain")


def wrk(base, token):
    drained(base)
    out = subprocess.run(
        ["wrk", "-t2", "-c8", f"-d{DURATION}s", "-s", os.path.join(ROOT, "bench/create.lua"),
         "-H", f"Authorization: Bearer {token}", base + "/api/v1/events"],
        capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("Requests/sec"))
    return float(line.split()[1])


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "adal"], cwd=ROOT, check=True)
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    work = tempfile.mkdtemp(prefix="adal-bench-webhooks-")
    if STORE == "sqlite":
        url = f"sqlite://{work}/adal.db"
    else:
        server = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
        subprocess.run(["psql", "-q", server, "-c", "DROP DATABASE IF EXISTS adal_bench_webhooks WITH (FORCE)",
                        "-c", "CREATE DATABASE adal_bench_webhooks"], check=True)
        url = server.rsplit("/", 1)[0] + "/adal_bench_webhooks"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, DATABASE_URL=url, ADAL_BIND=f"127.0.0.1:{port}",
               ADAL_JWT_SECRET="bench-secret-0123456789abcdef0123456789", ADAL_KEY_FILE=f"{work}/adal.keys",
               ADAL_ADMIN_PASSWORD=PASSWORD, ADAL_LOG="warn", ADAL_WORKERS="2", ADAL_DB_POOL_SIZE="8",
               ADAL_WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8")
    server = subprocess.Popen([os.path.join(ROOT, "target/release/adal"), "serve"], env=env,
                              stdout=subprocess.DEVNULL, stderr=open(f"{work}/server.log", "w"))
    try:
        for _ in range(200):
            try:
                call(base, "GET", "/health/ready")
                break
            except Exception:
                time.sleep(0.05)
        token = json.loads(urllib.request.urlopen(urllib.request.Request(
            base + "/api/v1/auth/token", data=f"grant_type=password&username=admin&password={PASSWORD}".encode()
        )).read())["access_token"]

        # Latency: one change at a time.
        sub, _ = call(base, "POST", "/api/v1/webhooks", token, {"url": hook, "event_types": ["department.changed"]})
        for n in range(CHANGES):
            department(base, token, f"seq-{n}")
        wait_for(CHANGES)
        with lock:
            latencies = sorted((at - rendered_at(body)) * 1000 for at, body in arrivals.values())
            arrivals.clear()
        p50 = statistics.median(latencies)
        p99 = latencies[int(len(latencies) * 0.99) - 1]

        # Throughput: 8 clients at once.
        started = time.time()
        def burst(k):
            for n in range(k, CHANGES, 8):
                department(base, token, f"par-{n}")
        threads = [threading.Thread(target=burst, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        written = time.time() - started
        wait_for(CHANGES)
        with lock:
            first = min(rendered_at(body) for _, body in arrivals.values())
            last = max(at for at, _ in arrivals.values())
            arrivals.clear()
        throughput = CHANGES / (last - first)

        # What the outbox costs a write.
        _, headers = call(base, "GET", f"/api/v1/webhooks/{sub['id']}", token)
        etag = headers["etag"]
        def patch(change):
            nonlocal etag
            req = urllib.request.Request(base + f"/api/v1/webhooks/{sub['id']}", method="PATCH",
                                         data=json.dumps(change).encode())
            req.add_header("authorization", "Bearer " + token)
            req.add_header("content-type", "application/merge-patch+json")
            req.add_header("if-match", etag)
            with urllib.request.urlopen(req) as res:
                etag = res.headers["etag"]
        cases = {"no subscription": [], "a subscription to other types": [], "a subscription to every create": []}
        for _ in range(ROUNDS):
            patch({"active": False})
            cases["no subscription"].append(wrk(base, token))
            patch({"active": True, "event_types": ["plan.changed"]})
            cases["a subscription to other types"].append(wrk(base, token))
            patch({"event_types": ["event.created"]})
            cases["a subscription to every create"].append(wrk(base, token))
        plain = statistics.median(cases["no subscription"])

        print(f"Webhooks on {STORE}, release build, receiver on loopback ({CHANGES} changes; wrk {ROUNDS} rounds of {DURATION} s, 8 connections)\n")
        print("| measure | value |")
        print("|---|---:|")
        print(f"| latency commit → receiver, one change at a time, p50 | {p50:.1f} ms |")
        print(f"| latency commit → receiver, one change at a time, p99 | {p99:.1f} ms |")
        print(f"| {CHANGES} changes by 8 clients: written in | {written:.2f} s |")
        print(f"| {CHANGES} changes by 8 clients: first commit → last delivery | {last - first:.2f} s ({throughput:.0f} deliveries/s) |")
        for name, values in cases.items():
            median = statistics.median(values)
            rounds = ", ".join(f"{v:.0f}" for v in values)
            print(f"| POST /events, {name} | {median:.1f} req/s ({median / plain:.2f}; rounds: {rounds}) |")
    finally:
        server.terminate()
        server.wait()
        if STORE != "sqlite":
            subprocess.run(["psql", "-q", os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
                            "-c", "DROP DATABASE IF EXISTS adal_bench_webhooks WITH (FORCE)"], check=False)


if __name__ == "__main__":
    main()
