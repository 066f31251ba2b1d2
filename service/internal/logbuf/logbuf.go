// Package logbuf batches log lines so that a busy server makes one write system call per
// batch instead of one per request line.
package logbuf

import (
	"io"
	"sync"
	"time"
)

// Writer buffers whole writes (slog writes one record per call) and writes them out when the
// buffer would overflow, every flush interval, and on Close. A line waits at most one interval.
type Writer struct {
	mu   sync.Mutex
	out  io.Writer
	buf  []byte
	size int
	stop chan struct{}
	done chan struct{}
}

// New buffers up to size bytes for out, flushing at least every interval.
func New(out io.Writer, size int, interval time.Duration) *Writer {
	w := &Writer{out: out, buf: make([]byte, 0, size), size: size, stop: make(chan struct{}), done: make(chan struct{})}
	go w.flushEvery(interval)
	return w
}

// Write never fails: logging must not fail a request, so write errors are dropped.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf)+len(p) > w.size {
		w.flushLocked()
	}
	if len(p) > w.size {
		_, _ = w.out.Write(p)
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// Flush writes out what is buffered.
func (w *Writer) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushLocked()
}

func (w *Writer) flushLocked() {
	if len(w.buf) > 0 {
		_, _ = w.out.Write(w.buf)
		w.buf = w.buf[:0]
	}
}

// Close stops the timer and flushes; later writes still reach out through the buffer only
// when it fills, so Close last.
func (w *Writer) Close() error {
	close(w.stop)
	<-w.done
	w.Flush()
	return nil
}

func (w *Writer) flushEvery(interval time.Duration) {
	defer close(w.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.Flush()
		}
	}
}
