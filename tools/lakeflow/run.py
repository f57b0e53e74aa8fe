"""Run a deployed pipeline and watch it; show a source's status."""

from __future__ import annotations

import sys
import time

from databricks.sdk.service.pipelines import UpdateInfoState

from tools.lakeflow.context import DeployContext
from tools.lakeflow.errors import LakeflowError

TERMINAL = {UpdateInfoState.COMPLETED, UpdateInfoState.FAILED, UpdateInfoState.CANCELED}
POLL_SECONDS = 0.25
RUN_TIMEOUT_SECONDS = 3600


def _pipeline_id(ctx: DeployContext) -> str:
    pipeline_id = ctx.source_state.get("pipeline", {}).get("pipeline_id")
    if not pipeline_id:
        raise LakeflowError(
            f"not deployed to target {ctx.target.name!r}; run `doit deploy:{ctx.name}`"
        )
    return str(pipeline_id)


def _update_state(ctx: DeployContext, pipeline_id: str, update_id: str) -> UpdateInfoState:
    update = ctx.client.pipelines.get_update(pipeline_id, update_id).update
    if update is None or update.state is None:
        raise LakeflowError(f"update {update_id}: the workspace reported no state")
    return update.state


def _tables(names: str) -> list[str]:
    return [n.strip() for n in names.split(",") if n.strip()]


def refresh_selection(
    ctx: DeployContext, refresh: str = "", full_refresh_tables: str = ""
) -> dict[str, list[str]]:
    """`--refresh a,b` / `--full-refresh-tables c` as start_update's selections, by destination
    table (a source table name is accepted too). Checked before any call."""
    destinations: dict[str, str] = {}
    for obj in ctx.pipeline.objects:
        table = obj["table"]
        destination = table.get("destination_table") or table["source_table"]
        destinations[table["source_table"]] = destinations[destination] = destination
    selection: dict[str, list[str]] = {}
    for key, option, names in (
        ("refresh_selection", "--refresh", refresh),
        ("full_refresh_selection", "--full-refresh-tables", full_refresh_tables),
    ):
        unknown = [n for n in _tables(names) if n not in destinations]
        if unknown:
            raise LakeflowError(
                f"{option}: unknown table {', '.join(unknown)} (the pipeline has: "
                f"{', '.join(sorted(set(destinations.values())))})",
                file=f"sources/{ctx.name}/pipeline_spec.yaml",
                field="objects",
            )
        if names:
            selection[key] = sorted({destinations[n] for n in _tables(names)})
    both = set(selection.get("refresh_selection", ())) & set(
        selection.get("full_refresh_selection", ())
    )
    if both:
        raise LakeflowError(
            f"{', '.join(sorted(both))}: in both --refresh and --full-refresh-tables"
        )
    return selection


def run_pipeline(
    ctx: DeployContext, full_refresh: bool = False, refresh: str = "", full_refresh_tables: str = ""
) -> str:
    selection = refresh_selection(ctx, refresh, full_refresh_tables)
    if full_refresh and selection:
        raise LakeflowError("--full-refresh refreshes every table; drop the table selection")
    record = ctx.source_state.get("pipeline", {})
    pipeline_id = _pipeline_id(ctx)
    pending = record.get("needs_full_refresh")
    if pending and set(pending) <= set(selection.get("full_refresh_selection", ())):
        full_refresh = True  # the tables that need it are fully refreshed: the pending note clears
    elif pending and not full_refresh:
        raise LakeflowError(
            f"scd_type changed for {', '.join(pending)}; a plain update would mix histories. "
            f"Run `doit run:{ctx.name} --full-refresh`",
            file=f"sources/{ctx.name}/pipeline_spec.yaml",
            field="table_configuration.scd_type",
        )
    update_id = ctx.client.pipelines.start_update(
        pipeline_id,
        full_refresh=full_refresh and not selection,
        refresh_selection=selection.get("refresh_selection"),
        full_refresh_selection=selection.get("full_refresh_selection"),
    ).update_id
    if not update_id:
        raise LakeflowError(f"pipeline {ctx.pipeline_name}: the workspace started no update")
    kind = "full refresh" if full_refresh and not selection else "update"
    chosen = "".join(
        f"; {key.replace('_selection', '').replace('_', ' ')}: {', '.join(tables)}"
        for key, tables in selection.items()
    )
    print(f"pipeline {ctx.pipeline_name}: {kind} {update_id} started{chosen}")
    started, last = time.monotonic(), None
    while True:
        state = _update_state(ctx, pipeline_id, update_id)
        if state != last:
            print(f"  [{time.monotonic() - started:6.1f}s] {state.value}", flush=True)
            last = state
        if state in TERMINAL:
            break
        if time.monotonic() - started > RUN_TIMEOUT_SECONDS:
            raise LakeflowError(
                f"update {update_id} still {state.value} after {RUN_TIMEOUT_SECONDS}s"
            )
        time.sleep(POLL_SECONDS)
    errors = [
        e
        for e in ctx.client.pipelines.list_pipeline_events(pipeline_id, max_results=100)
        if e.level and e.level.value == "ERROR" and e.origin and e.origin.update_id == update_id
    ]
    for event in reversed(errors):
        print(f"  ERROR {event.message}", file=sys.stderr)
    if state != UpdateInfoState.COMPLETED:
        raise LakeflowError(f"pipeline update {update_id} {state.value}")
    if full_refresh and pending:
        record.pop("needs_full_refresh", None)
        ctx.state.save()
    return str(state.value)


def show_status(ctx: DeployContext) -> None:
    record = ctx.source_state
    print(f"source {ctx.name} on target {ctx.target.name} ({ctx.remote_root})")
    print(f"  files deployed: {len(record.get('files', {}))}")
    connection = record.get("connection", {}).get("name", "not deployed")
    print(f"  connection: {connection}")
    pipeline_id = record.get("pipeline", {}).get("pipeline_id")
    if not pipeline_id:
        print("  pipeline: not deployed")
        return
    pipeline = ctx.client.pipelines.get(pipeline_id)
    print(
        f"  pipeline: {pipeline.name} ({pipeline_id}) {pipeline.state.value if pipeline.state else ''}"
    )
    for update in pipeline.latest_updates or []:
        print(f"    update {update.update_id}: {update.state.value if update.state else '?'}")
    if record.get("pipeline", {}).get("needs_full_refresh"):
        print("  needs a full refresh (scd_type changed)")
