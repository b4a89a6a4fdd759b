"""Pydantic's validation errors in Chinese: a person reads "年度：不能小于 2000", never pydantic's English text nor a
field's machine name. The machine name stays in `field` for API clients; the wording here depends only on the
error's `type` and its `ctx`, which pydantic keeps stable across versions (its `msg` is not)."""

import re
from collections.abc import Mapping, Sequence
from typing import Any

from core import labels

# Where FastAPI says an input came from; not part of the field's name.
_SOURCES = frozenset({"body", "query", "path", "form", "header", "cookie"})
GENERIC_FIELD = "该字段"
_CJK = re.compile(r"[\u3400-\u9fff]")

# The patterns our schemas use, said in words (the regex itself means nothing to a person).
PATTERN_HINTS: dict[str, str] = {
    r"^[A-Za-z0-9-]+$": "只能由字母、数字和“-”组成",
    r"^[a-z][a-z0-9_]*$": "只能由小写字母、数字和下划线组成，且以字母开头",
    r"^\d{12}$": "须为 12 位数字",
}

_DATE = "须为日期，格式如 2026-01-31"
_DATETIME = "须为日期时间，格式如 2026-01-31 08:00"
_NUMBER = "须为数字"
_SHAPE = "格式不正确"
_CHOICE = "不是可选的取值"

# pydantic-core error type -> message; `{name}` takes the error's ctx.
MESSAGES: dict[str, str] = {
    "missing": "必须填写",
    "missing_argument": "必须填写",
    "extra_forbidden": "不接受该字段",
    "unexpected_keyword_argument": "不接受该字段",
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "int_from_float": "须为整数",
    "int_parsing_size": "数值超出范围",
    "float_parsing": _NUMBER,
    "float_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "decimal_type": _NUMBER,
    "decimal_max_digits": "最多 {max_digits} 位数字",
    "decimal_max_places": "最多 {decimal_places} 位小数",
    "decimal_whole_digits": "整数部分最多 {whole_digits} 位",
    "finite_number": "须为有限的数值",
    "greater_than": "须大于 {gt}",
    "greater_than_equal": "不能小于 {ge}",
    "less_than": "须小于 {lt}",
    "less_than_equal": "不能大于 {le}",
    "multiple_of": "须为 {multiple_of} 的倍数",
    "string_type": "须为文字",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "string_pattern_mismatch": _SHAPE,
    "string_unicode": "含有无法识别的字符",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "list_type": "须为列表",
    "tuple_type": "须为列表",
    "set_type": "须为列表",
    "dict_type": _SHAPE,
    "model_type": _SHAPE,
    "model_attributes_type": _SHAPE,
    "dataclass_type": _SHAPE,
    "date_parsing": _DATE,
    "date_type": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "date_future": "须为将来的日期",
    "date_past": "须为过去的日期",
    "datetime_parsing": _DATETIME,
    "datetime_type": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "time_parsing": "须为时间，格式如 08:00",
    "literal_error": _CHOICE,
    "enum": _CHOICE,
    "bool_parsing": "须为“是”或“否”",
    "bool_type": "须为“是”或“否”",
    "json_invalid": "请求内容格式不正确，无法读取",
    "json_type": "请求内容格式不正确，无法读取",
    "url_parsing": _SHAPE,
    "url_type": _SHAPE,
    "uuid_parsing": _SHAPE,
    "uuid_type": _SHAPE,
    "bytes_type": _SHAPE,
    "none_required": "须为空",
}
FALLBACK = "取值无效"


def field_path(loc: Sequence[int | str]) -> str:
    """The machine name API clients get (`year`, `objects.0.ear_tags`): the location without FastAPI's source."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    return ".".join(str(part) for part in parts)


def field_label(loc: Sequence[int | str]) -> str:
    """The field as a person names it: `年度`, `保险标的第 1 项的耳标号`; a part with no Chinese label is left out,
    and a field whose own name has none is `该字段`, never its machine name."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    named = [p for p in parts if isinstance(p, str) and labels.has(labels.FIELD, p)]
    last_name = next((p for p in reversed(parts) if isinstance(p, str)), None)
    if last_name is None or not labels.has(labels.FIELD, last_name):
        return GENERIC_FIELD
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"第 {part + 1} 项" if text else ""
        elif part in named:
            text += f"的{labels.label(labels.FIELD, part)}" if text else labels.label(labels.FIELD, part)
    return text


def _own_message(error: Mapping[str, Any]) -> str:
    """A validator of ours raises ValueError with a Chinese message; anything else (a library's English) is not
    shown."""
    ctx = error.get("ctx") or {}
    text = str(ctx.get("error") or error.get("msg") or "")
    text = text.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return text if _CJK.search(text) else FALLBACK


def _ctx_value(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def error_text(error: Mapping[str, Any]) -> str:
    """What is wrong with the value, in Chinese, without the field's name."""
    kind = str(error.get("type", ""))
    if kind in ("value_error", "assertion_error"):
        return _own_message(error)
    ctx = error.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        return PATTERN_HINTS.get(str(ctx.get("pattern", "")), _SHAPE)
    template = MESSAGES.get(kind)
    if template is None:
        return FALLBACK
    try:
        return template.format(**{key: _ctx_value(value) for key, value in ctx.items()})
    except (KeyError, IndexError):
        return FALLBACK


def message(error: Mapping[str, Any]) -> str:
    """`年度：不能小于 2000`; a message of ours that already names the field ("用户名须为...") is left as it is."""
    name, text = field_label(error.get("loc", ())), error_text(error)
    return text if name != GENERIC_FIELD and text.startswith(name) else f"{name}：{text}"


def describe(errors: Sequence[Mapping[str, Any]]) -> dict[str, object]:
    """The body of a 422: `code` and the first error's `field` for machines, a Chinese `message`, and every error as
    `{field, message, type}`."""
    items = [
        {"field": field_path(e.get("loc", ())), "message": message(e), "type": str(e.get("type", ""))} for e in errors
    ]
    if not items:
        return {"code": "invalid", "message": "提交的内容有误", "field": "", "errors": []}
    first = items[0]
    summary = str(first["message"])
    if len(items) > 1:
        summary += f"（另有 {len(items) - 1} 处错误）"
    return {"code": "invalid", "message": summary, "field": first["field"], "errors": items}
