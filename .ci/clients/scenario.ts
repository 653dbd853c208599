// The same first session through openapi-fetch and the generated types. Type-checked under
// `tsc --strict`, then run: a field the document names wrongly fails to compile, a status it
// does not declare fails the run.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Problem = components["schemas"]["Problem"];
type TeamView = components["schemas"]["TeamView"];

const baseUrl = process.env["CIRCULO_URL"];
const token = process.env["CIRCULO_TOKEN"];
if (!baseUrl || !token) throw new Error("CIRCULO_URL and CIRCULO_TOKEN must be set");
const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });

function fail(what: string, detail: unknown): never {
  throw new Error(`${what}: ${JSON.stringify(detail)}`);
}

const created = await client.POST("/v1/teams", {
  body: { name: "Back office" },
  params: { header: { "Idempotency-Key": "ts-team" } },
});
if (created.response.status !== 201 || !created.data) fail("create team", created.error);
const team: TeamView = created.data;

const member = await client.POST("/v1/members", {
  body: { display_name: "Luis Pérez", role: "manager", team_id: team.id, strengths: [] },
});
if (!member.data) fail("create member", member.error);

const page = await client.GET("/v1/members", { params: { query: { team_id: team.id, limit: 10 } } });
if (!page.data) fail("list members", page.error);
const ids: string[] = page.data.items.map((m) => m.id);
if (ids.length !== 1 || ids[0] !== member.data.id) fail("members of the team", ids);

const missing = await client.GET("/v1/teams/{id}", {
  params: { path: { id: "0190b5c4-0000-7000-8000-000000000000" } },
});
const problem: Problem | undefined = missing.error;
if (missing.response.status !== 404 || !problem || problem.status !== 404 || !problem.request_id) {
  fail("missing team", problem);
}
console.log(`typescript client: team ${team.id}, 404 as ${JSON.stringify(problem.title)}`);
