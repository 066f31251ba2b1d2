package shipper

import (
	"bufio"
	"context"
	"os"
)

// LogFile reads the service's lines from a file of its stdout (SHIPPER_LOG_FILE), for a
// service run outside Kubernetes (local runs, the integration test); each line's own time
// field decides its window, and the lines go through the same parser as the pod logs'.
type LogFile struct {
	Path   string
	Origin LogOrigin
}

func (f *LogFile) Rows(_ context.Context, w Window) ([]LogRow, error) {
	file, err := os.Open(f.Path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	var rows []LogRow
	scanner := bufio.NewScanner(file)
	scanner.Buffer(make([]byte, 64<<10), 4<<20)
	for scanner.Scan() {
		line := scanner.Text()
		if ts := ServiceLineTime(line); !ts.IsZero() && w.Contains(ts) {
			rows = append(rows, ServiceLogRow(f.Origin, ts, line))
		}
	}
	return rows, scanner.Err()
}
