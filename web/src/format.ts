/** A date as the portal shows it: "Nov 30, 2026, 5:42 PM"; empty when there is none. */
export function formatDate(iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' }) : '';
}
