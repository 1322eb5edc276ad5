"""Credentials planted in every kind of credential file and of build instruction layerdiff recognises, each
with a value of its own (so that a leak names its source) and a look-alike without a credential (no value,
or a placeholder such as ``${NPM_TOKEN}``) that must not be reported."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.support.imagebuilder import F, Image, layer_tar
from tests.support.pairs import AIRFLOW_UID, derived


@dataclass(frozen=True)
class PlantedFile:
    path: str  # absolute
    content: str  # with {secret} where the value goes
    secret: str
    kind: str  # the kind of credential the finding names
    line: int  # the line it is on
    clean: str  # the same file without a credential

    @property
    def text(self) -> str:
        return self.content.replace("{secret}", self.secret)

    def entry(self, clean: bool = False) -> F:
        data = (self.clean if clean else self.text).encode()
        owner = AIRFLOW_UID if self.path.startswith("/home/airflow/") else 0
        return F(self.path.lstrip("/"), data, mode=0o600, uid=owner)


FILES = (
    PlantedFile(
        "/etc/pip.conf",
        "[global]\ntimeout = 60\nindex-url = https://deploy:{secret}@pypi.example.com/simple\n",
        "pipconf-pw-4Gq8Lm",
        "URL with a password",
        3,
        "[global]\ntimeout = 60\nindex-url = https://pypi.example.com/simple\n",
    ),
    PlantedFile(
        "/home/airflow/.config/pip/pip.ini",
        "[global]\nextra-index-url =\n    https://pypi.org/simple\n    https://{secret}@pkgs.example.com/simple\n",
        "piptok3nAsUser7Hq2Lx9Zr4",
        "URL with a token",
        4,
        "[global]\nextra-index-url =\n    https://pypi.org/simple\n    https://${PIP_TOKEN}@pkgs.example.com/simple\n",
    ),
    PlantedFile(
        "/root/.pypirc",
        "[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\npassword = {secret}\n",
        "pypi-AgEIcHlwaS5vcmcCJDk3Zjc5NTFjLTFiY2UtNDQ5ZC05NTQ5LTIxMWU4",
        "PyPI API token",
        6,
        "[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\n",
    ),
    PlantedFile(
        "/home/airflow/.npmrc",
        "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={secret}\n",
        "npmrc-authtoken-3Kd8Wm1Qs6",
        "npm auth token",
        2,
        "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n",
    ),
    PlantedFile(
        "/usr/local/etc/npmrc",
        "always-auth=true\n_auth={secret}\n",
        "bnBtYXV0aDpucG1wYXNzd29yZDk=",
        "npm auth (base64 user:password)",
        2,
        "always-auth=true\n",
    ),
    PlantedFile(
        "/opt/app/.npmrc",
        "//npm.example.com/:username=ci\n//npm.example.com/:_password={secret}\n",
        "bnBtcGFzc3dvcmQtNVRiN05jMlZ5OA==",
        "npm base64 password",
        2,
        "//npm.example.com/:username=ci\n//npm.example.com/:_password=\n",
    ),
    PlantedFile(
        "/home/airflow/.netrc",
        "machine pypi.example.com\n  login ci\n  password {secret}\n",
        "netrcpw-6Rt9Yu2Io5",
        "netrc password",
        3,
        "machine pypi.example.com\n  login ci\n",
    ),
    PlantedFile(
        "/root/.docker/config.json",
        '{\n  "auths": {\n    "registry.example.com": {\n      "auth": "{secret}"\n    }\n  }\n}\n',
        "ZGVwbG95OmRvY2tlcnB3LTJYczVEZjhHaDM=",
        "registry auth (base64 user:password)",
        4,
        '{\n  "auths": {\n    "registry.example.com": {}\n  },\n  "credsStore": "ecr-login"\n}\n',
    ),
    PlantedFile(
        "/home/airflow/.docker/config.json",
        '{"auths": {"ghcr.io": {"auth": "", "identitytoken": "{secret}"}}}',
        "identitytoken-8Ws1Ex4Rc7",
        "registry identity token",
        1,
        '{"auths": {"ghcr.io": {"auth": "", "identitytoken": ""}}, "credHelpers": {"gcr.io": "gcloud"}}',
    ),
    PlantedFile(
        "/home/airflow/.git-credentials",
        "https://ci:{secret}@github.com\n",
        "gitcredpw-1Az3Sx5Dc7",
        "URL with a password",
        1,
        "https://ci@github.com\n",
    ),
    PlantedFile(
        "/root/.aws/credentials",
        "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {secret}\n",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYawssecret",
        "AWS secret access key",
        3,
        "[default]\ncredential_process = /usr/local/bin/fetch-credentials\n",
    ),
    PlantedFile(
        "/home/airflow/.aws/credentials",
        "[ci]\naws_session_token = {secret}\n",
        "FwoGZXIvYXdzEBYaDsessiontoken9Pf4",
        "AWS session token",
        2,
        "[ci]\naws_session_token =\n",
    ),
    PlantedFile(
        "/root/.kube/config",
        "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: {secret}\n",
        "kubetoken-eyJhbGciOiJSUzI1NiIs5Tb7",
        "kubeconfig bearer token",
        6,
        "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    exec:\n      command: aws\n",
    ),
    PlantedFile(
        "/etc/kubernetes/admin.conf",
        "users:\n- name: admin\n  user:\n    client-certificate-data: Q0VSVA==\n"
        "    client-key-data: {secret}\n",
        "S0VZREFUQS1jbGllbnRrZXktN0hxMg==",
        "kubeconfig client key",
        5,
        "users:\n- name: admin\n  user:\n    client-certificate-data: Q0VSVA==\n",
    ),
    PlantedFile(
        "/home/airflow/.pgpass",
        "# host:port:database:user:password\ndb.example.com:5432:airflow:airflow:{secret}\n",
        "pgpasspw-4Fv6Gb8Hn0",
        "PostgreSQL password",
        2,
        "# host:port:database:user:password\ndb.example.com:5432:airflow:airflow:\n",
    ),
    PlantedFile(
        "/opt/app/tls/server.pem",
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"
        "-----BEGIN PRIVATE KEY-----\n{secret}\n-----END PRIVATE KEY-----\n",
        "MIIEvQIBADANBgkqhkiG9w0pemkeybody",
        "private key (PEM)",
        4,
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n",
    ),
    PlantedFile(
        "/home/airflow/.ssh/id_ed25519",
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{secret}\n-----END OPENSSH PRIVATE KEY-----\n",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUopensshbody",
        "private key (OpenSSH)",
        1,
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPublicKeyOnly ci@example.com\n",
    ),
)


@dataclass(frozen=True)
class PlantedInstruction:
    command: str  # a RUN's shell command (or a whole history line, when it starts with "|"), {secret} in it
    secret: str
    kind: str
    clean: str  # the same command with the credential passed the safe way

    @property
    def text(self) -> str:
        return self.command.replace("{secret}", self.secret)

    def created_by(self, clean: bool = False) -> str:
        command = self.clean if clean else self.text
        return command if command.startswith("|") else f"/bin/sh -c {command}"


INSTRUCTIONS = (
    PlantedInstruction(
        "pip install --index-url https://deploy:{secret}@pypi.example.com/simple private-pkg",
        "runurlpw-5Tb7Nc2Vy8",
        "URL with a password",
        "pip install --index-url https://deploy:${PIP_PASSWORD}@pypi.example.com/simple private-pkg",
    ),
    PlantedInstruction(
        "twine upload --username ci --password {secret} dist/*",
        "twinepw-7Uj9Ik1Ol3",
        "flag with a password",
        "twine upload --username ci --password $TWINE_PASSWORD dist/*",
    ),
    PlantedInstruction(
        "gh-release publish --token={secret} v1",
        "ghreleasetok-2Wd4Rf6Tg8",
        "flag with a token",
        "gh-release publish --token-file /run/secrets/release v1",
    ),
    PlantedInstruction(
        "docker login -u ci -p {secret} registry.example.com && docker pull registry.example.com/x",
        "dockerloginpw-3Ed5Rt7Yu9",
        "flag with a password",
        "docker login -u ci --password-stdin registry.example.com < /run/secrets/registry",
    ),
    PlantedInstruction(
        "|1 NPM_TOKEN={secret} /bin/sh -c npm ci",
        "argnpmtoken-9Ol1Ik3Uj5",
        "credential variable",
        "|1 NPM_TOKEN= /bin/sh -c npm ci",
    ),
    PlantedInstruction(
        "export DEPLOY_SECRET={secret} && ./deploy.sh",
        "exportsecret-6Yh8Tg0Rf2",
        "credential variable",
        'export DEPLOY_SECRET="$(cat /run/secrets/deploy)" && ./deploy.sh',
    ),
    PlantedInstruction(
        "curl -fsSL -H 'Authorization: Bearer {secret}' https://api.example.com/artifact -o /tmp/a",
        "bearertok-4Rf6Tg8Yh0",
        "credential header",
        'curl -fsSL -H "Authorization: Bearer ${API_TOKEN}" https://api.example.com/artifact -o /tmp/a',
    ),
    PlantedInstruction(
        "mysql -h db -u root -p{secret} -e 'select 1'",
        "mysqlpw-1Qa3Ws5Ed7",
        "flag with a password",
        "mysql -h db -u root -p -e 'select 1'",
    ),
    PlantedInstruction(
        "curl -u ci:{secret} https://artifacts.example.com/x.tgz -o /tmp/x.tgz",
        "curluserpw-8Ik0Ol2Pa4",
        "curl user and password",
        "curl -u ci https://artifacts.example.com/x.tgz -o /tmp/x.tgz",
    ),
    PlantedInstruction(
        'echo "machine pypi.example.com login ci password {secret}" > /root/.netrc',
        "echonetrcpw-0Pl2Ok4Ij6",
        "netrc password",
        'echo "machine pypi.example.com login ci" > /root/.netrc',
    ),
    PlantedInstruction(
        "npm config set //registry.npmjs.org/:_authToken {secret}",
        "npmconfigtok-5Hn7Jm9Kl1",
        "credential setting",
        "npm config set //registry.npmjs.org/:_authToken '${NPM_TOKEN}'",
    ),
)

SECRETS = tuple(planted.secret for planted in (*FILES, *INSTRUCTIONS))


def credential_image(clean: bool = False) -> Image:
    """The airflow-like base plus one layer holding every planted file, and one RUN per planted instruction
    (each writing a layer of its own); with ``clean``, the look-alikes without credentials."""
    files = layer_tar([planted.entry(clean) for planted in FILES])
    runs = [layer_tar([F(f"tmp/step{index}", b"")]) for index in range(len(INSTRUCTIONS))]
    history: list[dict[str, Any]] = [{"created_by": "/bin/sh -c #(nop) COPY dir:abc in / "}]
    history += [{"created_by": planted.created_by(clean)} for planted in INSTRUCTIONS]
    return derived([files, *runs], history)
