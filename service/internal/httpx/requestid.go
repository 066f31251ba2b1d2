package httpx

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"sync/atomic"
)

// HeaderRequestID carries the request id both ways.
const HeaderRequestID = "X-Request-Id"

// IDs makes request ids: a random per-process prefix and a counter, unique across replicas
// without a random read per request.
type IDs struct {
	prefix string
	n      atomic.Uint64
}

// NewIDs makes an id source with a fresh random prefix.
func NewIDs() *IDs {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &IDs{prefix: hex.EncodeToString(b[:]) + "-"}
}

// Next returns a new id.
func (g *IDs) Next() string {
	var buf [32]byte
	b := append(buf[:0], g.prefix...)
	return string(strconv.AppendUint(b, g.n.Add(1), 36))
}

// SaneRequestID reports whether a client's id is fit to echo and log: 1-128 characters from
// [A-Za-z0-9._:-].
func SaneRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// withRequestID sets the X-Request-Id response header before the handler runs, from the
// request's header when sane, else a new id.
func withRequestID(ids *IDs, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := ""
		if v := r.Header[HeaderRequestID]; len(v) == 1 && SaneRequestID(v[0]) {
			id = v[0]
		} else {
			id = ids.Next()
		}
		w.Header()[HeaderRequestID] = []string{id}
		next.ServeHTTP(w, r)
	})
}

// RequestID is the id of the request being answered on w.
func RequestID(w http.ResponseWriter) string {
	if v := w.Header()[HeaderRequestID]; len(v) > 0 {
		return v[0]
	}
	return ""
}
