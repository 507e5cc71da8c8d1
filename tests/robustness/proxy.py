"""nginx from the system's packages, configured by ``deploy/nginx.conf``, in front of a real
``muster serve``: an unprivileged process with a temporary prefix, on a free loopback port."""

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.robustness.server import stop, unused_port, wait_until_healthy

DEPLOYED_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def require_nginx() -> None:
    """Skip the test without nginx, except under CI (`bash .ci/run` installs it): a fail there."""
    if not Path(NGINX).is_file():
        reason = "nginx is not installed (apt-get install nginx-light)"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


NOBODY = 65534  # the user and group nginx runs as when the tests run as root
START_TIMEOUT_SECONDS = 10

# What the system's own nginx.conf around an http-context file holds, with this prefix's paths.
MAIN_CONFIG = """\
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log notice;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/muster.conf;
}}
"""


@dataclass
class Proxy:
    process: subprocess.Popen[bytes]
    port: int
    prefix: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def error_log(self) -> str:
        return (self.prefix / "error.log").read_text(encoding="utf-8", errors="replace")


def deployed_setting(name: str) -> str:
    """The value of the directive ``name`` in deploy/nginx.conf (which sets it once)."""
    values: list[str] = re.findall(
        rf"^\s*{name}\s+([^;]+);", DEPLOYED_CONFIG.read_text(), re.MULTILINE
    )
    [value] = values
    return value


def deployed_seconds(name: str) -> float:
    value = deployed_setting(name)
    assert value.endswith("s"), f"{name} {value}: write it in seconds"
    return float(value.removesuffix("s"))


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"deploy/nginx.conf should hold {old!r} once"
    return text.replace(old, new)


@contextmanager
def nginx_in_front(upstream_port: int) -> Iterator[Proxy]:
    """nginx with deploy/nginx.conf, passing requests to Muster on ``upstream_port``, once it
    answers ``/healthz``; stopped at the end."""
    port = unused_port()
    with tempfile.TemporaryDirectory(prefix="muster-nginx-") as folder:
        prefix = Path(folder)
        site = DEPLOYED_CONFIG.read_text()
        site = _replace_once(site, "server api:8000;", f"server 127.0.0.1:{upstream_port};")
        site = _replace_once(site, "listen 8080;", f"listen 127.0.0.1:{port};")
        (prefix / "muster.conf").write_text(site)
        (prefix / "nginx.conf").write_text(MAIN_CONFIG.format(prefix=prefix))
        as_root = os.geteuid() == 0
        if as_root:  # nginx need not, and should not, run as root
            os.chown(prefix, NOBODY, NOBODY)
        command = [NGINX, "-p", str(prefix), "-e", str(prefix / "error.log")]
        command += ["-c", str(prefix / "nginx.conf")]
        process = subprocess.Popen(
            command,
            stderr=subprocess.PIPE,
            user=NOBODY if as_root else None,
            group=NOBODY if as_root else None,
        )
        proxy = Proxy(process, port, prefix)
        try:
            wait_until_healthy(
                proxy.base_url, process, START_TIMEOUT_SECONDS, lambda: _exited(proxy), "nginx"
            )
            yield proxy
        finally:
            stop(process)


def _exited(proxy: Proxy) -> str:
    stderr = proxy.process.stderr.read().decode() if proxy.process.stderr else ""
    return f"nginx exited: {stderr} {proxy.error_log()[-2000:]}"
