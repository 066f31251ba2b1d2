package shipper

import (
	"encoding/json"
	"fmt"
	"time"
)

// TalosLogRow turns one line Talos sent (machine.logging.destinations, format json_lines:
// a JSON object with msg, talos-level, talos-service and talos-time always present, plus the
// service's own fields and the destination's extraTags) into a row. The Talos service
// (machined, etcd, kubelet, …) goes in container; the node is the line's "node" or
// "hostname" tag when the machine config adds one, else the sender's address. A line
// without a usable talos-time takes the time it was received.
func TalosLogRow(line string, remote string, received time.Time) (LogRow, error) {
	var fields map[string]any
	if err := json.Unmarshal([]byte(line), &fields); err != nil {
		return LogRow{}, fmt.Errorf("not a JSON object: %w", err)
	}
	text := func(key string) string {
		s, _ := fields[key].(string)
		return s
	}
	ts := received.UTC()
	if t, err := time.Parse(time.RFC3339Nano, text("talos-time")); err == nil {
		ts = t.UTC()
	}
	node := remote
	for _, key := range []string{"node", "hostname"} {
		if v := text(key); v != "" {
			node = v
			break
		}
	}
	row := LogRow{TS: ts, Source: "talos", Node: node, Container: text("talos-service"),
		Level: text("talos-level"), Msg: text("msg"), Line: line}
	row.ID = LogID(row)
	return row, nil
}
