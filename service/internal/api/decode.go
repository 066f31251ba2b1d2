package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// MaxBatch is the most readings one request may carry.
const MaxBatch = 500

// rawReading is a reading as sent; nil fields were absent or null.
type rawReading struct {
	Sensor *string  `json:"sensor"`
	Metric *string  `json:"metric"`
	Value  *float64 `json:"value"`
	Unit   *string  `json:"unit"`
	TS     *string  `json:"ts"`
}

// inputError is a refused request body: what to tell the client and what to count.
type inputError struct {
	reason   string
	msg      string
	readings int // how many readings it refuses; 0 counts as one
}

// decodeBody reads one reading object or an array of up to MaxBatch of them.
func decodeBody(body []byte) (raws []rawReading, batch bool, _ *inputError) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, false, &inputError{reason: ReasonInvalidJSON, msg: "body is empty; send a reading object or an array of them"}
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	switch trimmed[0] {
	case '{':
		var r rawReading
		if err := dec.Decode(&r); err != nil {
			return nil, false, jsonError(err, "")
		}
		raws = []rawReading{r}
	case '[':
		_, _ = dec.Token()
		for i := 0; dec.More(); i++ {
			if i == MaxBatch {
				return nil, true, &inputError{reason: ReasonBatchTooLarge, msg: fmt.Sprintf("batch has more than %d readings", MaxBatch)}
			}
			var r rawReading
			if err := dec.Decode(&r); err != nil {
				return nil, true, jsonError(err, elemPath(i))
			}
			raws = append(raws, r)
		}
		if _, err := dec.Token(); err != nil {
			return nil, true, jsonError(err, "")
		}
		if len(raws) == 0 {
			return nil, true, &inputError{reason: ReasonInvalidJSON, msg: "batch is empty"}
		}
		batch = true
	default:
		return nil, false, &inputError{reason: ReasonInvalidJSON, msg: "body must be a JSON object (one reading) or an array of them"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, batch, &inputError{reason: ReasonInvalidJSON, msg: "body has data after its JSON value"}
	}
	return raws, batch, nil
}

func elemPath(i int) string { return "readings[" + strconv.Itoa(i) + "]" }

// jsonError names the field a decoding error is about; path is the array element, if any.
func jsonError(err error, path string) *inputError {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			where := "body"
			if path != "" {
				where = path
			}
			return &inputError{reason: ReasonInvalidJSON, msg: where + " must be a JSON object"}
		}
		field := fieldPath(path, typeErr.Field)
		switch typeErr.Field {
		case "value":
			return &inputError{reason: ReasonInvalidValue, msg: field + " must be a finite number"}
		case "sensor", "metric", "unit", "ts":
			return &inputError{reason: "invalid_" + typeErr.Field, msg: field + " must be a string"}
		}
		return &inputError{reason: ReasonInvalidJSON, msg: field + " has the wrong type"}
	case errors.As(err, &syntaxErr):
		return &inputError{reason: ReasonInvalidJSON, msg: fmt.Sprintf("body is not valid JSON: %s (at byte %d)", syntaxErr.Error(), syntaxErr.Offset)}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &inputError{reason: ReasonInvalidJSON, msg: "body is not valid JSON: it ends too soon"}
	}
	// encoding/json has no error type for unknown fields; its message is `json: unknown field "x"`.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		where := "body"
		if path != "" {
			where = path
		}
		return &inputError{reason: ReasonUnknownField, msg: where + " has an unknown field " + name + "; the fields are sensor, metric, value, unit and ts"}
	}
	return &inputError{reason: ReasonInvalidJSON, msg: "body is not valid JSON: " + strings.TrimPrefix(err.Error(), "json: ")}
}

func fieldPath(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}
