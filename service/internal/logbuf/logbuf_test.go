package logbuf

import (
	"strings"
	"sync"
	"testing"
	"time"
)

type recorder struct {
	mu     sync.Mutex
	writes []string
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.writes...)
}

func TestBatchesWholeLines(t *testing.T) {
	var out recorder
	w := New(&out, 10, time.Hour)
	for _, l := range []string{"aaaa\n", "bbbb\n", "cccc\n"} {
		_, _ = w.Write([]byte(l))
	}
	if got := out.all(); len(got) != 1 || got[0] != "aaaa\nbbbb\n" {
		t.Fatalf("writes %q", got)
	}
	_, _ = w.Write([]byte(strings.Repeat("x", 20) + "\n")) // larger than the buffer: straight through
	_ = w.Close()
	if got := out.all(); len(got) != 3 || got[1] != "cccc\n" || len(got[2]) != 21 {
		t.Fatalf("writes %q", got)
	}
}

func TestFlushesOnTime(t *testing.T) {
	var out recorder
	w := New(&out, 1<<16, 10*time.Millisecond)
	defer w.Close()
	_, _ = w.Write([]byte("line\n"))
	deadline := time.Now().Add(2 * time.Second)
	for len(out.all()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("never flushed")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConcurrentWritesKeepLinesWhole(t *testing.T) {
	var out recorder
	w := New(&out, 100, time.Millisecond)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for range 500 {
				_, _ = w.Write([]byte(strings.Repeat(string(rune('a'+g)), 9) + "\n"))
			}
		})
	}
	wg.Wait()
	_ = w.Close()
	lines := strings.Split(strings.TrimSuffix(strings.Join(out.all(), ""), "\n"), "\n")
	if len(lines) != 2000 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		if len(l) != 9 || strings.Count(l, l[:1]) != 9 {
			t.Fatalf("torn line %q", l)
		}
	}
}
