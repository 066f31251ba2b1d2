import { stringify } from 'yaml';

/**
 * YAML for files other tools read (kubeconfig, talosconfig, secrets): no anchors or aliases,
 * which `yaml` writes for an object used twice and which kubectl and Talos's own encoders never
 * write; no line folding.
 */
export function toYaml(value: unknown): string {
  return stringify(value, { aliasDuplicateObjects: false, lineWidth: 0 });
}
