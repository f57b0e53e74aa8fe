"""Plans as data: `doit plan:<s> --json` writes one, `doit deploy:<s> --plan FILE` applies it.

The document lists every file and resource with its action and, for settings, the fields that
change (old and new; connection options only as `***`, their values are secrets). It carries two
fingerprints: of the inputs (every staged file, the specs, targets.yaml, the wheel, the salted hash
of the connection options) and of the remote state the plan read (per resource). Applying a plan
recomputes both: if either moved, deploy refuses and names what moved; if neither did, the fresh
plan is the saved one, so applying it applies exactly what was reviewed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.lakeflow import connection, core, project, stage
from tools.lakeflow.errors import LakeflowError
from tools.lakeflow.sync import sha256

if TYPE_CHECKING:
    from tools.lakeflow.context import DeployContext

FORMAT = 1
MASK = "***"


def _digest(value: Any) -> str:
    data = (
        value
        if isinstance(value, bytes)
        else json.dumps(value, sort_keys=True, default=str).encode()
    )
    return hashlib.sha256(data).hexdigest()


def input_hashes(ctx: DeployContext, mode: str) -> dict[str, str]:
    """Every local input of the deploy, by name: what a reviewed plan was computed from."""
    root = ctx.root
    files = {
        f"stage/{rel}": sha256(path) for rel, path in stage.staged_files(ctx.name, root).items()
    }
    source = project.source_dir(ctx.name, root)
    for path in (
        source / "connector_spec.yaml",
        source / "pipeline_spec.yaml",
        root / "targets.yaml",
    ):
        if path.is_file():
            files[path.relative_to(root).as_posix()] = sha256(path)
    if mode == "managed":
        from tools.lakeflow import wheel

        built = wheel.wheel_path(ctx.name, root)
        files[f"wheel/{built.name}"] = sha256(built)
    files["connection options"] = connection.options_hash(ctx.options, ctx.state.salt)
    files["mode"] = _digest(mode)
    return dict(sorted(files.items()))


def _live_settings(live: Any) -> Any:
    """What of a live object the plan depends on: a pipeline's spec, not its run state."""
    if isinstance(live, dict):
        for key in ("spec", "settings"):
            if key in live:
                return live[key]
    return live


def remote_hashes(changes: list[core.Change]) -> dict[str, str]:
    return {f"{c.kind} {c.name}": _digest([c.action, _live_settings(c.live)]) for c in changes}


def changed_fields(change: core.Change) -> dict[str, dict[str, Any]]:
    """Top-level settings that differ between live and desired (old, new); options masked."""
    if change.kind == "connection":
        return {"options": {"old": MASK, "new": MASK}} if change.action == "update" else {}
    old = _live_settings(change.live)
    new = change.desired
    if not isinstance(new, dict) or change.action == "delete":
        return {}
    old = old if isinstance(old, dict) else {}
    return {
        key: {"old": old.get(key), "new": new.get(key)}
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key) and key != "id"
    }


def document(ctx: DeployContext, mode: str, changes: list[core.Change]) -> dict[str, Any]:
    inputs = input_hashes(ctx, mode)
    remote = remote_hashes(changes)
    return {
        "format": FORMAT,
        "source": ctx.name,
        "target": ctx.target.name,
        "mode": mode,
        "changes": [
            {
                "kind": c.kind,
                "name": c.name,
                "action": c.action,
                **({"reason": c.reason} if c.reason else {}),
                **({"fields": changed_fields(c)} if changed_fields(c) else {}),
            }
            for c in changes
        ],
        "summary": core.count(changes),
        "inputs": {"fingerprint": _digest(inputs), "items": inputs},
        "remote": {"fingerprint": _digest(remote), "items": remote},
    }


def _moved(saved: dict[str, str], now: dict[str, str]) -> list[str]:
    return sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))


def load(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise LakeflowError(f"cannot read the plan: {error}", file=path) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise LakeflowError(f"not a plan of format {FORMAT}", file=path, field="format")
    return data


def check_unchanged(saved: dict[str, Any], current: dict[str, Any], path: str) -> None:
    """Refuse, naming what moved, unless the saved plan is what a plan would say now."""
    for key in ("source", "target"):
        if saved.get(key) != current[key]:
            raise LakeflowError(
                f"the plan is for {key} {saved.get(key)!r}, not {current[key]!r}",
                file=path,
                field=key,
            )
    for part, what in (("inputs", "inputs"), ("remote", "remote state")):
        moved = _moved(saved[part]["items"], current[part]["items"])
        if moved:
            raise LakeflowError(
                f"{what} changed since the plan was made: {', '.join(moved)}; make a new plan",
                file=path,
                field=part,
            )
