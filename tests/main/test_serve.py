"""`make run` end to end: `crm serve` migrates, seeds, starts Redis, a worker and the web app, and
Ctrl-C stops all of them."""
import json
import re
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_serve_starts_everything_and_stopping_it_stops_it_all(tmp_path, stop):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(INSTANCE_PATH=str(tmp_path), PORT=str(port))
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "crm", "crm", "serve", "--members", "300"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 150
        health = None
        while time.time() < deadline:
            try:
                health = _get_json(f"http://127.0.0.1:{port}/healthz")
                if health["queue"]["workers"] >= 1 and health["queue"]["last_job_at"]:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        output = (tmp_path / "serve.log").read_text()
        assert health and health["ok"], output
        assert health["database"]["engine"] == "sqlite"
        assert health["queue"]["workers"] >= 1, output
        assert health["queue"]["last_job_at"], "the worker never ran the start-up job"
        assert f"http://127.0.0.1:{port}/" in output
        assert "admin@demo.branchline.example" in output and "branchline-demo" in output
        assert (tmp_path / "branchline.db").exists()
    finally:
        if stop == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does: the whole group
        else:
            proc.send_signal(signal.SIGTERM)  # `kill PID` or a service manager: the serve process alone
        proc.wait(timeout=60)
        log.close()
    # Nothing left behind: no worker, no redis-server of ours.
    time.sleep(1)
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout.split()
    output = (tmp_path / "serve.log").read_text()
    assert leftovers == [], output
    socket_path = re.search(r"Embedded Redis started \(unix://(\S+)\)", output).group(1)
    with socket.socket(socket.AF_UNIX) as s, pytest.raises(OSError):
        s.connect(socket_path)  # the embedded redis-server is gone
