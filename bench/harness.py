"""What the benchmarks share: a throwaway PostgreSQL database, gunicorn on a free loopback port,
a signed-in staff session, and timing a page against the same server's floor.

Every benchmark measures against a floor taken in the same run (usually /health/), so the ratio
is what to read, not the milliseconds, which depend on the machine.
"""

from __future__ import annotations

import http.cookiejar
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


def percentile(timings: list[float], share: float) -> float:
    ordered = sorted(timings)
    return ordered[max(0, int(len(ordered) * share + 0.5) - 1)]


def postgres_url(database: str) -> str:
    return f"postgres://postgres@127.0.0.1:5432/{database}"


def recreate_postgres_database(database: str, *, drop_only: bool = False) -> None:
    """An empty database of this name on the local server (dropped only, with drop_only)."""
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {database}")
        if not drop_only:
            connection.execute(f"CREATE DATABASE {database}")


@contextmanager
def gunicorn(
    env: dict[str, str], *, port: int | None = None, workers: int = 1, extra: tuple[str, ...] = ()
) -> Iterator[str]:
    """Serve Clearplan with gunicorn on loopback until the block ends; yields the base address once
    /health/ answers."""
    port = port or free_port()
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "clearplan.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/health/", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def signed_in(base: str, login: tuple[str, str]) -> urllib.request.OpenerDirector:
    """An opener holding a staff session, signed in through the real sign-in form."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    page = opener.open(f"{base}/accounts/login/").read().decode()
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf_token(page), "login": login[0], "password": login[1]})
    try:
        opener.open(
            urllib.request.Request(
                f"{base}/accounts/login/", data=data.encode(), headers={"Referer": f"{base}/accounts/login/"}
            )
        )
    except urllib.error.HTTPError as redirect:
        if redirect.code not in (302, 303):
            raise
        return opener
    raise RuntimeError("signing in did not redirect")


def time_page(opener: urllib.request.OpenerDirector, url: str, requests: int) -> tuple[float, float]:
    """(median, 95th percentile) in milliseconds over `requests` timed requests, after 10 to warm up."""
    for _ in range(10):
        opener.open(url).read()
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = opener.open(url)
        response.read()
        timings.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise RuntimeError(f"{url} answered {response.status}")
    return statistics.median(timings), percentile(timings, 0.95)
