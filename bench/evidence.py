#!/usr/bin/env python3
"""Evidence files on the release binary: upload and download throughput, and the server's memory
while several photos arrive at once.

    python3 bench/evidence.py sqlite|postgres

Prints a Markdown table:
- upload: BENCH_UPLOADS (20) photos of 10 MiB (the largest accepted) POSTed one after another,
  each waiting for its 201; median seconds per upload and MiB/s;
- download: each of those files read back one after another, its SHA-256 checked against the
  bytes sent; median seconds and MiB/s;
- memory: BENCH_BURSTS (5) rounds of 8 clients uploading a 10 MiB photo each at once. The
  server's VmRSS is sampled from /proc/<pid>/status in a loop during each round; the baseline is
  its RSS just before. "Growth" is (peak - baseline) / (8 x 10 MiB), the memory held per upload
  in units of the file's size. VmHWM (the kernel's own peak) is read before and after.

The photo is a JPEG header followed by random bytes (the server checks the first bytes only).
The bursts run before the sequential uploads, on a server that has taken one photo, so the first
round's growth is not hidden by memory an earlier burst left to the allocator.

PostgreSQL: BENCH_POSTGRES_URL names a server whose user may create databases.
"""

import hashlib
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

STORE = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
UPLOADS = int(os.environ.get("BENCH_UPLOADS", "20"))
BURSTS = int(os.environ.get("BENCH_BURSTS", "5"))
CLIENTS = 8
MIB = 1 << 20
SIZE = 10 * MIB
PER_EVENT = 20
PASSWORD = "bench-admin-password-2024"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE = "adal_bench_evidence"


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Client:
    """The API as the admin, logging in again before the 15-minute token runs out."""

    def __init__(self, base):
        self.base = base
        self.host, self.port = urllib.parse.urlsplit(base).netloc.split(":")
        self.token, self.since = None, 0.0

    def bearer(self):
        if self.token is None or time.time() - self.since > 600:
            self.token = json.loads(urllib.request.urlopen(urllib.request.Request(
                self.base + "/api/v1/auth/token",
                data=f"grant_type=password&username=admin&password={PASSWORD}".encode(),
            )).read())["access_token"]
            self.since = time.time()
        return "Bearer " + self.token

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("content-type", "application/json")
        req.add_header("authorization", self.bearer())
        with urllib.request.urlopen(req) as res:
            text = res.read()
            return json.loads(text) if text else None

    def request(self, method, path, body=None, headers=None):
        """One request on its own connection: (status, headers, body bytes)."""
        conn = http.client.HTTPConnection(self.host, int(self.port), timeout=300)
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}, authorization=self.bearer()))
            res = conn.getresponse()
            return res.status, res.headers, res.read()
        finally:
            conn.close()

    def upload(self, event_id, photo):
        status, _, body = self.request("POST", f"/api/v1/events/{event_id}/evidence?kind=photo", photo,
                                       {"content-type": "image/jpeg"})
        if status != 201:
            raise SystemExit(f"upload answered {status}: {body[:300]!r}")
        return json.loads(body)


def event(client, lead):
    """A held event of the administration (attendance recorded), room for 20 pieces of evidence."""
    return client.call("POST", "/api/v1/events", {
        "title": "Адалдық сағаты: дәлелдер сынағы",
        "kind": "round_table",
        "format": "in_person",
        "starts_at": "2024-03-14T15:00:00+05:00",
        "ends_at": "2024-03-14T17:00:00+05:00",
        "venue": "Қалалық жастар ресурстық орталығы",
        "audiences": ["youth", "students"],
        "organisers": [{"full_name": "Айгүл Нұрланқызы", "role": "speaker"}],
        "planned_participants": 60,
        "lead_department_id": lead,
        "attendance": {"total": 40, "basis": "sign_in_sheet"},
    })["id"]


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise SystemExit(f"no {field} for {pid}")


class Sampler(threading.Thread):
    """VmRSS of `pid`, read in a loop until stopped: the peak and how many samples were taken."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.samples, self.stopping = pid, 0, 0, threading.Event()

    def run(self):
        while not self.stopping.is_set():
            self.peak = max(self.peak, status_kib(self.pid, "VmRSS"))
            self.samples += 1
            time.sleep(0.0002)

    def stop(self):
        self.stopping.set()
        self.join()
        return self.peak


def settled_rss(pid):
    """The server's RSS at rest: the median of a few readings over 0.5 s."""
    time.sleep(1.0)
    readings = []
    for _ in range(5):
        readings.append(status_kib(pid, "VmRSS"))
        time.sleep(0.1)
    return statistics.median(readings)


def mib(kib):
    return kib / 1024


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "adal"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="adal-bench-evidence-")
    if STORE == "sqlite":
        url = f"sqlite://{work}/adal.db"
    else:
        subprocess.run(["psql", "-q", POSTGRES, "-c", f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)",
                        "-c", f"CREATE DATABASE {DATABASE}"], check=True)
        url = POSTGRES.rsplit("/", 1)[0] + "/" + DATABASE
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, DATABASE_URL=url, ADAL_BIND=f"127.0.0.1:{port}",
               ADAL_JWT_SECRET="bench-secret-0123456789abcdef0123456789", ADAL_KEY_FILE=f"{work}/adal.keys",
               ADAL_ADMIN_PASSWORD=PASSWORD, ADAL_LOG="warn", ADAL_WORKERS="2", ADAL_DB_POOL_SIZE="8")
    server = subprocess.Popen([os.path.join(ROOT, "target/release/adal"), "serve"], env=env,
                              stdout=subprocess.DEVNULL, stderr=open(f"{work}/server.log", "w"))
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/health/ready")
                break
            except Exception:
                time.sleep(0.05)
        client = Client(base)
        departments = client.call("GET", "/api/v1/departments")["items"]
        lead = next(d["id"] for d in departments if d["code"] == "administration")

        load_before = f"{os.getloadavg()[0]:.2f}"
        photo = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(SIZE - 11)
        digest = hashlib.sha256(photo).hexdigest()

        # One photo taken and read back, so what the first upload sets up is not counted.
        warm = event(client, lead)
        added = client.upload(warm, photo)
        status, _, back = client.request("GET", added["url"])
        if status != 200 or hashlib.sha256(back).hexdigest() != digest:
            raise SystemExit(f"the warm-up download answered {status} with other bytes")

        # Memory: 8 clients at once, BURSTS rounds, each round on a fresh event.
        pid = server.pid
        hwm_before = status_kib(pid, "VmHWM")
        rounds = []
        for _ in range(BURSTS):
            target = event(client, lead)
            client.bearer()
            baseline = settled_rss(pid)
            gate = threading.Barrier(CLIENTS + 1)
            failures = []

            def one():
                gate.wait()
                try:
                    client.upload(target, photo)
                except BaseException as e:  # SystemExit from a refused upload, or a broken connection
                    failures.append(e)

            threads = [threading.Thread(target=one) for _ in range(CLIENTS)]
            for t in threads:
                t.start()
            sampler = Sampler(pid)
            sampler.start()
            started = time.time()
            gate.wait()
            for t in threads:
                t.join()
            elapsed = time.time() - started
            peak = sampler.stop()
            if failures:
                raise SystemExit(f"a burst upload failed: {failures[0]}")
            rounds.append({"baseline": baseline, "peak": peak, "seconds": elapsed,
                           "rate": sampler.samples / elapsed, "hwm": status_kib(pid, "VmHWM")})
        first_baseline = rounds[0]["baseline"]
        highest = max(r["peak"] for r in rounds)
        files = CLIENTS * SIZE / 1024  # KiB
        growth = [(r["peak"] - r["baseline"]) / files for r in rounds]
        hwm_after = status_kib(pid, "VmHWM")

        # Upload throughput: one after another, 20 to an event.
        uploaded, up_times, target = [], [], None
        for n in range(UPLOADS):
            if n % PER_EVENT == 0:
                target = event(client, lead)
            client.bearer()
            started = time.perf_counter()
            added = client.upload(target, photo)
            up_times.append(time.perf_counter() - started)
            uploaded.append(added["url"])
        up = statistics.median(up_times)

        # Download throughput, each file checked against what was sent.
        down_times = []
        for path in uploaded:
            client.bearer()
            started = time.perf_counter()
            status, headers, back = client.request("GET", path)
            down_times.append(time.perf_counter() - started)
            if status != 200 or len(back) != SIZE or hashlib.sha256(back).hexdigest() != digest:
                raise SystemExit(f"download of {path} answered {status} with {len(back)} bytes not the ones sent")
        down = statistics.median(down_times)
        rss_end = status_kib(pid, "VmRSS")

        print(f"Evidence on {STORE}, release build, ADAL_WORKERS=2, ADAL_DB_POOL_SIZE=8; photo of {SIZE} bytes; "
              f"load average {load_before} at the start, {os.getloadavg()[0]:.2f} at the end\n")
        print("| measure | value |")
        print("|---|---:|")
        print(f"| upload, {UPLOADS} one after another, median | {up:.3f} s ({SIZE / MIB / up:.1f} MiB/s; "
              f"{min(up_times):.3f}–{max(up_times):.3f} s) |")
        print(f"| download, the same {UPLOADS} files, SHA-256 checked, median | {down:.3f} s "
              f"({SIZE / MIB / down:.1f} MiB/s; {min(down_times):.3f}–{max(down_times):.3f} s) |")
        print(f"| {CLIENTS} uploads at once, first round: RSS before → peak | {mib(first_baseline):.0f} → "
              f"{mib(rounds[0]['peak']):.0f} MiB |")
        print(f"| {CLIENTS} uploads at once, first round: growth per upload | "
              f"{growth[0]:.2f} × the file ({mib(rounds[0]['peak'] - first_baseline) / CLIENTS:.1f} MiB) |")
        print(f"| {CLIENTS} uploads at once, {BURSTS} rounds: growth per upload, median (max) | "
              f"{statistics.median(growth):.2f} ({max(growth):.2f}) × the file |")
        print(f"| {CLIENTS} uploads at once, highest RSS over all rounds − first baseline, per upload | "
              f"{(highest - first_baseline) / files:.2f} × the file ({mib(highest):.0f} MiB) |")
        print(f"| VmHWM before the bursts → after | {mib(hwm_before):.0f} → {mib(hwm_after):.0f} MiB |")
        print(f"| VmRSS at the end | {mib(rss_end):.0f} MiB |")
        print()
        print("Rounds (RSS before → peak MiB, growth × file, seconds for the 8, samples/s, VmHWM after MiB): " + "; ".join(
            f"{mib(r['baseline']):.0f} → {mib(r['peak']):.0f}, {g:.2f}, {r['seconds']:.2f} s, {r['rate']:.0f}/s, {mib(r['hwm']):.0f}"
            for r, g in zip(rounds, growth)))
    finally:
        server.terminate()
        server.wait()
        if STORE != "sqlite":
            subprocess.run(["psql", "-q", POSTGRES, "-c", f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"],
                           check=False)


if __name__ == "__main__":
    main()
