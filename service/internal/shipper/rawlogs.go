package shipper

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"time"
)

// rawLine is one line of a logs .json.gz object: the line as written, with where and when.
type rawLine struct {
	TS        time.Time `json:"ts"`
	Source    string    `json:"source"`
	Node      string    `json:"node"`
	Namespace string    `json:"namespace"`
	Pod       string    `json:"pod"`
	Container string    `json:"container"`
	ID        string    `json:"id"`
	Line      string    `json:"line"`
}

// EncodeRawLogs is the rows' raw lines as gzip JSON lines, one object per line.
func EncodeRawLogs(rows []LogRow) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	enc := json.NewEncoder(zw)
	for _, r := range rows {
		if err := enc.Encode(rawLine{TS: r.TS, Source: r.Source, Node: r.Node, Namespace: r.Namespace,
			Pod: r.Pod, Container: r.Container, ID: r.ID, Line: r.Line}); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
