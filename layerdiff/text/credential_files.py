"""Which files hold credentials, told by their path: the format their content is read as
(``credential_format``, which the indexer's credential scan follows), the files the indexer reads for it
(``CREDENTIAL_PATTERNS``), and what a file is for a reviewer (``file_kind``; ``secret_file_kind`` for the
files that are credentials whatever they hold, reported even when their content could not be read).
"""

from __future__ import annotations

import posixpath
import re

# Formats of the credential scan (layerdiff.index.credentials)
PIP, PYPIRC, NPMRC, NETRC, DOCKER, GIT, AWS, KUBECONFIG, PGPASS, KEY = (
    "pip",
    "pypirc",
    "npmrc",
    "netrc",
    "docker",
    "git-credentials",
    "aws",
    "kubeconfig",
    "pgpass",
    "key",
)
_BY_NAME = {
    "pip.conf": PIP,
    "pip.ini": PIP,
    ".pypirc": PYPIRC,
    ".npmrc": NPMRC,
    ".netrc": NETRC,
    "_netrc": NETRC,
    ".git-credentials": GIT,
    ".pgpass": PGPASS,
    ".dockercfg": DOCKER,
    "kubeconfig": KUBECONFIG,
}
_BY_SUFFIX = (
    ("/etc/npmrc", NPMRC),  # npm's global config, $PREFIX/etc/npmrc
    ("/.docker/config.json", DOCKER),
    ("/git/credentials", GIT),  # $XDG_CONFIG_HOME/git/credentials
    ("/.aws/credentials", AWS),
    ("/.aws/config", AWS),
    ("/.kube/config", KUBECONFIG),
    (".kubeconfig", KUBECONFIG),
)
_KUBERNETES_CONF = re.compile(r"^/etc/kubernetes/[^/]+\.conf$")  # admin.conf, kubelet.conf
_KEY_SUFFIXES = (".pem", ".key", ".p8", ".ppk")
_PUBLIC_SSH_FILES = frozenset(
    {"known_hosts", "known_hosts.old", "authorized_keys", "authorized_keys2", "config", "environment"}
)
# Where key-looking file names are test fixtures or public keys, not credentials
_KEY_FIXTURE_DIRS = re.compile(
    r"/(?:site-packages|dist-packages|node_modules|keyrings|trusted\.gpg\.d)/|^/usr/share/"
)
# What the indexer reads for the scan (fnmatch over the absolute path, "*" matching "/" too): a superset of
# what credential_format accepts, which has the last word.
CREDENTIAL_PATTERNS = (
    "*/pip.conf",
    "*/pip.ini",
    "*/.pypirc",
    "*/.npmrc",
    "*/etc/npmrc",
    "*/.netrc",
    "*/_netrc",
    "*/.docker/config.json",
    "*/.dockercfg",
    "*/.git-credentials",
    "*/git/credentials",
    "*/.aws/credentials",
    "*/.aws/config",
    "*/.kube/config",
    "*/kubeconfig",
    "*.kubeconfig",
    "/etc/kubernetes/*.conf",
    "*/.pgpass",
    "*/.ssh/*",
    *(f"*{suffix}" for suffix in _KEY_SUFFIXES),
)

_FORMAT_KINDS = {
    PIP: "pip configuration",
    PYPIRC: ".pypirc (package index credentials)",
    NPMRC: ".npmrc (npm configuration)",
    NETRC: ".netrc (login credentials)",
    DOCKER: "docker config (registry auths)",
    GIT: "git credentials",
    AWS: "AWS credentials file",
    KUBECONFIG: "kubeconfig",
    PGPASS: ".pgpass (PostgreSQL passwords)",
    KEY: "private key",
}


def credential_format(path: str) -> str | None:
    """The format a file's content is scanned for credentials as, by its path; None when it is no
    credential file (or a package's test key, a keyring)."""
    name = posixpath.basename(path)
    if name in _BY_NAME:
        return _BY_NAME[name]
    for suffix, found in _BY_SUFFIX:
        if path.endswith(suffix):
            return found
    if _KUBERNETES_CONF.match(path):
        return KUBECONFIG
    if _KEY_FIXTURE_DIRS.search(path):
        return None
    in_ssh = posixpath.basename(posixpath.dirname(path)) == ".ssh"
    if in_ssh and not name.endswith(".pub") and name not in _PUBLIC_SSH_FILES:
        return KEY
    if name.lower().endswith(_KEY_SUFFIXES):
        return KEY
    return None


def file_kind(path: str, credential_format: str | None) -> str:
    """What a file that holds a credential is, for a reviewer."""
    return secret_file_kind(path) or _FORMAT_KINDS.get(credential_format or "", "credential file")


_SSH_IDENTITIES = frozenset(
    {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk", "identity"}
)
_SECRET_FILE_SUFFIXES = (  # matched against the end of the path
    ("/.netrc", ".netrc (login credentials)"),
    ("/_netrc", ".netrc (login credentials)"),
    ("/.pypirc", ".pypirc (package index credentials)"),
    ("/.git-credentials", "git credentials"),
    ("/git/credentials", "git credentials"),
    ("/.docker/config.json", "docker config (registry auths)"),
    ("/.dockercfg", "docker config (registry auths)"),
    ("/.aws/credentials", "AWS credentials file"),
    ("/.kube/config", "kubeconfig"),
    ("/.pgpass", ".pgpass (PostgreSQL passwords)"),
    ("/gcloud/application_default_credentials.json", "GCP credentials"),
    ("/gcloud/credentials.db", "GCP credentials"),
)
_SERVICE_ACCOUNT_FILE = re.compile(r".*service[-_]?account.*\.json$")
_KEY_FILE = re.compile(r".*(?:\.key|\.p12|\.pfx|\.ppk|priv(?:ate)?[-_]?key.*\.pem)$")


def secret_file_kind(path: str) -> str | None:
    """What credential a file is by its path alone: a file whose only purpose is to hold credentials (a
    netrc, an SSH identity, a ``*.key``), reported even when its content is not read."""
    name = posixpath.basename(path)
    if name in _SSH_IDENTITIES and "/.ssh/" in path:
        return "private key (SSH identity)"
    for suffix, kind in _SECRET_FILE_SUFFIXES:
        if path.endswith(suffix):
            return kind
    lower = name.lower()
    if _SERVICE_ACCOUNT_FILE.match(lower) and not _KEY_FIXTURE_DIRS.search(path):
        return "GCP service account JSON"
    if _KEY_FILE.match(lower) and not _KEY_FIXTURE_DIRS.search(path):
        return "private key"
    return None
