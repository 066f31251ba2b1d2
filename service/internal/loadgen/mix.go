package loadgen

import (
	"math/rand/v2"
	"strconv"
	"time"
)

// kind is what a request is meant to be, and so what answer it expects.
type kind int

const (
	kindSummary kind = iota
	kindValid
	kindInvalid
	kindCount
)

var kindNames = [kindCount]string{"summary", "valid", "invalid"}

func (k kind) expects(status int) bool {
	switch k {
	case kindSummary:
		return status == 200
	case kindValid:
		return status == 202
	}
	return status >= 400 && status < 500
}

// plan is one request to send.
type plan struct {
	kind        kind
	method      string
	path        string
	contentType string
	body        []byte
}

// mix draws requests in the configured proportions.
type mix struct {
	cfg *Config
	rng *rand.Rand
}

type metricSpec struct {
	name, unit string
	lo, hi     float64
}

var metricSpecs = []metricSpec{
	{"temperature", "C", 15, 30},
	{"humidity", "%", 20, 80},
	{"pressure", "hPa", 980, 1040},
	{"power", "W", 0, 5000},
}

func (m *mix) next() plan {
	r := m.rng.Float64()
	switch {
	case r < m.cfg.SummaryRatio:
		p := plan{kind: kindSummary, method: "GET", path: "/api/readings/summary"}
		if m.rng.IntN(10) == 0 {
			p.path += "?sensor=" + m.sensor()
		}
		return p
	case r < m.cfg.SummaryRatio+m.cfg.InvalidRatio:
		return m.invalid()
	}
	var b []byte
	if m.cfg.Batch > 1 {
		b = append(b, '[')
	}
	for i := range m.cfg.Batch {
		if i > 0 {
			b = append(b, ',')
		}
		b = m.appendReading(b)
	}
	if m.cfg.Batch > 1 {
		b = append(b, ']')
	}
	return plan{kind: kindValid, method: "POST", path: "/api/readings", contentType: "application/json", body: b}
}

func (m *mix) sensor() string {
	return "sensor-" + strconv.Itoa(m.rng.IntN(m.cfg.Sensors))
}

func (m *mix) appendReading(b []byte) []byte {
	spec := metricSpecs[m.rng.IntN(len(metricSpecs))]
	b = append(b, `{"sensor":"`...)
	b = append(b, m.sensor()...)
	b = append(b, `","metric":"`...)
	b = append(b, spec.name...)
	b = append(b, `","value":`...)
	b = strconv.AppendFloat(b, spec.lo+m.rng.Float64()*(spec.hi-spec.lo), 'f', 2, 64)
	b = append(b, `,"unit":"`...)
	b = append(b, spec.unit...)
	b = append(b, '"')
	if m.rng.IntN(4) == 0 {
		b = append(b, `,"ts":"`...)
		b = time.Now().UTC().AppendFormat(b, time.RFC3339)
		b = append(b, '"')
	}
	return append(b, '}')
}

// invalid draws one of the ways a request can be wrong.
func (m *mix) invalid() plan {
	p := plan{kind: kindInvalid, method: "POST", path: "/api/readings", contentType: "application/json"}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	bodies := []string{
		`{"sensor":"Bad Sensor!","metric":"temperature","value":20}`,
		`{"sensor":"sensor-1","metric":"voltage","value":230}`,
		`{"sensor":"sensor-1","metric":"humidity"}`,
		`{"sensor":"sensor-1","metric":"power","value":"high"}`,
		`{"sensor":"sensor-1","metric":"pressure","value":1000,"ts":"` + future + `"}`,
		`{"sensor":"sensor-1","metric":"power","value":1,"unit":"kilowatt-hours-per-day"}`,
		`{"sensor":"sensor-1","metric":"power","value":1,"colour":"red"}`,
		`{"sensor":"sensor-1","metric":`,
		`[]`,
	}
	i := m.rng.IntN(len(bodies) + 1)
	if i == len(bodies) {
		p.contentType = "text/plain"
		p.body = []byte("temperature=20")
		return p
	}
	p.body = []byte(bodies[i])
	return p
}
