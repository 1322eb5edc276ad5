"""``registry:HOST/NAME[:TAG|@DIGEST]``: a daemonless pull over the OCI distribution API.

Credentials come from the docker config file (``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``):
inline ``auths`` entries or a credential helper. Loopback registries, and hosts listed in
``LAYERDIFF_INSECURE_REGISTRIES`` (comma-separated), are spoken to over plain HTTP, as the docker engine does.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.client import HTTPResponse
from typing import IO, Any

from layerdiff.errors import ImageError, ImageNotFound, UsageError
from layerdiff.image.limits import DEFAULT_LIMITS, Limits
from layerdiff.sources.base import verified_json
from layerdiff.sources.blobs import BlobImageSource, check_digest
from layerdiff.sources.json_docs import parse_json, read_bounded

DOCKER_HUB = "registry-1.docker.io"
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
TIMEOUT = 60
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class RegistryRef:
    host: str
    repository: str
    reference: str  # tag or digest

    @property
    def is_digest(self) -> bool:
        return self.reference.startswith("sha256:")


def parse_registry_ref(text: str) -> RegistryRef:
    name, _, digest = text.partition("@")
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        host, path = first, rest
    else:
        host, path = DOCKER_HUB, name
        if "/" not in path:
            path = "library/" + path
    tag = "latest"
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, tag = path.rsplit(":", 1)
    if not path or not re.fullmatch(r"[a-z0-9]+(?:[._/-][a-z0-9]+)*", path):
        raise UsageError(f"registry reference {text!r}: invalid repository name {path!r}")
    return RegistryRef(host, path, digest or tag)


def insecure_registry(host: str) -> bool:
    bare = host.rsplit(":", 1)[0].strip("[]") if not host.startswith("[") else host[1:].split("]", 1)[0]
    listed = {h.strip() for h in os.environ.get("LAYERDIFF_INSECURE_REGISTRIES", "").split(",") if h.strip()}
    if host in listed or bare == "localhost":
        return True
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        return False


class RegistrySource(BlobImageSource):
    def __init__(self, text: str, platform: str | None, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(f"registry:{text}", platform, limits)
        self.ref = parse_registry_ref(text)
        scheme = "http" if insecure_registry(self.ref.host) else "https"
        self.base_url = f"{scheme}://{self.ref.host}/v2/{self.ref.repository}"
        self._credentials = _credentials(self.ref.host)
        self._authorization: str | None = None

    def root(self) -> tuple[Any, str | None]:
        what = f"{self.reference}: manifest"
        response = self._get(f"{self.base_url}/manifests/{self.ref.reference}", MANIFEST_TYPES)
        with response:
            data = read_bounded(response, what, self.limits)
            header_digest = response.headers.get("Docker-Content-Digest")
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        expected = self.ref.reference if self.ref.is_digest else header_digest
        expected = expected if expected and expected.startswith("sha256:") else None
        return verified_json(data, expected, what, self.limits, self.warnings), digest

    def read_json(self, digest: str, what: str) -> Any:
        # Manifests live under /manifests, configs under /blobs; the config is the only JSON blob we fetch
        if "manifest" in what:
            with self._get(f"{self.base_url}/manifests/{digest}", MANIFEST_TYPES) as response:
                data = read_bounded(response, what, self.limits)
            return verified_json(data, digest, what, self.limits, self.warnings)
        return super().read_json(digest, what)

    def open_blob(self, digest: str) -> IO[bytes]:
        return self._get(f"{self.base_url}/blobs/{check_digest(digest, self.reference)}", "*/*")

    def _get(self, url: str, accept: str) -> HTTPResponse:
        for attempt in range(2):
            request = urllib.request.Request(url, headers={"Accept": accept})
            if self._authorization:
                # Unredirected: blob downloads redirect to storage that rejects a second credential.
                request.add_unredirected_header("Authorization", self._authorization)
            try:
                response: HTTPResponse = urllib.request.urlopen(request, timeout=TIMEOUT)
                return response
            except urllib.error.HTTPError as exc:
                if exc.code == 401 and attempt == 0:
                    self._authorization = self._authenticate(exc.headers.get("WWW-Authenticate", ""))
                    continue
                if exc.code == 404:
                    raise ImageNotFound(f"{self.reference}: not found in the registry ({url})") from exc
                if exc.code in (401, 403):
                    raise ImageError(
                        f"{self.reference}: the registry refused access (HTTP {exc.code})"
                    ) from exc
                raise ImageError(f"{self.reference}: registry answered HTTP {exc.code} for {url}") from exc
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise ImageError(
                    f"{self.reference}: cannot reach registry {self.ref.host} ({reason})"
                ) from exc
        raise ImageError(f"{self.reference}: the registry refused the credentials")

    def _authenticate(self, challenge: str) -> str:
        scheme, _, params_text = challenge.partition(" ")
        if scheme.lower() == "basic":
            if self._credentials is None:
                raise ImageError(
                    f"{self.reference}: the registry wants credentials; none in the docker config"
                )
            return "Basic " + base64.b64encode(":".join(self._credentials).encode()).decode()
        if scheme.lower() != "bearer":
            raise ImageError(f"{self.reference}: unsupported registry authentication {scheme!r}")
        params = dict(_CHALLENGE_PARAM.findall(params_text))
        if "realm" not in params:
            raise ImageError(f"{self.reference}: registry token challenge names no realm")
        query = {k: v for k, v in params.items() if k in ("service", "scope")}
        query.setdefault("scope", f"repository:{self.ref.repository}:pull")
        request = urllib.request.Request(params["realm"] + "?" + urllib.parse.urlencode(query))
        if self._credentials is not None:
            request.add_header(
                "Authorization", "Basic " + base64.b64encode(":".join(self._credentials).encode()).decode()
            )
        try:
            what = f"{self.reference}: registry token"
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                token = parse_json(read_bounded(response, what, self.limits), what, self.limits, [])
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ImageError(f"{self.reference}: cannot get a registry token ({exc})") from exc
        value = (token.get("token") or token.get("access_token")) if isinstance(token, dict) else None
        if not isinstance(value, str):
            raise ImageError(f"{self.reference}: the registry token service returned no token")
        return f"Bearer {value}"


def _credentials(host: str) -> tuple[str, str] | None:
    directory = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    try:
        with open(os.path.join(directory, "config.json"), encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError):
        return None
    keys = [host, f"https://{host}", f"http://{host}"]
    if host == DOCKER_HUB:
        keys += ["https://index.docker.io/v1/", "index.docker.io", "docker.io"]
    helper = next(
        (config.get("credHelpers", {}).get(k) for k in keys if k in config.get("credHelpers", {})),
        config.get("credsStore"),
    )
    for key in keys:
        entry = (config.get("auths") or {}).get(key)
        if isinstance(entry, dict) and entry.get("auth"):
            user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            return user, password
    if helper:
        return _from_helper(str(helper), keys[0] if host != DOCKER_HUB else "https://index.docker.io/v1/")
    return None


def _from_helper(helper: str, server: str) -> tuple[str, str] | None:
    try:
        done = subprocess.run(
            [f"docker-credential-{helper}", "get"],
            input=server.encode(),
            capture_output=True,
            timeout=30,
            check=False,
        )
        answer = json.loads(done.stdout) if done.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    if not isinstance(answer, dict) or not answer.get("Secret"):
        return None
    return str(answer.get("Username") or ""), str(answer["Secret"])
