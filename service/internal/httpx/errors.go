package httpx

import (
	"encoding/json"
	"net/http"
	"strconv"
)

type errorBody struct {
	Error     string `json:"error"`
	RequestID string `json:"requestId"`
}

// WriteError answers status with {"error": msg, "requestId": ...}.
func WriteError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(errorBody{Error: msg, RequestID: RequestID(w)})
	WriteJSON(w, status, append(b, '\n'))
}

// WriteJSON answers status with an already encoded JSON body.
func WriteJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

var jsonContentType = []string{"application/json"}
