package shipper

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Spool keeps the Talos lines received, one file per window (by time of receipt), until
// the window is shipped: a killed shipper re-ships them from disk after a restart.
type Spool struct {
	dir    string
	length time.Duration
	mu     sync.Mutex
}

// spooled is one line of a spool file.
type spooled struct {
	Received time.Time `json:"received"`
	Remote   string    `json:"remote"`
	Line     string    `json:"line"`
}

// OpenSpool makes dir and ends every spool file with a newline, so that a record cut short
// by a kill does not swallow the next one appended.
func OpenSpool(dir string, length time.Duration) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		if len(body) > 0 && body[len(body)-1] != '\n' {
			if err := appendFile(file, []byte{'\n'}); err != nil {
				return nil, err
			}
		}
	}
	return &Spool{dir: dir, length: length}, nil
}

func (s *Spool) file(w Window) string {
	return filepath.Join(s.dir, strconv.FormatInt(w.Start.Unix(), 10)+".jsonl")
}

// Add appends one received line to its window's file (one write, synced).
func (s *Spool) Add(line, remote string, received time.Time) error {
	record, err := json.Marshal(spooled{Received: received.UTC(), Remote: remote, Line: line})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return appendFile(s.file(WindowAt(received, s.length)), append(record, '\n'))
}

// Rows are the window's Talos rows, in the order received; a damaged record is skipped.
func (s *Spool) Rows(w Window) ([]LogRow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.Open(s.file(w))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []LogRow
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 64<<10), 4<<20)
	for scanner.Scan() {
		var rec spooled
		if json.Unmarshal(scanner.Bytes(), &rec) != nil {
			continue
		}
		row, err := TalosLogRow(rec.Line, rec.Remote, rec.Received)
		if err != nil {
			continue
		}
		rows = append(rows, row)
	}
	return rows, scanner.Err()
}

// Forget removes the files of windows that ended at or before until (shipped).
func (s *Spool) Forget(until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	files, err := filepath.Glob(filepath.Join(s.dir, "*.jsonl"))
	if err != nil {
		return err
	}
	for _, file := range files {
		start, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(file), ".jsonl"), 10, 64)
		if err != nil {
			continue
		}
		if !time.Unix(start, 0).Add(s.length).After(until) {
			if err := os.Remove(file); err != nil {
				return fmt.Errorf("spool: %w", err)
			}
		}
	}
	return nil
}

func appendFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
