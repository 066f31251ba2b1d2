package shipper

import "time"

// Window is the half-open interval [Start, End) a shipper ships at once.
type Window struct{ Start, End time.Time }

// WindowAt is the window of this length that holds t, aligned to multiples of the length
// since the Unix epoch, so every shipper and every restart cuts time at the same places.
func WindowAt(t time.Time, length time.Duration) Window {
	start := time.Unix(0, t.UnixNano()-t.UnixNano()%int64(length)).UTC()
	return Window{Start: start, End: start.Add(length)}
}

// Next is the window right after w.
func (w Window) Next() Window {
	return Window{Start: w.End, End: w.End.Add(w.End.Sub(w.Start))}
}

// Contains reports whether t is in [Start, End).
func (w Window) Contains(t time.Time) bool {
	return !t.Before(w.Start) && t.Before(w.End)
}

// Complete reports whether w may be shipped at now: it ended at least lag ago, so the
// sources (Prometheus's scrapes, the kubelet's log files) hold all of it.
func (w Window) Complete(now time.Time, lag time.Duration) bool {
	return !w.End.Add(lag).After(now)
}

// DueWindows are the complete windows from `from` on, oldest first.
func DueWindows(from Window, now time.Time, lag time.Duration) []Window {
	var due []Window
	for w := from; w.Complete(now, lag); w = w.Next() {
		due = append(due, w)
	}
	return due
}
