package cmf

// Role says who speaks in a turn.
type Role string

// The roles.
const (
	RoleSystem    Role = "system"
	RoleDeveloper Role = "developer"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// Channel classifies a message's output.
type Channel string

// The channels.
const (
	ChannelAnalysis   Channel = "analysis"
	ChannelCommentary Channel = "commentary"
	ChannelFinal      Channel = "final"
)

// ContentType is the tag of a content part.
type ContentType string

// The content types.
const (
	ContentText          ContentType = "text"
	ContentThinking      ContentType = "thinking"
	ContentToolCall      ContentType = "tool_call"
	ContentToolResult    ContentType = "tool_result"
	ContentResource      ContentType = "resource"
	ContentResourceRef   ContentType = "resource_ref"
	ContentPromptRequest ContentType = "prompt_request"
	ContentPromptResult  ContentType = "prompt_result"
	ContentImage         ContentType = "image"
	ContentVideo         ContentType = "video"
	ContentAudio         ContentType = "audio"
	ContentDocument      ContentType = "document"
)

// ResourceType says what a resource is.
type ResourceType string

// The resource types.
const (
	ResourceFile     ResourceType = "file"
	ResourceBlob     ResourceType = "blob"
	ResourceURI      ResourceType = "uri"
	ResourceDatabase ResourceType = "database"
	ResourceAPI      ResourceType = "api"
	ResourceMemory   ResourceType = "memory"
	ResourceArtifact ResourceType = "artifact"
)

// Enum members in declaration order: the order pydantic lists them in an enum error.
var (
	roles         = []string{"system", "developer", "user", "assistant", "tool"}
	channels      = []string{"analysis", "commentary", "final"}
	contentTypes  = []string{"text", "thinking", "tool_call", "tool_result", "resource", "resource_ref", "prompt_request", "prompt_result", "image", "video", "audio", "document"}
	resourceTypes = []string{"file", "blob", "uri", "database", "api", "memory", "artifact"}
	sourceTypes   = []string{"url", "base64"}
)
