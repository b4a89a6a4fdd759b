"""Every input a request can carry has a Chinese name (core.labels, namespace FIELD), so a validation error names it
as a person would ("年度：不能小于 2000") rather than falling back to "该字段". Walks the routers of every api.py and
pages.py (the pages are not in the OpenAPI schema) and the fields of their request models, nested ones included."""

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter

import insurance.wiring  # noqa: F401 - registers insurance's field labels
from core import labels

ROOT = Path(__file__).resolve().parents[2]
ROUTE_MODULES = sorted(
    [
        *ROOT.glob("insurance/*/api.py"),
        *ROOT.glob("insurance/*/pages.py"),
        *ROOT.glob("insurance/*/pages/*.py"),
        *ROOT.glob("claims/**/api.py"),
        *ROOT.glob("claims/**/pages.py"),
        ROOT / "core/web.py",
    ]
)


def _routes() -> Iterator[APIRoute]:
    for path in ROUTE_MODULES:
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for value in vars(module).values():
            if isinstance(value, APIRouter):
                yield from (r for r in value.routes if isinstance(r, APIRoute))


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _property_names(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        yield from schema.get("properties", {})
        for value in schema.values():
            yield from _property_names(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _property_names(value)


def request_fields() -> dict[str, str]:
    """{field name: one route that takes it}: path, query and form parameters by name, JSON bodies by their models'
    fields (a body model's own parameter name is not part of an error's location)."""
    found: dict[str, str] = {}
    for route in _routes():
        for dependant in _dependants(route.dependant):
            for param in [*dependant.path_params, *dependant.query_params, *dependant.body_params]:
                annotation = param.field_info.annotation
                is_model = any(
                    isinstance(t, type) and issubclass(t, BaseModel) for t in (annotation, *get_args(annotation))
                )
                names = set(_property_names(TypeAdapter(annotation).json_schema()))
                if not is_model:
                    names.add(param.alias)
                for name in names:
                    found.setdefault(name, f"{sorted(route.methods)[0]} {route.path}")
    return found


def test_every_request_field_and_parameter_has_a_chinese_label() -> None:
    fields = request_fields()
    assert {"year", "policy_no", "objects", "ear_tags", "county_code", "username", "posted_on"} <= fields.keys()
    missing = {name: fields[name] for name in labels.missing(labels.FIELD, fields)}
    assert missing == {}
