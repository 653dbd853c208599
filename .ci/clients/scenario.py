"""A developer's first session through the generated Python client: create a team, add a member,
list the team's members, and read a team that does not exist as the typed problem. Any status the
document does not declare raises."""

import os
import uuid

from circulo_api_client import AuthenticatedClient
from circulo_api_client.api.members import create_member, list_members
from circulo_api_client.api.teams import create_team, get_team
from circulo_api_client.models import (
    CreateMember,
    CreateTeam,
    MemberList,
    MemberRole,
    MemberView,
    Problem,
    TeamView,
)

client = AuthenticatedClient(
    base_url=os.environ["CIRCULO_URL"],
    token=os.environ["CIRCULO_TOKEN"],
    raise_on_unexpected_status=True,
)

team = create_team.sync(client=client, body=CreateTeam(name="Front desk"), idempotency_key="py-team")
assert isinstance(team, TeamView), team
retry = create_team.sync_detailed(client=client, body=CreateTeam(name="Front desk"), idempotency_key="py-team")
assert retry.status_code == 201, retry
assert retry.headers.get("idempotent-replayed") == "true", retry.headers
assert isinstance(retry.parsed, TeamView) and retry.parsed.id == team.id, retry.parsed

member = create_member.sync(
    client=client,
    body=CreateMember(display_name="Ana García", role=MemberRole.STAFF, team_id=team.id, strengths=["refunds"]),
)
assert isinstance(member, MemberView), member
assert member.team_id == team.id and member.strengths == ["refunds"], member

page = list_members.sync(client=client, team_id=team.id, limit=10)
assert isinstance(page, MemberList), page
assert [m.id for m in page.items] == [member.id], page
assert page.next_cursor is None, page

missing = get_team.sync(client=client, id=uuid.uuid4())
assert isinstance(missing, Problem), missing
assert missing.status == 404 and missing.title and missing.request_id, missing

print(f"python client: team {team.id}, member {member.id}, 404 as {missing.title!r}")
