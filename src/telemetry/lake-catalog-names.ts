/** Names of the lake's Glue database and Athena workgroup, derived from the cluster name alone. */

/** Glue (as Athena reads it) allows lower-case letters, digits and underscores. */
export function glueDatabaseName(cluster: string): string {
  return `${cluster.toLowerCase().replace(/[^a-z0-9_]/g, '_')}_telemetry`.slice(0, 255);
}

export function athenaWorkgroupName(cluster: string): string {
  return `${cluster}-telemetry`;
}

/** Where Athena writes query results in the telemetry bucket. */
export const ATHENA_RESULTS_PREFIX = 'athena-results/';
