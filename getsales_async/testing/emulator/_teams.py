"""The user and team operations: who the API key is, and its team."""

from __future__ import annotations

from collections.abc import Callable

from ._errors import ApiError, not_found
from ._http import (
    Call,
    Reply,
    page_from_query,
    paginate,
)

__all__ = ["HANDLERS"]


def get_current_user(call: Call) -> Reply:
    """``GET /id/api/users/current``."""
    return Reply(200, dict(call.state.users[call.team_id]))


def list_teams(call: Call) -> Reply:
    """``GET /id/api/teams``: the one team the key belongs to."""
    return Reply(200, paginate([call.state.teams[call.team_id]], page_from_query(call.query)))


def get_team(call: Call) -> Reply:
    """``GET /id/api/teams/{id}``: 403 for another team, 404 for an unknown one."""
    try:
        team_id = int(call.params["id"])
    except ValueError:
        raise not_found("Team") from None
    if team_id == call.team_id:
        return Reply(200, dict(call.state.teams[team_id]))
    if team_id in call.state.teams:
        raise ApiError(403, "access_denied", "You are not a member of this team.")
    raise not_found("Team")


HANDLERS: dict[str, Callable[[Call], Reply]] = {
    "getCurrentUser": get_current_user,
    "listTeams": list_teams,
    "getTeam": get_team,
}
