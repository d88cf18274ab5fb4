"""How fast the patient's pack page is served, against a minimal Django view on the same server.

Starts the demo practice in a temporary directory and serves it with gunicorn on loopback. Opens
the demo patient's link, verifies with the date of birth, and then, with 32 connections kept open
at once, requests the pack page for a fixed time; then the same for /health/ (one SELECT 1, the
smallest Django view) on the same server in the same run. Prints requests per second and p50/p99
latency for both, and the pack page's throughput as a share of the minimal view's.

Every pack page request does what a real one does: checks the session, writes the audit row and
the visit row, and serves the frozen page. Target: at least 50% of the minimal view's throughput.

    .venv/bin/python bench/pack_page.py [--seconds 10] [--connections 32] [--workers 2] [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from harness import free_port, postgres_url, recreate_postgres_database

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
POSTGRES_DATABASE = "clearplan_bench"
POSTGRES_URL = postgres_url(POSTGRES_DATABASE)


class Connection:
    """One HTTP/1.1 keep-alive connection, enough HTTP for this benchmark."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        cookies: dict[str, str],
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", "User-Agent: Mozilla/5.0 (iPhone) bench"]
        if cookies:
            lines.append("Cookie: " + "; ".join(f"{name}={value}" for name, value in cookies.items()))
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body:
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        response_headers: dict[str, str] = {}
        set_cookies: list[str] = []
        while True:
            line = (await self.reader.readline()).decode("latin-1").rstrip("\r\n")
            if not line:
                break
            name, _, value = line.partition(":")
            if name.lower() == "set-cookie":
                set_cookies.append(value.strip())
            response_headers[name.lower()] = value.strip()
        for cookie in set_cookies:
            pair = cookie.split(";", 1)[0]
            key, _, value = pair.partition("=")
            cookies[key.strip()] = value.strip()
        if "content-length" in response_headers:
            payload = await self.reader.readexactly(int(response_headers["content-length"]))
        elif response_headers.get("transfer-encoding", "").lower() == "chunked":
            payload = b""
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                if size == 0:
                    await self.reader.readline()
                    break
                payload += await self.reader.readexactly(size)
                await self.reader.readline()
        else:
            payload = await self.reader.read()
            self.close()
        if response_headers.get("connection", "").lower() == "close":
            self.close()
        return status, response_headers, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def form_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no CSRF token on the verification page")
    return match.group(1)


async def verified_cookies(port: int, link_path: str, birth_date: str) -> dict[str, str]:
    """Open the link, then answer the date-of-birth question, as the patient's phone would."""
    cookies: dict[str, str] = {}
    connection = Connection(port)
    status, headers, _ = await connection.request("GET", link_path, cookies=cookies)
    if status != 302:
        raise RuntimeError(f"opening the link gave {status}")
    clean_path = urllib.parse.urlsplit(headers["location"]).path
    status, _, page = await connection.request("GET", clean_path, cookies=cookies)
    html = page.decode()
    year, month, day = birth_date.split("-")
    fields = {"csrfmiddlewaretoken": form_token(html), "day": day, "month": month, "year": year}
    action = re.search(r'<form[^>]*method="post"[^>]*action="([^"]+)"', html)
    target = action.group(1) if action else clean_path
    body = urllib.parse.urlencode(fields).encode()
    status, _, _ = await connection.request(
        "POST",
        target,
        cookies=cookies,
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": f"http://127.0.0.1:{port}"},
    )
    status, _, page = await connection.request("GET", clean_path, cookies=cookies)
    if status != 200 or b'data-pack-section="options"' not in page:
        raise RuntimeError("the date of birth did not open the pack")
    connection.close()
    return cookies


async def load(port: int, path: str, cookies: dict[str, str], connections: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    failures = 0
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal failures
        connection = Connection(port)
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            try:
                status, _, _ = await connection.request("GET", path, cookies=dict(cookies))
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                failures += 1
                connection.close()
                continue
            if status != 200:
                failures += 1
            latencies.append((time.perf_counter() - started) * 1000)
        connection.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "failures": failures,
        "rps": len(latencies) / elapsed,
        "p50": latencies[len(latencies) // 2],
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="time under load per page (after a warm-up)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="clearplan-bench-") as var_dir:
        env = {**os.environ, "CLEARPLAN_DEMO": "true", "CLEARPLAN_VAR_DIR": var_dir, "LOG_LEVEL": "WARNING"}
        env.pop("DATABASE_URL", None)
        if args.database == "postgres":
            env["DATABASE_URL"] = POSTGRES_URL
            recreate_postgres_database(POSTGRES_DATABASE)
        for command in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"], ["load_demo"]):
            subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        printed = subprocess.run(
            [PYTHON, "manage.py", "load_demo", "--print-logins", "--url", f"http://127.0.0.1:{port}/"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        link = re.search(r"http://127\.0\.0\.1:\d+(/p/[A-Za-z0-9_-]+)", printed)
        birth = re.search(r"date of birth[^0-9]*(\d{1,2}) (\w+) (\d{4})", printed)
        if not link or not birth:
            raise RuntimeError("load_demo --print-logins printed no patient link and date of birth")
        month = time.strptime(birth.group(2)[:3], "%b").tm_mon
        birth_date = f"{birth.group(3)}-{month:02d}-{int(birth.group(1)):02d}"
        server = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "clearplan.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
                "--worker-class",
                "gthread",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)

            async def run() -> list[tuple[str, dict[str, float]]]:
                cookies = await verified_cookies(port, link.group(1), birth_date)
                results = []
                for label, path, jar in (
                    ("minimal view: /health/", "/health/", {}),
                    ("pack page: /p/", "/p/", cookies),
                ):
                    await load(port, path, jar, args.connections, min(3.0, args.seconds))  # warm-up
                    results.append((label, await load(port, path, jar, args.connections, args.seconds)))
                return results

            results = asyncio.run(run())
        finally:
            server.terminate()
            server.wait(timeout=10)
            if args.database == "postgres":
                recreate_postgres_database(POSTGRES_DATABASE, drop_only=True)

    print(
        f"gunicorn gthread, {args.workers} workers × {args.threads} threads, {args.connections} connections, "
        f"{args.seconds:.0f} s per page, {args.database}"
    )
    print(f"{'page':26} {'requests':>9} {'failed':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for label, figures in results:
        print(
            f"{label:26} {figures['requests']:9.0f} {figures['failures']:7.0f} {figures['rps']:8.1f} "
            f"{figures['p50']:8.1f} {figures['p99']:8.1f}"
        )
    floor, pack = results[0][1], results[1][1]
    print(f"pack page throughput = {pack['rps'] / floor['rps']:.0%} of the minimal view (target: at least 50%)")


if __name__ == "__main__":
    main()
