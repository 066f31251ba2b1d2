// Package httpx holds the HTTP plumbing shared by every route: routing, request ids,
// logging, metrics, panic recovery and body limits.
package httpx

import (
	"log/slog"
	"net/http"

	"hybridctl.dev/service/internal/metrics"
)

// Stack is the middleware every route gets.
type Stack struct {
	// Log must already carry the site and node attributes.
	Log     *slog.Logger
	Metrics *metrics.Metrics
	IDs     *IDs
	Site    string
	Node    string
}

// Wrap puts h behind the middleware, labelled route: observing (metrics and the log line)
// outermost so it sees recovered panics, then the request id and site headers, then
// recovery, which needs the id for its answer.
func (s *Stack) Wrap(route string, h http.Handler) http.Handler {
	site, node := []string{s.Site}, []string{s.Node}
	identify := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hd := w.Header()
			hd["X-Site"] = site
			hd["X-Node"] = node
			next.ServeHTTP(w, r)
		})
	}
	log := &requestLog{log: s.Log}
	return withObserve(route, s.Metrics, log, withRequestID(s.IDs, identify(withRecover(s.Log, h))))
}
