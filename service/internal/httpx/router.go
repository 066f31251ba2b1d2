package httpx

import (
	"net/http"
	"slices"
	"strings"
)

// RouteOther is the route label of paths no route matches.
const RouteOther = "other"

// Router dispatches exact paths to their route's handler and the rest to a 404 handler.
type Router struct {
	routes map[string]http.Handler
	other  http.Handler
}

// NewRouter makes a router whose unknown paths get notFound.
func NewRouter(notFound http.Handler) *Router {
	return &Router{routes: map[string]http.Handler{}, other: notFound}
}

// Handle serves path with h.
func (rt *Router) Handle(path string, h http.Handler) { rt.routes[path] = h }

func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := rt.routes[r.URL.Path]; ok {
		h.ServeHTTP(w, r)
		return
	}
	rt.other.ServeHTTP(w, r)
}

// Methods serves each method with its handler (a GET handler also serves HEAD) and answers
// other methods 405 with an Allow header.
type Methods map[string]http.Handler

func (m Methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, ok := m[r.Method]
	if !ok && r.Method == http.MethodHead {
		h, ok = m[http.MethodGet]
	}
	if !ok {
		allow := m.allowed()
		w.Header()["Allow"] = []string{allow}
		WriteError(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed here; use "+allow)
		return
	}
	h.ServeHTTP(w, r)
}

func (m Methods) allowed() string {
	names := make([]string, 0, len(m)+1)
	for k := range m {
		names = append(names, k)
		if k == http.MethodGet {
			names = append(names, http.MethodHead)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// NotFound answers 404 naming the path.
func NotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, "no route for "+truncate(r.URL.Path, 128))
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
