"""Managed ingestion pipelines (`ingestion_definition`, source_type COMMUNITY): what an update checks.

A real update installs `environment.dependencies` and lets the runtime register the wheel's data
source; here the update fails with the first things that would go wrong there: the connection is
missing or not COMMUNITY, the registration flag is off, a wheel is missing from its volume, is not
a wheel (zip, dist-info METADATA matching its file name, RECORD hashes — what pip verifies on
install), or registers no data source (no `lakeflow_connect.sources` entry point whose module
defines the function it names), or the objects name no table or a missing destination schema.
"""

from __future__ import annotations

import ast
import base64
import configparser
import csv
import hashlib
import io
import zipfile

REGISTER_FLAG = "pipelines.managedIngestion.registerPythonDataSource"
ENTRY_POINT_GROUP = "lakeflow_connect.sources"


def _record_problems(archive: zipfile.ZipFile, dist_info: str) -> list[str]:
    """RECORD lists every file with its urlsafe-base64 sha256, as pip checks on install."""
    try:
        rows = list(csv.reader(io.StringIO(archive.read(f"{dist_info}/RECORD").decode())))
    except KeyError:
        return [f"{dist_info}/RECORD is missing"]
    listed = {row[0]: row[1] for row in rows if row}
    problems = []
    for name in archive.namelist():
        if name == f"{dist_info}/RECORD":
            continue
        digest = listed.get(name)
        actual = (
            "sha256="
            + base64.urlsafe_b64encode(hashlib.sha256(archive.read(name)).digest())
            .rstrip(b"=")
            .decode()
        )
        if digest != actual:
            problems.append(f"{name}: hash does not match RECORD")
    return problems


def check_wheel(path: str, content: bytes) -> list[str]:
    """Problems installing the wheel and registering its data source (empty: it would work)."""
    file_name = path.rsplit("/", 1)[-1]
    parts = file_name[: -len(".whl")].split("-") if file_name.endswith(".whl") else []
    if len(parts) < 5:
        return [f"{path}: not a wheel file name (<name>-<version>-<py>-<abi>-<platform>.whl)"]
    dist_info = f"{parts[0]}-{parts[1]}.dist-info"
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        return [f"{path}: not a zip archive"]
    with archive:
        names = set(archive.namelist())
        if f"{dist_info}/METADATA" not in names:
            return [f"{path}: {dist_info}/METADATA is missing"]
        problems = _record_problems(archive, dist_info)
        entry_points = configparser.ConfigParser(delimiters=("=",))
        entry_points.optionxform = str  # keep names as written
        if f"{dist_info}/entry_points.txt" in names:
            entry_points.read_string(archive.read(f"{dist_info}/entry_points.txt").decode())
        if not entry_points.has_section(ENTRY_POINT_GROUP):
            return [*problems, f"{path}: no {ENTRY_POINT_GROUP} entry point registers a source"]
        for name, target in entry_points.items(ENTRY_POINT_GROUP):
            module, _, function = target.strip().partition(":")
            base = module.replace(".", "/")
            found = next((m for m in (f"{base}/__init__.py", f"{base}.py") if m in names), None)
            if found is None:
                problems.append(
                    f"{path}: entry point {name} names module {module}, not in the wheel"
                )
                continue
            try:
                tree = ast.parse(archive.read(found), filename=found)
            except SyntaxError as error:
                problems.append(f"{path}: {found}:{error.lineno}: {error.msg}")
                continue
            if not any(isinstance(n, ast.FunctionDef) and n.name == function for n in tree.body):
                problems.append(f"{path}: {found} does not define {function}(spark)")
    return problems


def validate_ingestion(state, store, spec: dict) -> list[str]:
    """What an update of a managed ingestion pipeline would trip over first."""
    definition = spec["ingestion_definition"]
    problems = []
    name = definition.get("connection_name")
    connection = state["connections"].get(name or "")
    if connection is None:
        problems.append(f"connection {name!r} does not exist")
    elif (
        connection["connection_type"] != "COMMUNITY"
        and definition.get("source_type") == "COMMUNITY"
    ):
        problems.append(f"connection {name} is {connection['connection_type']}, not COMMUNITY")
    if (spec.get("configuration") or {}).get(REGISTER_FLAG) != "true":
        problems.append(f'configuration {REGISTER_FLAG} is not "true": no data source registered')
    dependencies = (spec.get("environment") or {}).get("dependencies") or []
    if not dependencies:
        problems.append("environment.dependencies is empty: no connector wheel to install")
    for dependency in dependencies:
        stored = state["files"].get(dependency)
        if stored is None:
            problems.append(f"{dependency} does not exist")
            continue
        problems += check_wheel(dependency, store.blob(stored["blob"]))
    objects = definition.get("objects") or []
    if not objects:
        problems.append("ingestion_definition.objects is empty")
    for index, obj in enumerate(objects):
        table = obj.get("table") or {}
        if not table.get("source_table"):
            problems.append(f"ingestion_definition.objects[{index}].table.source_table is missing")
        schema = f"{table.get('destination_catalog')}.{table.get('destination_schema')}"
        if schema not in state["schemas"]:
            problems.append(f"objects[{index}]: destination schema {schema} does not exist")
    return problems
