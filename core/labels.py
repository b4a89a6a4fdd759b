"""One table of the Chinese labels of every code a person may read: pages, exports and PDFs look codes up here, so
no raw code (`policy_issued`, `login`, `household_no`) reaches a user. Each package registers its own namespaces
(core here, insurance through insurance.wiring, claims likewise); a test checks that every code in use has one."""

from collections.abc import Iterable, Mapping
from enum import Enum

# The namespaces every package shares; a package may add its own.
ROLE = "role"
AUDIT_ACTION = "audit_action"
ENTITY = "entity"  # what an audit record is about (`policy`, `user`, ...)
FIELD = "field"  # a field's name in forms, validation errors and exports
DOCUMENT_KIND = "document_kind"
DOCUMENT_STATUS = "document_status"
DOCUMENT_REASON = "document_reason"  # why a document was asked for (`policy_issued`, `notice_posted`)
ACTOR = "actor"  # the system's own actors in the audit log (`system:cli`)
TOKEN_KIND = "token_kind"  # noqa: S105 - a namespace's name, not a secret

_TABLE: dict[str, dict[str, str]] = {}
# Which namespace a recorded value is a code of: by `entity.field` (`user.kind`), else by `field` (`role`).
_VALUES: dict[str, str] = {}


def _key(code: object) -> str:
    return str(code.value) if isinstance(code, Enum) else str(code)


def register(namespace: str, labels: Mapping[object, str]) -> None:
    """Adds (or replaces) labels; registering the same table twice is harmless, so modules may be re-imported."""
    _TABLE.setdefault(namespace, {}).update({_key(code): text for code, text in labels.items()})


def label(namespace: str, code: object) -> str:
    """The Chinese label of a code; an empty code is empty. An unknown code comes back as itself (a test keeps
    that from happening for the codes in use) rather than failing the page that shows it."""
    if code is None or code == "":
        return ""
    return _TABLE.get(namespace, {}).get(_key(code), _key(code))


def has(namespace: str, code: object) -> bool:
    return _key(code) in _TABLE.get(namespace, {})


def table(namespace: str) -> dict[str, str]:
    """A copy of one namespace, for a select box or an export's legend."""
    return dict(_TABLE.get(namespace, {}))


def register_values(fields: Mapping[str, str]) -> None:
    """Says which namespace a field's values are codes of (`{"role": ROLE}`, or `{"user.kind": TOKEN_KIND}` for one
    entity), so the audit log shows 县扶贫办 where the record holds `county_office`."""
    _VALUES.update(fields)


def value_namespace(entity_type: str, field: str) -> str | None:
    return _VALUES.get(f"{entity_type}.{field}") or _VALUES.get(field)


def missing(namespace: str, codes: Iterable[object]) -> list[str]:
    return sorted({_key(c) for c in codes} - set(_TABLE.get(namespace, {})))


register(
    AUDIT_ACTION,
    {
        "create": "新建",
        "update": "修改",
        "seed": "初始化",
        "login": "登录",
        "login_failed": "登录失败",
        "logout": "退出登录",
        "disable": "停用",
        "enable": "启用",
        "reset_password": "重置密码",
        "change_password": "修改密码",
    },
)
register(ENTITY, {"user": "用户"})
register(ACTOR, {"system:cli": "系统（命令行）", "system:seed": "系统（初始化）", "system:demo": "系统（演示数据）"})
register(TOKEN_KIND, {"session": "网页登录", "api": "接口令牌"})
register_values({"role": ROLE, "user.kind": TOKEN_KIND})
register(
    FIELD,
    {
        "username": "用户名",
        "password": "密码",
        "display_name": "姓名",
        "role": "角色",
        "county_code": "所属县",
        "insurer_id": "保险公司",
        "limit": "每页条数",
        "user_id": "用户",
        "user": "操作人",
        "done": "操作结果",
        "offset": "起始位置",
        "next": "登录后前往的页面",
        "grant_type": "授权方式",
        "scope": "授权范围",
        "client_id": "客户端标识",
        "client_secret": "客户端密钥",
        "entity_type": "对象类型",
        "document_id": "文档",
        "is_active": "是否启用",
        "kind": "类型",
        "sessions_revoked": "注销的登录数",
        "generated": "系统生成密码",
        "new_password": "新密码",
        "current_password": "当前密码",
        "confirm_password": "确认新密码",
        "actor": "操作人",
        "action": "操作",
        "entity_id": "对象编号",
        "date_from": "开始日期",
        "date_to": "结束日期",
        "created": "新建数",
    },
)
