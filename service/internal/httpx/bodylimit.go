package httpx

import (
	"errors"
	"fmt"
	"net/http"
)

// LimitBody refuses a declared body over limit at once (413) and caps the rest while read,
// so the handler's read fails with an error IsTooLarge recognises. refused, if not nil, is
// called for each early refusal.
func LimitBody(limit int64, refused func(), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			if refused != nil {
				refused()
			}
			WriteError(w, http.StatusRequestEntityTooLarge, TooLargeMessage(limit))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

// TooLargeMessage says what limit a body broke.
func TooLargeMessage(limit int64) string {
	return fmt.Sprintf("body is larger than %d bytes", limit)
}

// IsTooLarge reports whether a body read failed on the limit.
func IsTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
