"""Who confirms a destructive call: the model, through the `confirm` argument, or a person, through
the client (a 2026-07-28 input-required result carrying a form elicitation), as MCP_CONFIRM says.

Handlers call `require_confirmation` before they change anything; it either lets the call through
(and records how it was confirmed, for the audit line), refuses it, or raises
`PersonConfirmationNeeded`, which the protocol layer turns into the question to the person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.tools.errors import ToolError

ARGUMENT, PERSON, PERSON_ONLY = "argument", "person", "person-only"


class PersonConfirmationNeeded(Exception):
    """Ask the person before anything changes. Not a tool error: tools never catch it."""

    def __init__(self, action: str, target: str) -> None:
        super().__init__(action)
        self.action = action
        """What will happen, for the person: "delete cluster 'pg' in namespace 'db' and …"."""
        self.target = target


@dataclass
class ConfirmationRecord:
    """How this call was confirmed (None: it needed no confirmation). Mutable: filled during the call."""

    how: str | None = None
    """"person" (elicitation answered by the user) or "argument" (the `confirm` argument)."""
    action: str | None = None


@dataclass(frozen=True)
class Confirmation:
    """The confirmation policy of one call, and what the client brought."""

    mode: str = ARGUMENT
    can_elicit: bool = False
    """The client asks people: protocol 2026-07-28 with form elicitation in its capabilities."""
    by_person: bool = False
    """This call repeats one a person accepted (a valid request state came with it)."""
    record: ConfirmationRecord = field(default_factory=ConfirmationRecord, compare=False)

    def require(self, args: dict[str, Any], target: str, action: str) -> None:
        """Let the call through only when confirmed as the mode requires.

        Raises:
            PersonConfirmationNeeded: the person must be asked first.
            ToolError: not confirmed (a wrong `confirm`, or a person is required and cannot be asked).
        """
        if self._confirmed_by_person(target, action, ": this server needs protocol 2026-07-28 with form "
                                     "elicitation declared in the client's capabilities (MCP_CONFIRM=person-only). "
                                     "Use a client that can ask its user."):
            return
        if args.get("confirm") != target:
            raise ToolError(f"To {action}, repeat {target!r} exactly in confirm")
        self.record.how, self.record.action = ARGUMENT, action

    def require_override(self, target: str, action: str) -> None:
        """For a tool whose `force` argument overrides a safety objection: with MCP_CONFIRM=person* the
        person must also allow the override; otherwise `force` itself is the (model's) confirmation.

        Raises:
            PersonConfirmationNeeded, ToolError: as `require`.
        """
        if not self._confirmed_by_person(target, action, " (MCP_CONFIRM=person-only needs protocol 2026-07-28 "
                                         "with form elicitation); leave force unset"):
            self.record.how, self.record.action = ARGUMENT, action

    def _confirmed_by_person(self, target: str, action: str, cannot_ask: str) -> bool:
        """True when a person allowed this call; False when the model's confirmation decides.

        Raises:
            PersonConfirmationNeeded: the person must be asked first.
            ToolError: only a person may confirm (person-only) and this client cannot ask one (`cannot_ask`
                completes the message).
        """
        if self.by_person:
            self.record.how, self.record.action = PERSON, action
            return True
        if self.mode != ARGUMENT and self.can_elicit:
            raise PersonConfirmationNeeded(action, target)
        if self.mode == PERSON_ONLY:
            raise ToolError(f"To {action}, a person must confirm it, and this client cannot ask one{cannot_ask}")
        return False
