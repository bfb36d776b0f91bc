"""Debian's nginx in front of the web processes, configured with the README's own block.

The `nginx` code block of README.md ("Production › nginx") is taken as written; only what
cannot run on a test machine is changed: the TLS listener becomes a loopback port, the
upstream lists the test's web processes, the media alias points at the test's MEDIA_ROOT,
and the port-80 redirect server is dropped. Everything else — body caps, headers, the
websocket block, timeouts — is what an operator deploys.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from .processes import ROOT, free_port, wait_until

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def readme_nginx_block() -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"### nginx\n\n```nginx\n(.*?)```", text, re.S)
    if not match:
        raise RuntimeError("README.md has no nginx block under '### nginx'")
    return match.group(1)


def config_for_test(
    *, listen_port: int, upstream_ports: list[int], media_root: Path, prefix: Path
) -> str:
    block = readme_nginx_block()
    servers = "".join(f"    server 127.0.0.1:{port};\n" for port in upstream_ports)
    block, n = re.subn(
        r"(upstream cutroom \{[^\n]*\n)(?:\s*server [^\n]*\n)+", rf"\g<1>{servers}", block
    )
    assert n == 1, "upstream block not found"
    block = block.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{listen_port};")
    block = block.replace("alias /srv/cutroom/media/;", f"alias {media_root}/;")
    block = re.sub(r"\nserver \{ listen 80;[^\n]*\n", "\n", block)
    assert "listen 443" not in block and "listen 80" not in block
    return f"""
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 1024; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
{block}
}}
"""


class NginxProxy:
    def __init__(self, *, upstream_ports: list[int], media_root: Path, prefix: Path):
        self.port = free_port()
        self.prefix = prefix
        prefix.mkdir(parents=True, exist_ok=True)
        self.conf = prefix / "nginx.conf"
        self.conf.write_text(
            config_for_test(
                listen_port=self.port,
                upstream_ports=upstream_ports,
                media_root=media_root,
                prefix=prefix,
            )
        )
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20) -> None:
        check = subprocess.run(
            [NGINX, "-t", "-c", str(self.conf), "-p", str(self.prefix)],
            capture_output=True,
            text=True,
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx rejected the README config:\n{check.stderr}")
        log = (self.prefix / "stdout.log").open("wb")
        self.proc = subprocess.Popen(
            [NGINX, "-c", str(self.conf), "-p", str(self.prefix)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def answers():
            import httpx

            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"nginx exited: {(self.prefix / 'error.log').read_text()[-2000:]}"
                )
            return httpx.get(f"{self.url}/accounts/login/", timeout=2).status_code == 200

        wait_until(answers, timeout=timeout, what="nginx to proxy the sign-in page")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
