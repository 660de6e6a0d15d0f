/** A small organisation in Backstage's format: teams, and users with the teams they are members of. */
export function orgYaml(teams: string[], members: Record<string, string[]> = {}): string {
  const groups = teams.map((t) => `apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: { name: ${t} }\nspec: { type: team, children: [] }\n`);
  const users = Object.entries(members).map(([u, of]) => `apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: { name: ${u} }\nspec: { memberOf: [${of.join(', ')}] }\n`);
  return [...groups, ...users].join('---\n');
}
