"""Which connector options hold secrets, so none is ever written into a preset's static options,
a CSV's table options or a generated notebook: they belong in `secret_mappings`, read at run time
from a secret scope.

An option is secret when connector_spec.yaml marks it `secret: true`, or when its name says so:
one of its words is secret, password or passwd, its last word is token, or it ends in api_key /
apikey (`access_token`, `client_secret`, `secret_key`, `sf_api_key`; not `token_url`).
"""

from __future__ import annotations

import re
from pathlib import Path

from tools.lakeflow import project, specs

SECRET_WORDS = {"secret", "password", "passwd"}
WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def looks_secret(name: str) -> bool:
    words = [w.lower() for w in WORD.findall(name)]
    if not words:
        return False
    return (
        bool(SECRET_WORDS & set(words)) or words[-1] == "token" or "".join(words).endswith("apikey")
    )


def secret_parameters(connector: str, root: Path = project.REPO_ROOT) -> set[str]:
    """The options connector_spec.yaml marks secret (none when the connector has no spec)."""
    if not (project.source_dir(connector, root) / "connector_spec.yaml").is_file():
        return set()
    return {p.name for p in specs.load_connector_spec(connector, root).parameters if p.secret}


def hint(option: str) -> str:
    return (
        f"{option!r} holds a secret and would be written into the generated notebook; "
        f'move it to connector_config.secret_mappings ("{option}": ["<secret key>"]) and '
        "store the value in the secret scope"
    )
