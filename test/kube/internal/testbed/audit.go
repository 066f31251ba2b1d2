package testbed

import "os"

// auditPolicy logs every request once, when its response is complete, at level Metadata.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
`

func writeAuditPolicy(p paths) error {
	return os.WriteFile(p.auditPolicy, []byte(auditPolicy), 0o644)
}
