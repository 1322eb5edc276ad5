"""How credentials are recognised (in ENV values, by file paths) and cut out of free text. The rule that
reports them is tested in tests/unit/rules/test_filesystem_rules.py."""

from __future__ import annotations

from layerdiff.text.credential_files import secret_file_kind
from layerdiff.text.secrets import classify_env_secret, redact_text


def test_env_secret_classification() -> None:
    aws = classify_env_secret("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    assert aws is not None and aws.kind == "AWS access key id"
    assert classify_env_secret("AIRFLOW__CORE__FERNET_KEY", "x" * 44) is not None
    assert classify_env_secret("SQL_CONN", "postgresql://airflow:pw@db/airflow") is not None
    for name, value in [
        ("AIRFLOW__SECRETS__BACKEND", "airflow.providers.amazon.aws.secrets.SecretsManagerBackend"),
        ("GPG_KEY", "A035C8C19219BA821ECEA86B64E628F8D684696D"),
        ("DB_PASSWORD_FILE", "/run/secrets/db"),
        ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_SECRET", "sql_alchemy_conn"),
        ("TOKEN_REFRESH_ENABLED", "true"),
        ("GOOGLE_APPLICATION_CREDENTIALS", "/opt/airflow/creds/gcp.json"),
        ("PATH", "/usr/bin:/bin"),
    ]:
        assert classify_env_secret(name, value) is None, name


def test_redaction_of_instructions() -> None:
    text = redact_text(
        "RUN pip install --index-url https://me:hunter2@pypi.example/simple x && TOKEN=abc123 make"
    )
    assert text is not None and "hunter2" not in text and "abc123" not in text
    assert "https://me:<redacted>@pypi.example" in text


def test_secret_file_kinds() -> None:
    assert secret_file_kind("/home/airflow/.docker/config.json") == "docker config (registry auths)"
    assert secret_file_kind("/root/.aws/credentials") == "AWS credentials file"
    assert secret_file_kind("/opt/airflow/gcp-service-account.json") == "GCP service account JSON"
    assert secret_file_kind("/etc/ssl/private/server.key") == "private key"
    assert secret_file_kind("/opt/airflow/config/airflow.cfg") is None
    assert secret_file_kind("/etc/ssh/id_rsa") is None  # an identity only counts inside .ssh
