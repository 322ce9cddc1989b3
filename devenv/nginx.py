"""LocalNginx: Debian's nginx running the shipped deploy/nginx/cnpg-mcp.conf on loopback, for tests.

The site config is used as shipped; only its placeholders are substituted: __LISTEN__ (a loopback
address:port), __UPSTREAM__ (gunicorn's host:port), __CERT__ and __KEY__ (a certificate for
localhost and 127.0.0.1 made here with `cryptography`, signed by a throwaway CA whose PEM is
`ca_path`, for `requests.get(..., verify=nginx.ca_path)`). A generated main config keeps the pid
file, logs and temp files in a private directory, so nothing under /etc or /var is touched.

    with LocalNginx(upstream="127.0.0.1:8000") as nginx:
        requests.get(f"{nginx.url}/health", verify=nginx.ca_path)
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import requests

from devenv import cleanup, pki
from devenv.paths import ROOT
from devenv.process import LocalServer, ManagedProcess, ProcessExited, free_port, wait_until

SITE_CONFIG = ROOT / "deploy" / "nginx" / "cnpg-mcp.conf"
PLACEHOLDERS = ("__LISTEN__", "__UPSTREAM__", "__CERT__", "__KEY__")
_PORT_ATTEMPTS = 3


def nginx_binary() -> str:
    """Debian's nginx (apt-get install nginx): on PATH, or in /usr/sbin (not on a non-root PATH)."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise RuntimeError("nginx is not installed; run `apt-get install -y nginx`")
    return found


def render_site(template: str, *, listen: str, upstream: str, cert: Path, key: Path) -> str:
    """The site config with its placeholders replaced; fails if any placeholder is missing or left."""
    values = {"__LISTEN__": listen, "__UPSTREAM__": upstream, "__CERT__": str(cert), "__KEY__": str(key)}
    for name in PLACEHOLDERS:
        if name not in template:
            raise ValueError(f"{SITE_CONFIG} has no {name} placeholder")
        template = template.replace(name, values[name])
    return template


class LocalNginx(LocalServer):
    """nginx on https://localhost:<port> (listening on `host`, default 127.0.0.1) proxying to `upstream`.

    Attributes: port, url, ca_path, workdir; `access_log` and `error_log` paths for post-mortems.
    """

    def __init__(self, upstream: str, *, host: str = "127.0.0.1", start_timeout: float = 15.0) -> None:
        self.upstream = upstream
        self.host = host
        self.port = 0
        self._start_timeout = start_timeout
        self.ca_path = Path()

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"

    @property
    def error_log(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "error.log"

    @property
    def access_log(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "access.log"

    def __enter__(self) -> LocalNginx:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> LocalNginx:
        if self.workdir is None:
            self._first_start()
        elif self._proc is not None and not self._proc.running:
            self._proc.start()
            self._wait_ready()
        return self

    def _first_start(self) -> None:
        binary = nginx_binary()
        self.workdir = Path(tempfile.mkdtemp(prefix="cnpg-mcp-nginx-"))
        self._cleanup_key = cleanup.register(self.close)
        try:
            self._write_certificates()
            for attempt in range(_PORT_ATTEMPTS):
                self.port = free_port()
                main = self._write_configs()
                argv = [binary, "-p", f"{self.workdir}/", "-c", str(main), "-e", str(self.error_log),
                        "-g", "daemon off;"]
                self._proc = ManagedProcess("nginx", argv, self.workdir / "nginx.out")
                self._proc.start()
                try:
                    self._wait_ready()
                    break
                except ProcessExited:
                    if attempt + 1 < _PORT_ATTEMPTS and "Address already in use" in self._logs():
                        continue
                    raise
        except BaseException as exc:
            logs = self._logs()
            self.close()
            if isinstance(exc, Exception):
                raise RuntimeError(f"nginx failed to start: {exc}\n{logs}") from exc
            raise
        print(f"devenv: nginx ready at {self.url} -> http://{self.upstream}", file=sys.stderr, flush=True)

    def _write_certificates(self) -> None:
        assert self.workdir is not None
        ca = pki.make_ca("cnpg-mcp-nginx-test-ca")
        leaf = pki.issue(ca, "localhost", server=True, dns_names=("localhost",), ips=("127.0.0.1",))
        self.ca_path = self.workdir / "ca.crt"
        self.ca_path.write_bytes(ca.cert_pem)
        leaf.write(self.workdir / "tls.crt", self.workdir / "tls.key")

    def _write_configs(self) -> Path:
        assert self.workdir is not None
        site = render_site(
            SITE_CONFIG.read_text(),
            listen=f"{self.host}:{self.port}",
            upstream=self.upstream,
            cert=self.workdir / "tls.crt",
            key=self.workdir / "tls.key",
        )
        (self.workdir / "site.conf").write_text(site)
        temp = self.workdir / "temp"
        temp.mkdir(exist_ok=True)
        # As root, workers would switch to `nobody` and could not write our private temp dirs.
        user = "user root;\n" if os.geteuid() == 0 else ""
        main = self.workdir / "nginx.conf"
        main.write_text(
            f"{user}"
            "worker_processes 1;\n"
            f"pid {self.workdir}/nginx.pid;\n"
            f"error_log {self.error_log} info;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            "    include /etc/nginx/mime.types;\n"
            "    default_type application/octet-stream;\n"
            f"    access_log {self.access_log};\n"
            f"    client_body_temp_path {temp}/client_body;\n"
            f"    proxy_temp_path {temp}/proxy;\n"
            f"    fastcgi_temp_path {temp}/fastcgi;\n"
            f"    uwsgi_temp_path {temp}/uwsgi;\n"
            f"    scgi_temp_path {temp}/scgi;\n"
            f"    include {self.workdir}/site.conf;\n"
            "}\n"
        )
        return main

    def _wait_ready(self) -> None:
        # Any HTTP answer over verified TLS means nginx is serving (the upstream may not be up).
        def answering() -> bool:
            requests.get(f"{self.url}/nginx-ready", verify=str(self.ca_path), timeout=2)
            return True

        wait_until(answering, self._start_timeout, f"nginx on {self.url}", self._proc)

    def _logs(self) -> str:
        parts = []
        if self._proc is not None:
            parts.append(self._proc.log_tail())
        if self.workdir is not None and self.error_log.exists():
            parts.append("\n".join(self.error_log.read_text(errors="replace").splitlines()[-40:]))
        return "\n".join(parts)
