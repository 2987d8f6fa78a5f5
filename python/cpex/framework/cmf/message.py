"""CMF message models: enums, domain objects, content parts and ``Message``.

Wire shape (pinned by tests/py/cmf goldens produced by upstream cpex 0.1.4): every model
is frozen; content parts carry a ``content_type`` tag that selects the concrete class when
a dict is validated; ``Message`` rejects unknown keys while the nested models ignore them.
The domain objects (``ToolCall``, ``ImageSource``...) stand alone; the ``*ContentPart``
classes wrap them under ``content``.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Iterator, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from cpex.framework.extensions.extensions import Extensions

if TYPE_CHECKING:
    from cpex.framework.cmf.view import MessageView


class Role(str, Enum):
    """Who speaks in a turn."""

    SYSTEM = "system"
    DEVELOPER = "developer"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class Channel(str, Enum):
    """What kind of output a message is, so pipelines can route without reading it."""

    ANALYSIS = "analysis"
    COMMENTARY = "commentary"
    FINAL = "final"


class ContentType(str, Enum):
    """The tag of each content-part class."""

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


class ResourceType(str, Enum):
    """What a resource is."""

    FILE = "file"
    BLOB = "blob"
    URI = "uri"
    DATABASE = "database"
    API = "api"
    MEMORY = "memory"
    ARTIFACT = "artifact"


_FROZEN = ConfigDict(frozen=True)

# --- domain objects ---------------------------------------------------------------


class ToolCall(BaseModel):
    """A request to run a tool."""

    model_config = _FROZEN

    tool_call_id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    namespace: Optional[str] = None


class ToolResult(BaseModel):
    """What a tool run returned (any JSON value), correlated by ``tool_call_id``."""

    model_config = _FROZEN

    tool_call_id: str
    tool_name: str
    content: Any = None
    is_error: bool = False


class Resource(BaseModel):
    """A resource with its text (``content``) or bytes (``blob``) embedded, never both."""

    model_config = _FROZEN

    resource_request_id: str
    uri: str
    name: Optional[str] = None
    description: Optional[str] = None
    resource_type: ResourceType
    content: Optional[str] = None
    blob: Optional[bytes] = None
    mime_type: Optional[str] = None
    size_bytes: Optional[int] = None
    annotations: dict[str, Any] = Field(default_factory=dict)
    version: Optional[str] = None

    @model_validator(mode="after")
    def _content_or_blob(self) -> Resource:
        if self.content is not None and self.blob is not None:
            raise ValueError("Resource cannot have both 'content' and 'blob' set")
        return self


class ResourceReference(BaseModel):
    """A pointer to (part of) a resource, without its content."""

    model_config = _FROZEN

    resource_request_id: str
    uri: str
    name: Optional[str] = None
    resource_type: ResourceType
    range_start: Optional[int] = None
    range_end: Optional[int] = None
    selector: Optional[str] = None

    @model_validator(mode="after")
    def _ordered_range(self) -> ResourceReference:
        start, end = self.range_start, self.range_end
        if start is not None and end is not None and end < start:
            raise ValueError(f"range_end ({end}) must be >= range_start ({start})")
        return self


class PromptRequest(BaseModel):
    """A request to render a prompt template."""

    model_config = _FROZEN

    prompt_request_id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    server_id: Optional[str] = None


class PromptResult(BaseModel):
    """A rendered prompt: messages, or one text ``content``, or an error."""

    model_config = _FROZEN

    prompt_request_id: str
    prompt_name: str
    messages: list[Message] = Field(default_factory=list)
    content: Optional[str] = None
    is_error: bool = False
    error_message: Optional[str] = None


_SourceKind = Literal["url", "base64"]


class ImageSource(BaseModel):
    """An image by URL or inline base64."""

    model_config = _FROZEN

    type: _SourceKind
    data: str
    media_type: Optional[str] = None


class VideoSource(BaseModel):
    """A video by URL or inline base64."""

    model_config = _FROZEN

    type: _SourceKind
    data: str
    media_type: Optional[str] = None
    duration_ms: Optional[int] = None


class AudioSource(BaseModel):
    """An audio clip by URL or inline base64."""

    model_config = _FROZEN

    type: _SourceKind
    data: str
    media_type: Optional[str] = None
    duration_ms: Optional[int] = None


class DocumentSource(BaseModel):
    """A document (PDF, Word...) by URL or inline base64."""

    model_config = _FROZEN

    type: _SourceKind
    data: str
    media_type: Optional[str] = None
    title: Optional[str] = None


# --- content parts ----------------------------------------------------------------


class ContentPart(BaseModel):
    """Base of every content part; ``content_type`` is the union tag."""

    model_config = _FROZEN

    content_type: ContentType


class TextContent(ContentPart):
    """Plain text."""

    content_type: Literal[ContentType.TEXT] = ContentType.TEXT
    text: str


class ThinkingContent(ContentPart):
    """Reasoning text."""

    content_type: Literal[ContentType.THINKING] = ContentType.THINKING
    text: str


class ToolCallContentPart(ContentPart):
    """A ``ToolCall`` inside a message."""

    content_type: Literal[ContentType.TOOL_CALL] = ContentType.TOOL_CALL
    content: ToolCall


class ToolResultContentPart(ContentPart):
    """A ``ToolResult`` inside a message."""

    content_type: Literal[ContentType.TOOL_RESULT] = ContentType.TOOL_RESULT
    content: ToolResult


class ResourceContentPart(ContentPart):
    """A ``Resource`` inside a message."""

    content_type: Literal[ContentType.RESOURCE] = ContentType.RESOURCE
    content: Resource


class ResourceRefContentPart(ContentPart):
    """A ``ResourceReference`` inside a message."""

    content_type: Literal[ContentType.RESOURCE_REF] = ContentType.RESOURCE_REF
    content: ResourceReference


class PromptRequestContentPart(ContentPart):
    """A ``PromptRequest`` inside a message."""

    content_type: Literal[ContentType.PROMPT_REQUEST] = ContentType.PROMPT_REQUEST
    content: PromptRequest


class PromptResultContentPart(ContentPart):
    """A ``PromptResult`` inside a message."""

    content_type: Literal[ContentType.PROMPT_RESULT] = ContentType.PROMPT_RESULT
    content: PromptResult


class ImageContentPart(ContentPart):
    """An ``ImageSource`` inside a message."""

    content_type: Literal[ContentType.IMAGE] = ContentType.IMAGE
    content: ImageSource


class VideoContentPart(ContentPart):
    """A ``VideoSource`` inside a message."""

    content_type: Literal[ContentType.VIDEO] = ContentType.VIDEO
    content: VideoSource


class AudioContentPart(ContentPart):
    """An ``AudioSource`` inside a message."""

    content_type: Literal[ContentType.AUDIO] = ContentType.AUDIO
    content: AudioSource


class DocumentContentPart(ContentPart):
    """A ``DocumentSource`` inside a message."""

    content_type: Literal[ContentType.DOCUMENT] = ContentType.DOCUMENT
    content: DocumentSource


def _content_type_discriminator(v: Any) -> Any:
    # A dict names its class with content_type (required: there is no default class);
    # a model instance with its enum. A wrong tag then fails as pydantic's union_tag_invalid.
    if isinstance(v, dict):
        tag = v.get("content_type")
        if tag is None:
            raise ValueError("Missing 'content_type' discriminator in content part dict")
        return tag
    if not hasattr(v, "content_type"):
        raise ValueError(f"Content part {type(v).__name__} missing 'content_type' attribute")
    return v.content_type.value


ContentPartUnion = Annotated[
    Union[
        Annotated[TextContent, Tag("text")],
        Annotated[ThinkingContent, Tag("thinking")],
        Annotated[ToolCallContentPart, Tag("tool_call")],
        Annotated[ToolResultContentPart, Tag("tool_result")],
        Annotated[ResourceContentPart, Tag("resource")],
        Annotated[ResourceRefContentPart, Tag("resource_ref")],
        Annotated[PromptRequestContentPart, Tag("prompt_request")],
        Annotated[PromptResultContentPart, Tag("prompt_result")],
        Annotated[ImageContentPart, Tag("image")],
        Annotated[VideoContentPart, Tag("video")],
        Annotated[AudioContentPart, Tag("audio")],
        Annotated[DocumentContentPart, Tag("document")],
    ],
    Discriminator(_content_type_discriminator),
]
"""Any content part, chosen by its ``content_type``."""


class Message(BaseModel):
    """One conversation turn: a role, typed content parts and an optional channel.

    This is the storage and wire form; policy code reads it through ``iter_views()``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: str = "2.0"
    role: Role
    content: list[ContentPartUnion] = Field(default_factory=list)
    channel: Optional[Channel] = None

    def iter_views(self, hook: Optional[str] = None, extensions: Optional[Extensions] = None) -> Iterator[MessageView]:
        """One ``MessageView`` per content part, tagged with ``hook`` and ``extensions``."""
        from cpex.framework.cmf.view import iter_views  # the view module imports this one

        return iter_views(self, hook=hook, extensions=extensions)


PromptResult.model_rebuild()
