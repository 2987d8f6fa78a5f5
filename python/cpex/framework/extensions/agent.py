"""The ``agent`` slot: the agent run a request belongs to (immutable, needs read_agent)."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field

# Upper bound on the conversation history carried in the slot, so that a long
# conversation cannot make every hook call carry an unbounded payload.
MAX_CONVERSATION_HISTORY = 100


class ConversationContext(BaseModel):
    """A bounded view of the conversation so far."""

    model_config = ConfigDict(frozen=True)

    history: list[BaseModel] = Field(default_factory=list, max_length=MAX_CONVERSATION_HISTORY)
    summary: Optional[str] = None
    topics: list[str] = Field(default_factory=list)


class AgentExtension(BaseModel):
    """Identity of the agent, its session and the current turn."""

    model_config = ConfigDict(frozen=True)

    input: Optional[str] = None
    session_id: Optional[str] = None
    conversation_id: Optional[str] = None
    turn: Optional[int] = None
    agent_id: Optional[str] = None
    parent_agent_id: Optional[str] = None
    conversation: Optional[ConversationContext] = None
