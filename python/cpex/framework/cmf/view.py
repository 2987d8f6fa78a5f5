"""``MessageView``: one content part of a ``Message`` seen through a uniform, read-only
interface (kind, direction, action, uri, name, content, args, context from extensions),
so a policy can be written once for text, tool calls, resources, prompts and media.

A view holds references, never copies: building one costs a small object, and reading a
property computes it from the part, the message role and the extensions on demand.
"""

from __future__ import annotations

import json
import logging
import re
from enum import Enum
from types import MappingProxyType
from typing import Any, Iterator, Mapping, Optional

from cpex.framework.cmf.message import ContentPart, ContentType, Message, Resource, Role
from cpex.framework.extensions.security import DataPolicy, ObjectSecurityProfile, SubjectExtension

logger = logging.getLogger(__name__)


class ViewKind(str, Enum):
    """The kind of part a view shows (one per ``ContentType``)."""

    TEXT = "text"
    THINKING = "thinking"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    RESOURCE = "resource"
    RESOURCE_REF = "resource_ref"
    PROMPT_REQUEST = "prompt_request"
    PROMPT_RESULT = "prompt_result"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"


class ViewAction(str, Enum):
    """What the part does, for action-based rules."""

    READ = "read"
    WRITE = "write"
    EXECUTE = "execute"
    INVOKE = "invoke"
    SEND = "send"
    RECEIVE = "receive"
    GENERATE = "generate"


_KIND_OF = {ct: ViewKind(ct.value) for ct in ContentType}

# Kinds whose action does not depend on who speaks.
_FIXED_ACTION = {
    ViewKind.TOOL_CALL: ViewAction.EXECUTE,
    ViewKind.TOOL_RESULT: ViewAction.RECEIVE,
    ViewKind.RESOURCE: ViewAction.READ,
    ViewKind.RESOURCE_REF: ViewAction.READ,
    ViewKind.PROMPT_REQUEST: ViewAction.INVOKE,
    ViewKind.PROMPT_RESULT: ViewAction.RECEIVE,
}
_REQUEST_KINDS = frozenset({ViewKind.TOOL_CALL, ViewKind.PROMPT_REQUEST, ViewKind.RESOURCE_REF})
_RESPONSE_KINDS = frozenset({ViewKind.TOOL_RESULT, ViewKind.PROMPT_RESULT, ViewKind.RESOURCE})
_TEXT_KINDS = frozenset({ViewKind.TEXT, ViewKind.THINKING})
_MEDIA_KINDS = frozenset({ViewKind.IMAGE, ViewKind.VIDEO, ViewKind.AUDIO, ViewKind.DOCUMENT})
_INBOUND_ROLES = frozenset({Role.USER, Role.SYSTEM, Role.DEVELOPER})
_OUTBOUND_ROLES = frozenset({Role.ASSISTANT, Role.TOOL})
# Never copied into to_dict()'s context: they carry credentials.
_SECRET_HEADERS = frozenset({"authorization", "cookie", "x-api-key"})


def _as_json_text(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return str(value)


class MessageView:
    """A read-only view of one content part of a message."""

    __slots__ = ("_part", "_kind", "_message", "_extensions", "_hook")

    def __init__(
        self,
        part: ContentPart,
        kind: ViewKind,
        message: Message,
        hook: Optional[str] = None,
        extensions: Any = None,
    ) -> None:
        self._part = part
        self._kind = kind
        self._message = message
        self._extensions = extensions
        self._hook = hook

    # --- the part ------------------------------------------------------------

    @property
    def _inner(self) -> Any:
        # Text parts carry their text themselves; the others wrap a domain object.
        return self._part if self._kind in _TEXT_KINDS else self._part.content  # type: ignore[attr-defined]

    @property
    def kind(self) -> ViewKind:
        return self._kind

    @property
    def role(self) -> Role:
        return self._message.role

    @property
    def hook(self) -> Optional[str]:
        return self._hook

    @property
    def raw(self) -> ContentPart:
        return self._part

    @property
    def content(self) -> Optional[str]:
        """The part's text for scanning: text, resource content, JSON of arguments or results."""
        inner, kind = self._inner, self._kind
        if kind in _TEXT_KINDS:
            return inner.text
        if kind in (ViewKind.RESOURCE, ViewKind.PROMPT_RESULT):
            return inner.content
        if kind in (ViewKind.TOOL_CALL, ViewKind.PROMPT_REQUEST):
            return _as_json_text(inner.arguments)
        if kind == ViewKind.TOOL_RESULT:
            value = inner.content
            if value is None or isinstance(value, str):
                return value
            return _as_json_text(value)
        return None

    @property
    def uri(self) -> Optional[str]:
        """The resource URI, or a synthetic one: tool://ns/name, prompt://server/name..."""
        inner, kind = self._inner, self._kind
        if kind in (ViewKind.RESOURCE, ViewKind.RESOURCE_REF):
            return inner.uri
        if kind == ViewKind.TOOL_CALL:
            return f"tool://{inner.namespace or '_'}/{inner.name}"
        if kind == ViewKind.TOOL_RESULT:
            return f"tool_result://{inner.tool_name}"
        if kind == ViewKind.PROMPT_REQUEST:
            return f"prompt://{inner.server_id or '_'}/{inner.name}"
        if kind == ViewKind.PROMPT_RESULT:
            return f"prompt_result://{inner.prompt_name}"
        return None

    @property
    def name(self) -> Optional[str]:
        inner, kind = self._inner, self._kind
        if kind in (ViewKind.TOOL_CALL, ViewKind.PROMPT_REQUEST, ViewKind.RESOURCE, ViewKind.RESOURCE_REF):
            return inner.name
        if kind == ViewKind.TOOL_RESULT:
            return inner.tool_name
        if kind == ViewKind.PROMPT_RESULT:
            return inner.prompt_name
        return None

    @property
    def action(self) -> ViewAction:
        fixed = _FIXED_ACTION.get(self._kind)
        if fixed is not None:
            return fixed
        role = self._message.role
        if role == Role.ASSISTANT:
            return ViewAction.GENERATE
        if role == Role.TOOL:
            return ViewAction.RECEIVE
        return ViewAction.SEND

    @property
    def args(self) -> Optional[dict[str, Any]]:
        if self._kind in (ViewKind.TOOL_CALL, ViewKind.PROMPT_REQUEST):
            return self._inner.arguments
        return None

    @property
    def mime_type(self) -> Optional[str]:
        if self._kind == ViewKind.RESOURCE:
            return self._inner.mime_type
        if self._kind in _MEDIA_KINDS:
            return self._inner.media_type
        return None

    @property
    def size_bytes(self) -> Optional[int]:
        """Declared size of a resource, else the UTF-8 length of its content or blob, else of ``content``."""
        if self._kind == ViewKind.RESOURCE:
            res: Resource = self._inner
            if res.size_bytes is not None:
                return res.size_bytes
            if res.content:
                return len(res.content.encode("utf-8"))
            if res.blob:
                return len(res.blob)
            return None
        text = self.content
        return None if text is None else len(text.encode("utf-8"))

    def _props(self) -> dict[str, Any]:
        inner, kind = self._inner, self._kind
        if kind == ViewKind.RESOURCE:
            return {"resource_type": inner.resource_type.value, "version": inner.version, "annotations": inner.annotations}
        if kind == ViewKind.TOOL_CALL:
            return {"namespace": inner.namespace, "tool_id": inner.tool_call_id}
        if kind == ViewKind.TOOL_RESULT:
            return {"is_error": inner.is_error, "tool_name": inner.tool_name}
        if kind == ViewKind.PROMPT_REQUEST:
            return {"server_id": inner.server_id}
        if kind == ViewKind.PROMPT_RESULT:
            return {"is_error": inner.is_error, "message_count": len(inner.messages) if inner.messages else 0}
        return {}

    @property
    def properties(self) -> dict[str, Any]:
        """Kind-specific extras (resource_type, tool_id, is_error, message_count...)."""
        return self._props()

    def get_property(self, name: str, default: Any = None) -> Any:
        return self._props().get(name, default)

    # --- direction and category ---------------------------------------------

    @property
    def is_pre(self) -> bool:
        """A request on its way out (tool call, prompt request, resource ref, or user-side text)."""
        if self._kind in _REQUEST_KINDS:
            return True
        if self._kind in _RESPONSE_KINDS:
            return False
        return self._message.role in _INBOUND_ROLES

    @property
    def is_post(self) -> bool:
        """A response coming back (results, resources, or assistant/tool-side text)."""
        if self._kind in _RESPONSE_KINDS:
            return True
        if self._kind in _REQUEST_KINDS:
            return False
        return self._message.role in _OUTBOUND_ROLES

    @property
    def is_tool(self) -> bool:
        return self._kind in (ViewKind.TOOL_CALL, ViewKind.TOOL_RESULT)

    @property
    def is_prompt(self) -> bool:
        return self._kind in (ViewKind.PROMPT_REQUEST, ViewKind.PROMPT_RESULT)

    @property
    def is_resource(self) -> bool:
        return self._kind in (ViewKind.RESOURCE, ViewKind.RESOURCE_REF)

    @property
    def is_text(self) -> bool:
        return self._kind in _TEXT_KINDS

    @property
    def is_media(self) -> bool:
        return self._kind in _MEDIA_KINDS

    # --- context from the extensions -----------------------------------------

    def _section(self, name: str) -> Any:
        ext = self._extensions
        return getattr(ext, name, None) if ext else None

    @property
    def environment(self) -> Optional[str]:
        req = self._section("request")
        return req.environment if req else None

    @property
    def request_id(self) -> Optional[str]:
        req = self._section("request")
        return req.request_id if req else None

    @property
    def subject(self) -> Optional[SubjectExtension]:
        sec = self._section("security")
        return sec.subject if sec else None

    @property
    def roles(self) -> frozenset[str]:
        s = self.subject
        return s.roles if s else frozenset()

    @property
    def permissions(self) -> frozenset[str]:
        s = self.subject
        return s.permissions if s else frozenset()

    @property
    def teams(self) -> frozenset[str]:
        s = self.subject
        return s.teams if s else frozenset()

    @property
    def headers(self) -> Mapping[str, str]:
        http = self._section("http")
        return MappingProxyType(http.headers if http else {})

    @property
    def labels(self) -> frozenset[str]:
        sec = self._section("security")
        return sec.labels if sec else frozenset()

    def _agent(self, attr: str) -> Any:
        agent = self._section("agent")
        return getattr(agent, attr) if agent else None

    @property
    def agent_input(self) -> Optional[str]:
        return self._agent("input")

    @property
    def session_id(self) -> Optional[str]:
        return self._agent("session_id")

    @property
    def conversation_id(self) -> Optional[str]:
        return self._agent("conversation_id")

    @property
    def turn(self) -> Optional[int]:
        return self._agent("turn")

    @property
    def agent_id(self) -> Optional[str]:
        return self._agent("agent_id")

    @property
    def parent_agent_id(self) -> Optional[str]:
        return self._agent("parent_agent_id")

    @property
    def object(self) -> Optional[ObjectSecurityProfile]:
        """The security profile the extensions hold for this part's name."""
        sec, name = self._section("security"), self.name
        return sec.objects.get(name) if sec and name else None

    @property
    def data_policy(self) -> Optional[DataPolicy]:
        """The data policy the extensions hold for this part's name."""
        sec, name = self._section("security"), self.name
        return sec.data.get(name) if sec and name else None

    # --- predicates ----------------------------------------------------------

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def has_permission(self, perm: str) -> bool:
        return perm in self.permissions

    def has_label(self, label: str) -> bool:
        return label in self.labels

    def has_header(self, name: str) -> bool:
        return self.get_header(name) is not None

    def get_header(self, name: str, default: Optional[str] = None) -> Optional[str]:
        """Header value by case-insensitive name."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return default

    def get_arg(self, name: str, default: Any = None) -> Any:
        args = self.args
        return default if args is None else args.get(name, default)

    def has_arg(self, name: str) -> bool:
        args = self.args
        return args is not None and name in args

    def matches_uri_pattern(self, pattern: str) -> bool:
        """Glob match of ``uri``: ``*`` stays within one path segment, ``**`` crosses them."""
        uri = self.uri
        if not uri:
            return False
        spans = ["[^/]*".join(re.escape(s) for s in chunk.split("*")) for chunk in pattern.split("**")]
        return re.match("^" + ".*".join(spans) + "$", uri) is not None

    def has_content(self) -> bool:
        return self.content is not None

    # --- serialisation -------------------------------------------------------

    def to_dict(self, include_content: bool = True, include_context: bool = True) -> dict[str, Any]:
        """A JSON-ready description of the view (the input of an external policy engine).

        Empty or absent values are left out; credential headers never appear.
        """
        out: dict[str, Any] = {
            "kind": self._kind.value,
            "role": self._message.role.value,
            "is_pre": self.is_pre,
            "is_post": self.is_post,
            "action": self.action.value,
        }
        if self._hook is not None:
            out["hook"] = self._hook
        if self.uri:
            out["uri"] = self.uri
        if self.name:
            out["name"] = self.name
        if include_content:
            text = self.content
            if text is not None:
                out["content"] = text
                out["size_bytes"] = len(text.encode("utf-8"))
            elif (size := self.size_bytes) is not None:
                out["size_bytes"] = size
        if self.mime_type:
            out["mime_type"] = self.mime_type
        if (args := self.args) is not None:
            out["arguments"] = args
        if props := self.properties:
            out["properties"] = props
        if include_context and (ctx := self._context_dict()):
            out["extensions"] = ctx
        return out

    def _context_dict(self) -> dict[str, Any]:
        ctx: dict[str, Any] = {}
        if s := self.subject:
            ctx["subject"] = {
                "id": s.id,
                "type": s.type.value,
                "roles": sorted(s.roles),
                "permissions": sorted(s.permissions),
                "teams": sorted(s.teams),
            }
        if env := self.environment:
            ctx["environment"] = env
        if labels := self.labels:
            ctx["labels"] = sorted(labels)
        if safe := {k: v for k, v in self.headers.items() if k.lower() not in _SECRET_HEADERS}:
            ctx["headers"] = safe
        if obj := self.object:
            ctx["object"] = {
                "managed_by": obj.managed_by,
                "permissions": obj.permissions,
                "trust_domain": obj.trust_domain,
                "data_scope": obj.data_scope,
            }
        if dp := self.data_policy:
            data: dict[str, Any] = {"apply_labels": dp.apply_labels, "denied_actions": dp.denied_actions}
            if dp.allowed_actions is not None:
                data["allowed_actions"] = dp.allowed_actions
            if r := dp.retention:
                data["retention"] = {"max_age_seconds": r.max_age_seconds, "policy": r.policy, "delete_after": r.delete_after}
            ctx["data"] = data
        agent = self._section("agent")
        if agent:
            info: dict[str, Any] = {}
            for attr in ("input", "session_id", "conversation_id"):
                if value := getattr(agent, attr):
                    info[attr] = value
            if agent.turn is not None:
                info["turn"] = agent.turn
            for attr in ("agent_id", "parent_agent_id"):
                if value := getattr(agent, attr):
                    info[attr] = value
            if info:
                ctx["agent"] = info
        return ctx

    def to_opa_input(self, include_content: bool = True) -> dict[str, Any]:
        """``to_dict()`` wrapped as an OPA Data API request body."""
        return {"input": self.to_dict(include_content=include_content)}

    def __repr__(self) -> str:
        direction = "pre" if self.is_pre else "post" if self.is_post else "?"
        uri = f", uri={self.uri}" if self.uri else ""
        hook = f", hook={self._hook}" if self._hook else ""
        return f"MessageView(kind={self._kind.value}, role={self._message.role.value}, {direction}{uri}{hook})"


def iter_views(message: Message, hook: Optional[str] = None, extensions: Any = None) -> Iterator[MessageView]:
    """Yield a ``MessageView`` for each content part of ``message``, in order."""
    for part in message.content:
        kind = _KIND_OF.get(part.content_type)
        if kind is None:
            logger.warning("Unknown content type %r in iter_views", part.content_type)
            raise ValueError(f"Unknown content type: {part.content_type!r}")
        yield MessageView(part, kind, message, hook=hook, extensions=extensions)
