"""How fast the staff pages answer, as ratios against the same server's floor.

Starts the demo practice in a temporary directory, serves it with gunicorn on loopback
(one sync worker, so requests do not compete), signs in as the demo practice manager and
times each page. The floor is /health/, the smallest Django view on the same server
(one SELECT 1), measured in the same run; the ratio is what to watch, not the
milliseconds, which depend on the machine.

    .venv/bin/python bench/staff_pages.py [--requests 100]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from harness import NoRedirect, csrf_token, free_port

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEMO_LOGIN = ("hannah@harbourhills.example", "harbour-hills-demo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page (after 10 warm-up)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="clearplan-bench-") as var_dir:
        env = {**os.environ, "CLEARPLAN_DEMO": "true", "CLEARPLAN_VAR_DIR": var_dir, "LOG_LEVEL": "WARNING"}
        env.pop("DATABASE_URL", None)
        for command in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"], ["load_demo"]):
            subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        server = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "clearplan.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
            deadline = time.monotonic() + 30
            while True:
                try:
                    opener.open(f"{base}/health/", timeout=2).read()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)

            def post(path: str, fields: dict[str, str]) -> str:
                page = opener.open(f"{base}{path}").read().decode()
                data = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf_token(page), **fields}).encode()
                request = urllib.request.Request(f"{base}{path}", data=data, headers={"Referer": f"{base}{path}"})
                try:
                    opener.open(request)
                except urllib.error.HTTPError as redirect:
                    if redirect.code in (302, 303):
                        return redirect.headers["Location"]
                    raise
                raise RuntimeError(f"POST {path} did not redirect")

            post("/accounts/login/", {"login": DEMO_LOGIN[0], "password": DEMO_LOGIN[1]})
            search_address = post("/patients/", {"q": "nguyen"})
            patient_list = opener.open(f"{base}/patients/").read().decode()
            patient_path = re.search(r'href="(/patients/[0-9a-f-]{36}/)"', patient_list).group(1)

            pages = [
                ("floor: /health/", "/health/"),
                ("Today", "/today/"),
                ("Patients list, first page", "/patients/"),
                ("Patients search by name", search_address),
                ("Patient record", patient_path),
                ("Audit log", "/settings/audit/"),
            ]
            results = []
            for label, path in pages:
                for _ in range(10):
                    opener.open(f"{base}{path}").read()
                timings = []
                for _ in range(args.requests):
                    started = time.perf_counter()
                    opener.open(f"{base}{path}").read()
                    timings.append((time.perf_counter() - started) * 1000)
                timings.sort()
                results.append((label, statistics.median(timings), timings[int(len(timings) * 0.95) - 1]))
        finally:
            server.terminate()
            server.wait(timeout=10)

    floor = results[0][1]
    print(f"{'page':34} {'median ms':>10} {'p95 ms':>8} {'× floor':>8}")
    for label, median, p95 in results:
        print(f"{label:34} {median:10.1f} {p95:8.1f} {median / floor:8.1f}")


if __name__ == "__main__":
    main()
