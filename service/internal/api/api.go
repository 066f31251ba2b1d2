// Package api holds the service's HTTP handlers and wires them to their routes.
package api

import (
	"net/http"
	"time"

	"hybridctl.dev/service/internal/httpx"
	"hybridctl.dev/service/internal/metrics"
	"hybridctl.dev/service/internal/store"
)

// Route templates; they are also the route label of metrics and logs.
const (
	RouteReadings = "/api/readings"
	RouteSummary  = "/api/readings/summary"
	RouteHealthz  = "/healthz"
	RouteReadyz   = "/readyz"
	RouteMetrics  = "/metrics"
)

// Options are what the handlers need.
type Options struct {
	Site, Node   string
	MaxBodyBytes int64
	Store        *store.Store
	Metrics      *metrics.Metrics
	// Ready reports readiness; false while draining.
	Ready func() bool
	// Now is the clock; it must be the store's clock too.
	Now func() time.Time
}

// API is the service's handlers.
type API struct {
	opts    Options
	summary *summaryCache
}

// New makes the handlers.
func New(o Options) *API {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Ready == nil {
		o.Ready = func() bool { return true }
	}
	return &API{opts: o, summary: newSummaryCache(o.Store, o.Now, o.Site, o.Node)}
}

// Handler routes every request through the middleware stack to its handler.
func (a *API) Handler(stack *httpx.Stack) http.Handler {
	rt := httpx.NewRouter(stack.Wrap(httpx.RouteOther, httpx.NotFound()))
	tooLarge := func() { a.opts.Metrics.Rejected(ReasonTooLarge, 1) }
	handle := func(route string, m httpx.Methods) { rt.Handle(route, stack.Wrap(route, m)) }
	handle(RouteReadings, httpx.Methods{
		http.MethodPost: httpx.LimitBody(a.opts.MaxBodyBytes, tooLarge, http.HandlerFunc(a.ingest)),
	})
	handle(RouteSummary, httpx.Methods{http.MethodGet: http.HandlerFunc(a.getSummary)})
	handle(RouteHealthz, httpx.Methods{http.MethodGet: http.HandlerFunc(healthz)})
	handle(RouteReadyz, httpx.Methods{http.MethodGet: http.HandlerFunc(a.readyz)})
	handle(RouteMetrics, httpx.Methods{http.MethodGet: a.opts.Metrics.Handler()})
	return rt
}
